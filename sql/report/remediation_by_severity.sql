-- Mean and median days to remediate, by severity, of the findings resolved over the run's scope
-- history up to this run (remediation_times_for: never later runs, so a re-rendered report does
-- not change), in the accounts of $account_ids (all when NULL).
with remediation_times as (
    select * from remediation_times_for($run_id, $account_ids)
),

final as (
    select
        severity,
        count(*) as resolved_count,
        avg(days_to_remediate) as mean_days,
        median(days_to_remediate) as median_days,
    from remediation_times
    group by severity
)

select * from final
