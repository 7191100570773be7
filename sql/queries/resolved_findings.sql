-- question: Which findings were resolved in a run (open at the previous run, gone now in an account that was assessed), and how long did they take?
-- param run_id (run, optional): the run to look at; default the latest run
with findings_resolved as (
    select * from findings_resolved
),

chosen_run as (
    select run_id from ka_run($run_id)
),

final as (
    select
        findings_resolved.rule_id,
        findings_resolved.severity,
        findings_resolved.account_id,
        findings_resolved.user_name,
        findings_resolved.access_key_id,
        findings_resolved.first_seen_as_of,
        findings_resolved.last_seen_as_of,
        findings_resolved.days_to_remediate,
        findings_resolved.reason,
    from findings_resolved
    inner join chosen_run using (run_id)
)

select * from final
order by days_to_remediate desc, rule_id, account_id, user_name nulls first
