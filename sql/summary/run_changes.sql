-- What a finished run's console summary says beside its counts: the previous run of its scope
-- (previous_runs) and how many findings are new since it (findings_new) and resolved since it
-- (findings_resolved), counted as the report counts them (waived ones included), from the rows
-- loading kept of those views (run_finding_lifecycle, run_findings_resolved). One row;
-- previous_run_id NULL for the first run of a scope.
with previous_runs as (
    select * from previous_runs where run_id = $run_id
),

findings_new as (
    select *
    from run_finding_lifecycle
    where run_id = $run_id
        and ka_new_since_previous(is_new, previous_run_id)
),

findings_resolved as (
    select * from run_findings_resolved where run_id = $run_id
),

final as (
    select
        (select previous_run_id from previous_runs) as previous_run_id,
        (select count(*) from findings_new) as count_new,
        (select count(*) from findings_resolved) as count_resolved,
)

select * from final
