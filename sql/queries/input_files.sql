-- question: For a run audited from files, which files were handed in, with their SHA-256, and what became of each?
-- param run_id (run, optional): the run to look at; default the latest run
with input_files as (
    select * from input_files
),

chosen_run as (
    select run_id from ka_run($run_id)
),

final as (
    select
        input_files.file_name,
        input_files.kind,
        input_files.status,
        input_files.account_id,
        input_files.account_from,
        input_files.sha256,
        input_files.bytes,
        input_files.modified_at,
        input_files.reason,
    from input_files
    inner join chosen_run using (run_id)
)

select * from final
order by file_name
