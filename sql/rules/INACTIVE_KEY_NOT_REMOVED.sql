-- Inactive IAM-user keys kept longer than the limit. Neither the credential report nor the API
-- records when a key was deactivated, so the age is measured from the key's creation date.
with keys as (
    select * from keys where run_id = $run_id
),

kept as (
    select *
    from keys
    where not is_root
        and not is_active
        and epoch($as_of) - epoch(created_at) > $max_inactive_days * 86400
),

final as (
    select
        account_id,
        user_name,
        access_key_id,
        key_slot,
        'inactive; created ' || ka_days($as_of, created_at) || ' days ago ('
            || strftime(created_at, '%Y-%m-%d') || '); limit ' || $max_inactive_days as reason
    from kept
)

select * from final
