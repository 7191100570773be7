-- question: Which findings have been open for more than N days (counted from the run where they were first seen)?
-- param days (integer, default 30): list findings open longer than this many days
-- param run_id (run, optional): the run to look at; default the latest run
with findings_open as (
    select * from findings_open
),

chosen_run as (
    select run_id from ka_run($run_id)
),

final as (
    select
        findings_open.days_open,
        findings_open.first_seen_as_of,
        findings_open.first_seen_run_id,
        findings_open.rule_id,
        findings_open.severity,
        findings_open.account_id,
        findings_open.user_name,
        findings_open.access_key_id,
        findings_open.reason,
    from findings_open
    inner join chosen_run using (run_id)
    where findings_open.days_open > $days
)

select * from final
order by days_open desc, rule_id, account_id, user_name nulls first
