-- Active IAM-user keys that were never used, once older than the grace period: a key created
-- yesterday for a deployment still in progress is not a finding yet.
with keys as (
    select * from keys where run_id = $run_id
),

never_used as (
    select *
    from keys
    where not is_root
        and is_active
        and last_used_at is null
        and epoch($as_of) - epoch(created_at) > $grace_days * 86400
),

final as (
    select
        account_id,
        user_name,
        access_key_id,
        key_slot,
        'never used; created ' || ka_days($as_of, created_at) || ' days ago ('
            || strftime(created_at, '%Y-%m-%d') || '); grace ' || $grace_days || ' days' as reason
    from never_used
)

select * from final
