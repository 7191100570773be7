-- The run this one is compared with: the previous finished run of its scope (previous_runs).
with previous_runs as (
    select * from previous_runs where run_id = $run_id
),

final as (
    select
        previous_run_id,
        previous_as_of,
    from previous_runs
)

select * from final
