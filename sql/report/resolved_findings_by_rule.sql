-- Findings of the previous run of this run's scope that this run no longer has
-- (findings_resolved), by rule and severity, in the accounts of $account_ids (all when NULL).
with findings_resolved as (
    select *
    from findings_resolved
    where run_id = $run_id
        and ka_in_accounts(account_id, $account_ids)
),

final as (
    select
        rule_id,
        severity,
        count(*) as count_findings,
    from findings_resolved
    group by rule_id, severity
)

select * from final
