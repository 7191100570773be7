-- Every finding of every run with its history: first_seen_* is the run where its current
-- episode began (see finding_history: a finding stays open across runs that could not assess
-- its account), days_open the whole days from then to this run's as_of, and is_new whether it
-- was not open at the previous run (previous_runs). In the first run of a scope every finding
-- is new; findings_new lists only what appeared since a previous run.
with findings as (
    select * from findings
),

runs as (
    select run_id, as_of from runs
),

previous_runs as (
    select * from previous_runs
),

finding_history as (
    select * from finding_history
),

carried as (
    select
        previous_runs.run_id,
        finding_history.finding_id,
        finding_history.first_seen_run_id,
        finding_history.first_seen_as_of
    from previous_runs
    inner join finding_history
        on previous_runs.previous_run_id = finding_history.run_id
        and previous_runs.scope_key = finding_history.scope_key
    where finding_history.is_open
),

final as (
    select
        findings.run_id,
        findings.finding_id,
        findings.rule_id,
        findings.severity,
        findings.account_id,
        findings.user_name,
        findings.access_key_id,
        findings.key_slot,
        findings.waived,
        coalesce(carried.first_seen_run_id, findings.run_id) as first_seen_run_id,
        coalesce(carried.first_seen_as_of, runs.as_of) as first_seen_as_of,
        cast(
            floor(
                (epoch(runs.as_of) - epoch(coalesce(carried.first_seen_as_of, runs.as_of))) / 86400
            )
            as integer
        ) as days_open,
        carried.finding_id is null as is_new,
        findings.waiver_id,
        findings.reason,
        previous_runs.previous_run_id
    from findings
    inner join runs using (run_id)
    left join previous_runs using (run_id)
    left join carried
        on findings.run_id = carried.run_id
        and findings.finding_id = carried.finding_id
)

select * from final
