-- CIS "access keys set up during initial user setup": an active key of a console user that was
-- created in the same second as the user and never used.
with keys as (
    select * from keys where run_id = $run_id
),

setup_keys as (
    select *
    from keys
    where not is_root
        and is_active
        and is_user_password_enabled
        and last_used_at is null
        -- the report has whole seconds; the API's CreateDate can carry fractions
        and date_trunc('second', created_at) = user_created_at
),

final as (
    select
        account_id,
        user_name,
        access_key_id,
        key_slot,
        'console user; key created 0 seconds after the user ('
            || strftime(created_at, '%Y-%m-%d %H:%M:%S UTC') || ') and never used' as reason
    from setup_keys
)

select * from final
