-- IAM users whose console password was not used for longer than the limit: measured from the
-- last sign-in, or, when the password was never used (no_information), from the last password
-- change, or from the user's creation when even that is missing.
with users as (
    select * from users where run_id = $run_id
),

measured as (
    select
        *,
        coalesce(password_last_used_at, password_last_changed_at, user_created_at) as idle_since
    from users
    where not is_root and is_password_enabled
),

final as (
    select
        account_id,
        user_name,
        null as access_key_id,
        null as key_slot,
        case
            when password_last_used_at is not null then
                'password not used for ' || ka_days($as_of, password_last_used_at)
                    || ' days (last sign-in ' || strftime(password_last_used_at, '%Y-%m-%d')
                    || '); limit ' || $max_unused_days
            when password_last_changed_at is not null then
                'password never used (' || coalesce(password_last_used_sentinel, 'no date')
                    || '); set ' || ka_days($as_of, password_last_changed_at) || ' days ago ('
                    || strftime(password_last_changed_at, '%Y-%m-%d') || '); limit '
                    || $max_unused_days
            else
                'password never used (' || coalesce(password_last_used_sentinel, 'no date')
                    || '); user created ' || ka_days($as_of, user_created_at) || ' days ago ('
                    || strftime(user_created_at, '%Y-%m-%d') || '); limit ' || $max_unused_days
        end as reason
    from measured
    where epoch($as_of) - epoch(idle_since) > $max_unused_days * 86400
)

select * from final
