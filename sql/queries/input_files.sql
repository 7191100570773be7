-- question: For a run audited from files, which files were handed in, with their SHA-256, and what became of each?
-- param run_id (run, optional): the run to look at; default the latest run
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
        modified_at,
        reason,
    from input_files
)

select * from final
order by file_name
