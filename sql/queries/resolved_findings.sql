-- question: Which findings were resolved in a run (open at the previous run, gone now in an account that was assessed), and how long did they take?
-- param run_id (run, optional): the run to look at; default the latest run
with remediation_times as (
    select * from remediation_times_for($run_id, null)
),

final as (
    select
        rule_id,
        severity,
        account_id,
        user_name,
        access_key_id,
        first_seen_as_of,
        last_seen_as_of,
        days_to_remediate,
        reason,
    from remediation_times
    where run_id = ka_run_id($run_id)
)

select * from final
order by days_to_remediate desc, rule_id, account_id, user_name nulls first
