-- input_files_for(wanted_run_id, wanted_account_ids): the files handed in for a files-source run
-- (NULL: the latest run), one row per entry of the folder with its hash, the account it was
-- attributed to and how, and what became of it: the files no account could be determined for
-- (account_id NULL) and those of the given accounts (NULL: every account). Empty for runs
-- collected from AWS or the demo. Called by the saved query input_files and by the report's
-- provenance (sql/report/input_files.sql).
create or replace macro input_files_for(wanted_run_id, wanted_account_ids) as table
with input_files as (
    select *
    from input_files
    where run_id = ka_run_id(wanted_run_id)
        and (account_id is null or ka_in_accounts(account_id, wanted_account_ids))
),

final as (
    select
        run_id,
        file_name,
        kind,
        status,
        account_id,
        account_from,
        sha256,
        bytes,
        modified_at,
        evidence_path,
        reason
    from input_files
)

select * from final
