-- The Fix first list of the run (or of the accounts in $account_ids), best first: the first
-- $limit keys of the fix_first view's ranking as kept when the run was loaded (run_fix_first,
-- keyaudit.warehouse.kept), with the account's name, as fix_first_for
-- (sql/views/_fix_first_for.sql) gives them. A slice keeps the run's ranks.
with run_fix_first as (
    select * from run_fix_first
    where run_id = $run_id
        and ka_in_accounts(account_id, $account_ids)
),

accounts as (
    select run_id, account_id, name from accounts where run_id = $run_id
),

fix_first as (
    select
        run_fix_first.*,
        accounts.name as account_name
    from run_fix_first
    left join accounts using (run_id, account_id)
),

final as (
    select
        fix_rank,
        account_id,
        account_name as name,
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
)

select * from final order by fix_rank limit $limit
