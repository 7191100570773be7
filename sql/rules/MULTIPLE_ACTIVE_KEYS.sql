-- IAM users with more than one active access key.
with keys as (
    select * from keys where run_id = $run_id
),

per_user as (
    select
        account_id,
        user_name,
        count(*) as count_active_keys
    from keys
    where not is_root and is_active
    group by all
),

final as (
    select
        account_id,
        user_name,
        null as access_key_id,
        null as key_slot,
        count_active_keys || ' active access keys; limit 1' as reason
    from per_user
    where count_active_keys > 1
)

select * from final
