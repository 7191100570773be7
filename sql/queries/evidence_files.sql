-- question: Which evidence files back a run, with their SHA-256 (check them with `keyaudit verify`)?
-- param run_id (run, optional): the run to look at; default the latest run
with evidence as (
    select * from evidence_files_for($run_id, null)
),

final as (
    select
        account_id,
        path,
        kind,
        bytes,
        sha256,
        fetched_at,
    from evidence
)

select * from final
order by path
