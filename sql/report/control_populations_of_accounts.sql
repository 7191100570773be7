-- The run's population per control and kind of resource (keys, users, root users, accounts) over
-- the accounts of a per-owner slice (the whole run, $account_ids NULL, reads the kept rows:
-- control_populations.sql), from the same definition as the control_populations view
-- (sql/views/_control_populations_for.sql).
with control_populations as (
    select * from control_populations_for($account_ids) where run_id = $run_id
),

final as (
    select * from control_populations
)

select * from final order by framework, control_id, kind
