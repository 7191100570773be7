-- Findings new in this run since the previous run of its scope (findings_new, from the rows
-- loading kept of finding_lifecycle), by rule and severity, in the accounts of $account_ids (all
-- when NULL).
with findings_new as (
    select *
    from run_finding_lifecycle
    where run_id = $run_id
        and ka_new_since_previous(is_new, previous_run_id)
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
