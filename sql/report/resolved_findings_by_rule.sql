-- Findings of the previous run of this run's scope that this run no longer has, by rule and
-- severity, in the accounts of $account_ids (all when NULL): the ones remediation_times_for says
-- this run resolved.
with remediation_times as (
    select * from remediation_times_for($run_id, $account_ids)
    where run_id = $run_id
),

final as (
    select
        rule_id,
        severity,
        count(*) as count_findings,
    from remediation_times
    group by rule_id, severity
)

select * from final
