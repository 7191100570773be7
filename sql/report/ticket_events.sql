-- What the tickets webhook sends for run $run_id: one event per finding new in the run
-- (findings_new, waived ones left out: a waiver is the decision not to fix) and one per finding
-- resolved by it (findings_resolved), with the ticket `keyaudit track` recorded for it, and
-- whether it was delivered already (ticket_events): a resend of the run skips those. Both from
-- the rows loading kept of their views (run_finding_lifecycle, run_findings_resolved).
with findings_new as (
    select *
    from run_finding_lifecycle
    where run_id = $run_id
        and ka_new_since_previous(is_new, previous_run_id)
        and not waived
),

findings_resolved as (
    select * from run_findings_resolved where run_id = $run_id
),

finding_tickets as (
    select * from finding_tickets
),

ticket_events as (
    select * from ticket_events where run_id = $run_id
),

events as (
    select
        'new' as event, finding_id, rule_id, severity, account_id, user_name, access_key_id,
        reason, first_seen_as_of
    from findings_new
    union all
    select
        'resolved' as event, finding_id, rule_id, severity, account_id, user_name, access_key_id,
        reason, first_seen_as_of
    from findings_resolved
),

final as (
    select
        events.*,
        finding_tickets.ticket,
        ticket_events.finding_id is not null as delivered,
    from events
    left join finding_tickets
        on events.finding_id = finding_tickets.finding_id
    left join ticket_events
        on events.finding_id = ticket_events.finding_id
        and events.event = ticket_events.event
)

select * from final
order by event, finding_id
