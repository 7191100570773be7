-- Mean time to remediate per severity over all history: every finding episode resolved by a run
-- of a scope's chain (run_scopes; a re-run of the same as_of is not counted twice), in whole
-- days from the as_of where it was first seen to the as_of of the run that found it gone.
-- Severity is the one in force when the finding was last seen.
with findings_resolved as (
    select * from findings_resolved
),

run_scopes as (
    select * from run_scopes
),

resolved as (
    select findings_resolved.*
    from findings_resolved
    inner join run_scopes using (run_id)
    where run_scopes.chain_position is not null
),

final as (
    select
        severity,
        count(*) as resolved_count,
        avg(days_to_remediate) as mean_days_to_remediate,
        median(days_to_remediate) as median_days_to_remediate,
        max(days_to_remediate) as max_days_to_remediate
    from resolved
    group by severity
)

select * from final
