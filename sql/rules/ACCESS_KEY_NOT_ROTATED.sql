-- Active IAM-user keys whose age (as_of - created) is strictly greater than the limit.
with keys as (
    select * from keys where run_id = $run_id
),

over_limit as (
    select *
    from keys
    where not is_root
        and is_active
        and epoch($as_of) - epoch(created_at) > $max_key_age_days * 86400
),

final as (
    select
        account_id,
        user_name,
        access_key_id,
        key_slot,
        'created ' || ka_days($as_of, created_at) || ' days ago ('
            || strftime(created_at, '%Y-%m-%d') || '); limit ' || $max_key_age_days as reason
    from over_limit
)

select * from final
