-- The run's accounts (all, or those in $account_ids) with their owner (account_owners: the
-- configured owner tag, else the OU map; the owner their e-mail goes to) and their open and
-- waived findings by severity.
with accounts as (
    select *
    from accounts
    where run_id = $run_id
        and ka_in_accounts(account_id, $account_ids)
),

account_owners as (
    select * from account_owners where run_id = $run_id
),

findings as (
    select * from findings where run_id = $run_id
),

finding_counts as (
    select
        account_id,
        count(*) filter (where not waived) as count_open,
        count(*) filter (where waived) as count_waived,
        count(*) filter (where not waived and severity = 'critical') as count_critical,
        count(*) filter (where not waived and severity = 'high') as count_high,
        count(*) filter (where not waived and severity = 'medium') as count_medium,
        count(*) filter (where not waived and severity = 'low') as count_low,
        count(*) filter (where not waived and not list_contains(ka_headline_severities(), severity))
            as count_other,
    from findings
    group by account_id
),

final as (
    select
        accounts.account_id,
        accounts.name,
        accounts.email,
        accounts.state,
        accounts.ou_path,
        accounts.tags,
        accounts.status,
        accounts.error,
        accounts.report_generated_at,
        accounts.is_management,
        account_owners.owner,
        account_owners.owner_source,
        coalesce(finding_counts.count_open, 0) as count_open,
        coalesce(finding_counts.count_waived, 0) as count_waived,
        coalesce(finding_counts.count_critical, 0) as count_critical,
        coalesce(finding_counts.count_high, 0) as count_high,
        coalesce(finding_counts.count_medium, 0) as count_medium,
        coalesce(finding_counts.count_low, 0) as count_low,
        coalesce(finding_counts.count_other, 0) as count_other,
    from accounts
    left join account_owners using (account_id)
    left join finding_counts using (account_id)
)

select * from final order by account_id
