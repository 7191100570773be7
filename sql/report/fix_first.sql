-- The Fix first list of the run (or of the accounts in $account_ids), best first: the first
-- $limit keys of the fix_first view, in its order (sql/views/fix_first.sql defines it).
with fix_first as (
    select *
    from fix_first
    where run_id = $run_id
        and ka_in_accounts(account_id, $account_ids)
),

accounts as (
    select * from accounts where run_id = $run_id
),

final as (
    select
        fix_rank,
        fix_first.account_id,
        accounts.name,
        user_name,
        access_key_id,
        key_slot,
        is_root,
        privilege,
        privilege_reason,
        severity,
        rule_ids,
        days_idle,
        age_days,
        why,
        owner,
        owner_source,
    from fix_first
    left join accounts using (account_id)
)

select * from final order by fix_rank limit $limit
