-- The run's result per control and rule (the control_results view).
with control_results as (
    select * from control_results where run_id = $run_id
),

final as (
    select * from control_results
)

select * from final order by framework, control_id, rule_id
