-- The run's population per control and kind of resource over all its accounts: the
-- control_populations view's rows as kept when the run was loaded (run_control_populations,
-- keyaudit.warehouse.kept). A per-owner slice reads control_populations_of_accounts.sql, the
-- same definition over its accounts.
with control_populations as (
    select * from run_control_populations where run_id = $run_id
),

final as (
    select * from control_populations
)

select * from final order by framework, control_id, kind
