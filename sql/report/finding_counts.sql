-- Open and waived findings of the run (or of the accounts in $account_ids) by rule and severity.
with findings as (
    select *
    from findings
    where run_id = $run_id
        and ka_in_accounts(account_id, $account_ids)
),

final as (
    select
        rule_id,
        severity,
        count(*) filter (where not waived) as count_open,
        count(*) filter (where waived) as count_waived,
    from findings
    group by rule_id, severity
)

select * from final order by rule_id, severity
