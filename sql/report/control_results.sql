-- The run's result per control and rule over all its accounts: the control_results view's rows
-- as kept when the run was loaded (run_control_results, keyaudit.warehouse.kept). A per-owner
-- slice reads control_results_of_accounts.sql, the same definition over its accounts.
with control_results as (
    select * from run_control_results where run_id = $run_id
),

final as (
    select * from control_results
)

select * from final order by framework, control_id, rule_id
