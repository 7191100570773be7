-- One row per principal of the credential report (root included) with its key counts, its
-- effective privilege (int_user_privilege: admin, escalation, other, unknown; after Denies,
-- permissions boundary and SCPs), the reason in words, and its permissions boundary.
-- Built for one run ($run_id) after its keys, into the users table (keyaudit.warehouse.marts).
with report as (
    select * from stg_credential_report where run_id = $run_id
),

keys as (
    select * from keys where run_id = $run_id
),

privilege as (
    select * from int_user_privilege where run_id = $run_id
),

key_counts as (
    select
        run_id,
        account_id,
        user_name,
        count(*) as count_keys,
        count(*) filter (where is_active) as count_active_keys
    from keys
    group by all
),

final as (
    select
        report.*,
        coalesce(key_counts.count_keys, 0) as count_keys,
        coalesce(key_counts.count_active_keys, 0) as count_active_keys,
        coalesce(privilege.privilege, 'unknown') as privilege,
        privilege.privilege_reason,
        coalesce(privilege.is_privilege_conditional, false) as is_privilege_conditional,
        privilege.quarantine_policy,
        privilege.permissions_boundary_arn,
        privilege.permissions_boundary_arn is not null as has_permissions_boundary
    from report
    left join key_counts
        on report.run_id = key_counts.run_id
        and report.account_id = key_counts.account_id
        and report.user_name = key_counts.user_name
    left join privilege
        on report.run_id = privilege.run_id
        and report.account_id = privilege.account_id
        and report.user_name = privilege.user_name
)

select * from final
