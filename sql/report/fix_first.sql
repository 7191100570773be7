-- The Fix first list of the run (or of the accounts in $account_ids), best first: the first
-- $limit keys of fix_first_for (sql/views/_fix_first_for.sql), in its order.
with fix_first as (
    select * from fix_first_for($run_id, $account_ids)
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
