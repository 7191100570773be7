-- The files handed in for a files-source run (`keyaudit run --source files --files DIR`), one
-- row per entry of the folder (input_files_for; every account's: the report's provenance lists
-- the whole folder). Empty for runs collected from AWS or the demo.
with input_files as (
    select * from input_files_for($run_id, null)
),

final as (
    select
        file_name,
        kind,
        status,
        account_id,
        account_from,
        sha256,
        bytes,
        evidence_path,
        reason,
    from input_files
)

select * from final order by file_name
