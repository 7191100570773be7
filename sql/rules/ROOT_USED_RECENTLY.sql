-- The root user signed in with its password, or one of its access keys was used, within the
-- window before as_of (an interval of at most N days; a use after as_of counts as recent too).
-- Root keys count whatever their status: a key used yesterday was root use yesterday.
with users as (
    select * from users where run_id = $run_id
),

keys as (
    select * from keys where run_id = $run_id
),

root_uses as (
    select
        account_id,
        'password' as credential,
        password_last_used_at as used_at
    from users
    where is_root and password_last_used_at is not null
    union all
    select
        account_id,
        'access key in slot ' || key_slot as credential,
        last_used_at as used_at
    from keys
    where is_root and last_used_at is not null
),

recent_uses as (
    select
        *,
        epoch($as_of) - epoch(used_at) as seconds_ago
    from root_uses
    where epoch($as_of) - epoch(used_at) <= $recent_use_days * 86400
),

per_account as (
    select
        account_id,
        string_agg(
            credential || ' used '
                || case
                    when seconds_ago < 3600 then 'less than 1 hour'
                    else cast(floor(seconds_ago / 3600) as bigint) || ' hours'
                end
                || ' before as_of (' || strftime(used_at, '%Y-%m-%d %H:%M UTC') || ')',
            '; ' order by used_at desc, credential
        ) as uses
    from recent_uses
    group by account_id
),

final as (
    select
        account_id,
        ka_root_user() as user_name,
        null as access_key_id,
        null as key_slot,
        'root ' || uses || '; limit: no root use within ' || $recent_use_days
            || case when $recent_use_days = 1 then ' day' else ' days' end as reason
    from per_account
)

select * from final
