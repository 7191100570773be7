-- Findings resolved since the previous run: open at the previous run (previous_runs; open
-- includes findings whose account that run could not assess, see finding_history), absent from
-- this run, and in an account this run assessed fully. A finding in an account this run could
-- not assess is not resolved: it is unknown. The finding's facts are those of the run where it
-- was last seen; days_to_remediate counts whole days from the as_of where it was first seen to
-- the as_of of the run that found it gone (audits bound it: it was fixed in between).
with runs as (
    select run_id, as_of from runs
),

previous_runs as (
    select * from previous_runs
),

finding_history as (
    select * from finding_history
),

findings as (
    select * from findings
),

accounts as (
    select * from accounts
),

open_before as (
    select
        previous_runs.run_id,
        previous_runs.previous_run_id,
        finding_history.finding_id,
        finding_history.account_id,
        finding_history.first_seen_run_id,
        finding_history.first_seen_as_of,
        finding_history.last_seen_run_id,
        finding_history.last_seen_as_of
    from previous_runs
    inner join finding_history
        on previous_runs.previous_run_id = finding_history.run_id
        and previous_runs.scope_key = finding_history.scope_key
    where finding_history.is_open
),

gone as (
    select open_before.*
    from open_before
    inner join accounts
        on open_before.run_id = accounts.run_id
        and open_before.account_id = accounts.account_id
        and accounts.status = 'assessed'
    left join findings as still
        on open_before.run_id = still.run_id
        and open_before.finding_id = still.finding_id
    where still.finding_id is null
),

final as (
    select
        gone.run_id,
        gone.finding_id,
        last_seen.rule_id,
        last_seen.severity,
        last_seen.account_id,
        last_seen.user_name,
        last_seen.access_key_id,
        last_seen.key_slot,
        last_seen.reason,
        last_seen.waived as was_waived,
        gone.previous_run_id,
        gone.first_seen_run_id,
        gone.first_seen_as_of,
        gone.last_seen_run_id,
        gone.last_seen_as_of,
        runs.as_of as resolved_as_of,
        cast(floor((epoch(runs.as_of) - epoch(gone.first_seen_as_of)) / 86400) as integer)
            as days_to_remediate
    from gone
    inner join runs using (run_id)
    inner join findings as last_seen
        on gone.last_seen_run_id = last_seen.run_id
        and gone.finding_id = last_seen.finding_id
)

select * from final
