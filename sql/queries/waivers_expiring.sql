-- question: Which waivers of a run expire within N days of its as-of date, and how many findings do they cover?
-- param days (integer, default 30): list waivers expiring within this many days
-- param run_id (run, optional): the run to look at; default the latest run
with waivers as (
    select * from waivers
),

chosen_run as (
    select run_id, as_of from ka_run($run_id)
),

final as (
    select
        waivers.expires_on,
        waivers.expires_on - cast(chosen_run.as_of as date) as days_left,
        waivers.status,
        waivers.count_matched,
        waivers.waiver_id,
        waivers.rule_id,
        waivers.account_id,
        waivers.user_name,
        waivers.access_key_id,
        waivers.reason,
        waivers.approved_by,
        waivers.ticket,
    from waivers
    inner join chosen_run using (run_id)
    where waivers.expires_on - cast(chosen_run.as_of as date) <= $days
)

select * from final
order by expires_on, rule_id, account_id nulls first
