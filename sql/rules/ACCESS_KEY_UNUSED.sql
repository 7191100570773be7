-- Active IAM-user keys not used for longer than the limit; a never-used key counts from its
-- creation, so it cannot hide behind having no last-used date.
with keys as (
    select * from keys where run_id = $run_id
),

measured as (
    select
        *,
        coalesce(last_used_at, created_at) as idle_since
    from keys
    where not is_root and is_active
),

final as (
    select
        account_id,
        user_name,
        access_key_id,
        key_slot,
        case
            when last_used_at is null then
                'never used; created ' || ka_days($as_of, created_at) || ' days ago; limit '
                    || $max_unused_days
            else
                'not used for ' || ka_days($as_of, last_used_at) || ' days (last used '
                    || strftime(last_used_at, '%Y-%m-%d') || '); limit ' || $max_unused_days
        end as reason
    from measured
    where epoch($as_of) - epoch(idle_since) > $max_unused_days * 86400
)

select * from final
