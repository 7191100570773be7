-- Root user with an active access key: from the credential report's root row, and from the live
-- GetAccountSummary when the (up to 4 hours old) report does not show the key yet.
with keys as (
    select * from keys where run_id = $run_id
),

accounts as (
    select * from accounts where run_id = $run_id
),

root_keys as (
    select
        account_id,
        ka_root_user() as user_name,
        access_key_id,
        key_slot,
        'root access key in slot ' || key_slot || ' is active (created '
            || strftime(created_at, '%Y-%m-%d') || ', '
            || coalesce('last used ' || strftime(last_used_at, '%Y-%m-%d'), 'never used')
            || ')' as reason
    from keys
    where is_root and is_active
),

summary_only as (
    select
        account_id,
        ka_root_user() as user_name,
        null as access_key_id,
        null as key_slot,
        'GetAccountSummary reports a root access key that the credential report of '
            || strftime(report_generated_at, '%Y-%m-%d %H:%M UTC') || ' does not show' as reason
    from accounts
    where status in ('assessed', 'partial')
        and summary_root_access_keys_present > 0
        and account_id not in (select account_id from keys where is_root)
),

final as (
    select * from root_keys
    union all
    select * from summary_only
)

select * from final
