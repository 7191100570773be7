-- Findings new in this run since the previous run of its scope (findings_new), by rule and
-- severity, in the accounts of $account_ids (all when NULL).
with findings_new as (
    select *
    from findings_new
    where run_id = $run_id
        and ka_in_accounts(account_id, $account_ids)
),

final as (
    select
        rule_id,
        severity,
        count(*) as count_findings,
    from findings_new
    group by rule_id, severity
)

select * from final
