-- IAM users who can sign in to the console with a password and have no MFA device.
with users as (
    select * from users where run_id = $run_id
),

final as (
    select
        account_id,
        user_name,
        null as access_key_id,
        null as key_slot,
        'console password enabled'
            || coalesce(' (last sign-in ' || strftime(password_last_used_at, '%Y-%m-%d') || ')', '')
            || '; no MFA device active' as reason
    from users
    where not is_root
        and is_password_enabled
        and not is_mfa_active
)

select * from final
