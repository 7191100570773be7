-- The run's result per control and rule over the accounts of a per-owner slice (the whole run,
-- $account_ids NULL, reads the kept rows: control_results.sql), from the same definition as
-- the control_results view (sql/views/_control_results_for.sql).
with control_results as (
    select * from control_results_for($account_ids) where run_id = $run_id
),

final as (
    select * from control_results
)

select * from final order by framework, control_id, rule_id
