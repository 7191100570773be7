-- The run's evidence files: run-level ones and those of the accounts in $account_ids (all
-- accounts when NULL), with their hashes (evidence_files_for).
with evidence as (
    select * from evidence_files_for($run_id, $account_ids)
),

final as (
    select
        account_id,
        path,
        kind,
        sha256,
        bytes,
    from evidence
)

select * from final order by account_id nulls first, path
