-- Every review file imported for a run, oldest first: who imported it, when, its SHA-256 and
-- where its copy is in the run's evidence.
with review_imports as (
    select * from review_imports where run_id = $run_id
),

final as (
    select
        imported_at,
        imported_by,
        file_name,
        file_sha256,
        evidence_path,
        count_decided,
        count_undecided,
    from review_imports
)

select * from final
order by imported_at
