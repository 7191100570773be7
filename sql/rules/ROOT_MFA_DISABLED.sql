-- Root user without an active MFA device. The live GetAccountSummary (AccountMFAEnabled) wins
-- where it was collected, because the credential report can be up to 4 hours old; a folder of
-- reports has only the report's root row to judge by.
with users as (
    select * from users where run_id = $run_id
),

accounts as (
    select * from accounts where run_id = $run_id
),

root_rows as (
    select
        account_id,
        is_mfa_active
    from users
    where is_root
),

live_summaries as (
    select
        account_id,
        summary_root_mfa_enabled,
        report_generated_at
    from accounts
    where status in ('assessed', 'partial')
        and summary_root_mfa_enabled is not null
),

judged as (
    select
        coalesce(root_rows.account_id, live_summaries.account_id) as account_id,
        root_rows.is_mfa_active as is_report_mfa_active,
        live_summaries.summary_root_mfa_enabled,
        live_summaries.report_generated_at
    from root_rows
    full outer join live_summaries
        on root_rows.account_id = live_summaries.account_id
),

final as (
    select
        account_id,
        ka_root_user() as user_name,
        null as access_key_id,
        null as key_slot,
        case
            when summary_root_mfa_enabled is null then
                'root MFA not active (credential report mfa_active = false); required: active'
            when is_report_mfa_active then
                'root MFA not active (GetAccountSummary AccountMFAEnabled = 0; the credential '
                    || 'report of ' || strftime(report_generated_at, '%Y-%m-%d %H:%M UTC')
                    || ' still showed it); required: active'
            else
                'root MFA not active (GetAccountSummary AccountMFAEnabled = 0'
                    || coalesce(', credential report mfa_active = '
                        || cast(is_report_mfa_active as varchar), '')
                    || '); required: active'
        end as reason
    from judged
    where summary_root_mfa_enabled = 0
        or (summary_root_mfa_enabled is null and not is_report_mfa_active)
)

select * from final
