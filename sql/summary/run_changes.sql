-- What a finished run's console summary says beside its counts: the previous run of its scope
-- (previous_runs) and how many findings are new since it (findings_new) and resolved since it
-- (findings_resolved), counted as the report counts them (waived ones included). One row;
-- previous_run_id NULL for the first run of a scope.
with previous_runs as (
    select * from previous_runs where run_id = $run_id
),

findings_new as (
    select * from findings_new where run_id = $run_id
),

findings_resolved as (
    select * from findings_resolved where run_id = $run_id
),

final as (
    select
        (select previous_run_id from previous_runs) as previous_run_id,
        (select count(*) from findings_new) as count_new,
        (select count(*) from findings_resolved) as count_resolved,
)

select * from final
