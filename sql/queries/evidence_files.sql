-- question: Which evidence files back a run, with their SHA-256 (check them with `keyaudit verify`)?
-- param run_id (run, optional): the run to look at; default the latest run
with evidence as (
    select * from evidence
),

chosen_run as (
    select run_id, manifest_sha256 from ka_run($run_id)
),

final as (
    select
        evidence.account_id,
        evidence.path,
        evidence.kind,
        evidence.bytes,
        evidence.sha256,
        evidence.fetched_at,
    from evidence
    inner join chosen_run using (run_id)
)

select * from final
order by path
