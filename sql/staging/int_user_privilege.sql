-- One row per IAM user (and root) of a run: its privilege by attached policy, the reason in
-- words, and its permissions boundary. An intermediate model, kept beside staging because both
-- marts read it (keys is built before users): the one definition of privilege.
--
-- privilege (docs/report.md, "Privilege"):
--   admin   - the root user; or a policy that applies to the user, directly, inline or through a
--             group, is AWS's AdministratorAccess or has an Allow statement on Resource `*`
--             whose Action matches every IAM action (`*`, `iam:*`: ka_is_admin_action), or whose
--             NotAction excludes no IAM action. Conditions do not matter (they say when, not
--             what); Deny statements are not subtracted.
--   unknown - the account's privilege was not collected (privilege_status 'failed', 'off',
--             'not collected' or NULL), the user is missing from the listing, or a policy's
--             document was not fetched and no other policy already makes the user admin.
--   other   - collected, and none of the above.
-- By attached policy, before permissions boundaries and SCPs: a boundary is recorded, not applied.
with report as (
    select * from stg_credential_report
),

api as (
    select * from stg_access_keys
),

accounts as (
    select * from accounts
),

inputs as (
    select * from iam_user_privilege_inputs
),

policies as (
    select * from stg_iam_user_policies
),

statements as (
    select * from stg_iam_policy_statements
),

principals as (
    select run_id, account_id, user_name, bool_or(is_root) as is_root
    from (
        select run_id, account_id, user_name, is_root from report
        union all
        select run_id, account_id, user_name, false from api
    )
    group by all
),

admin_grants as (
    select run_id, account_id, user_name, 1 as preference, policy_label || ' is AdministratorAccess' as why
    from policies
    where is_administrator_access
    union all
    select
        run_id, account_id, user_name, 2,
        policy_label || ' allows '
            || case
                when list_bool_or(list_transform(actions, lambda a: ka_is_admin_action(a)))
                    then list_filter(actions, lambda a: ka_is_admin_action(a))[1]
                else 'every action but ' || array_to_string(not_actions, ', ')
            end
            || ' on *'
    from statements
    where effect = 'allow'
        and list_contains(resources, '*')
        and (
            list_bool_or(list_transform(actions, lambda a: ka_is_admin_action(a)))
            or not list_bool_or(list_transform(not_actions, lambda a: ka_may_match_iam_action(a)))
        )
),

first_admin_grant as (
    select run_id, account_id, user_name, arg_min(why, preference::varchar || why) as why
    from admin_grants
    group by all
),

unfetched as (
    select run_id, account_id, user_name, min(policy_label) as policy_label
    from policies
    where not is_document_fetched and not is_administrator_access
    group by all
),

joined as (
    select
        principals.run_id,
        principals.account_id,
        principals.user_name,
        principals.is_root,
        coalesce(accounts.privilege_status, 'not collected') as privilege_status,
        accounts.privilege_error,
        inputs.user_name is not null as is_listed,
        inputs.permissions_boundary_arn,
        first_admin_grant.why as admin_why,
        unfetched.policy_label as unfetched_policy
    from principals
    left join accounts
        on accounts.run_id = principals.run_id and accounts.account_id = principals.account_id
    left join inputs
        on inputs.run_id = principals.run_id
        and inputs.account_id = principals.account_id
        and inputs.user_name = principals.user_name
    left join first_admin_grant
        on first_admin_grant.run_id = principals.run_id
        and first_admin_grant.account_id = principals.account_id
        and first_admin_grant.user_name = principals.user_name
    left join unfetched
        on unfetched.run_id = principals.run_id
        and unfetched.account_id = principals.account_id
        and unfetched.user_name = principals.user_name
),

final as (
    select
        run_id,
        account_id,
        user_name,
        case
            when is_root then 'admin'
            when privilege_status <> 'collected' or not is_listed then 'unknown'
            when admin_why is not null then 'admin'
            when unfetched_policy is not null then 'unknown'
            else 'other'
        end as privilege,
        case
            when is_root then 'the root user holds every permission'
            when privilege_status = 'failed'
                then 'user permissions could not be read: '
                    || coalesce(privilege_error, 'no reason recorded')
            when privilege_status = 'off'
                then 'user permissions not collected ([collection] privilege = false)'
            when privilege_status <> 'collected'
                then 'user permissions not collected by this run''s source'
            when not is_listed then 'user missing from the permissions listing'
            when admin_why is not null then admin_why
            when unfetched_policy is not null then unfetched_policy || ': document not fetched'
            else 'no policy grants * or iam:* on *'
        end as privilege_reason,
        permissions_boundary_arn
    from joined
)

select * from final
