-- The deactivation plan of one run ($run_id): one row per active access key (root keys aside:
-- only the root user can deactivate them) with an open finding that is not waived.
--
-- The day a key is deactivated (docs/remediation.md, "The dates"):
--   * a key already in the previous plan of the same scope keeps the day planned then, so a
--     date once announced in a warning never moves;
--   * else the key's earliest open finding's first-seen day + $deactivate_after_days, but never
--     before the run's as-of day + the largest warning day ($lead_days): nobody is deactivated
--     without every warning.
-- The warning days are that day minus each of $warn_days, earliest first.
with findings as (
    -- finding_lifecycle's rows of the run, kept by loading just before (run_finding_lifecycle)
    select * from run_finding_lifecycle where run_id = $run_id
),

keys as (
    select * from keys where run_id = $run_id
),

runs as (
    select run_id, as_of from runs where run_id = $run_id
),

previous_runs as (
    select run_id, previous_run_id from previous_runs where run_id = $run_id
),

previous_plan as (
    select remediation_plan.access_key_id, remediation_plan.deactivate_on
    from remediation_plan
    inner join previous_runs on remediation_plan.run_id = previous_runs.previous_run_id
),

open_key_findings as (
    select
        account_id,
        user_name,
        access_key_id,
        list_sort(list(finding_id)) as finding_ids,
        list_sort(list(distinct rule_id)) as rule_ids,
        min(first_seen_as_of) as first_seen_at
    from findings
    where access_key_id is not null and not waived
    group by account_id, user_name, access_key_id
),

planned as (
    select
        open_key_findings.*,
        keys.created_at as key_created_at,
        keys.last_used_at as key_last_used_at,
        coalesce(
            previous_plan.deactivate_on,
            greatest(
                cast(timezone('UTC', open_key_findings.first_seen_at) as date)
                    + cast($deactivate_after_days as integer),
                cast(timezone('UTC', runs.as_of) as date) + cast($lead_days as integer)
            )
        ) as deactivate_on
    from open_key_findings
    inner join keys
        on open_key_findings.account_id = keys.account_id
        and open_key_findings.access_key_id = keys.access_key_id
    cross join runs
    left join previous_plan on open_key_findings.access_key_id = previous_plan.access_key_id
    where keys.is_active and not keys.is_root
),

final as (
    select
        $run_id as run_id,
        'plan-' || $run_id as plan_id,
        account_id,
        user_name,
        access_key_id,
        finding_ids,
        rule_ids,
        first_seen_at,
        list_sort(
            list_transform(cast($warn_days as integer[]), lambda d: deactivate_on - d)
        ) as warn_on,
        deactivate_on,
        'Active' as key_status,
        key_created_at,
        key_last_used_at
    from planned
)

select * from final
