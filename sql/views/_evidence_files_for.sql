-- evidence_files_for(wanted_run_id, wanted_account_ids): the evidence files of one run (NULL:
-- the latest) with their SHA-256: the run-level ones (account_id NULL: discovery, the manifest)
-- and those of the given accounts (NULL: every account). Called by the saved query
-- evidence_files and by the report's evidence appendix (sql/report/evidence_files.sql).
create or replace macro evidence_files_for(wanted_run_id, wanted_account_ids) as table
with evidence as (
    select *
    from evidence
    where run_id = ka_run_id(wanted_run_id)
        and (account_id is null or ka_in_accounts(account_id, wanted_account_ids))
),

final as (
    select
        run_id,
        account_id,
        path,
        kind,
        sha256,
        bytes,
        fetched_at
    from evidence
)

select * from final
