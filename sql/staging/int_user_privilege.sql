-- One row per IAM user (and root) of a run: its effective privilege, the reason in words, whether
-- a Condition gates it, the quarantine policy AWS attached to it, and its permissions boundary.
-- An intermediate model, kept beside staging because both marts read it (keys is built before
-- users): the one definition of privilege.
--
-- privilege (docs/permissions.md, "Effective privilege"), decided at load by keyaudit.privilege
-- as IAM evaluates identity policies (Deny, permissions boundary and every SCP level applied):
--   admin      - the root user; or after Denies, boundary and SCPs the user may make every IAM
--                action on every IAM resource of the account it acts on;
--   escalation - not admin, but one known step from it (the path is in privilege_reason);
--   unknown    - the account's privilege was not collected (privilege_status 'failed', 'off',
--                'not collected' or NULL), the user is missing from the listing or was not
--                evaluated, or a policy that applies to it cannot be read;
--   other      - evaluated, and none of the above.
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

evaluated as (
    select * from iam_user_privilege
),

principals as (
    select run_id, account_id, user_name, bool_or(is_root) as is_root
    from (
        select run_id, account_id, user_name, is_root from report
        union all
        select run_id, account_id, user_name, false from api
    ) as listed
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
        evaluated.privilege as evaluated_privilege,
        evaluated.privilege_reason as evaluated_reason,
        evaluated.is_conditional,
        evaluated.quarantine_policy
    from principals
    left join accounts
        on principals.run_id = accounts.run_id and principals.account_id = accounts.account_id
    left join inputs
        on principals.run_id = inputs.run_id
        and principals.account_id = inputs.account_id
        and principals.user_name = inputs.user_name
    left join evaluated
        on principals.run_id = evaluated.run_id
        and principals.account_id = evaluated.account_id
        and principals.user_name = evaluated.user_name
),

final as (
    select
        run_id,
        account_id,
        user_name,
        case
            when is_root then 'admin'
            when privilege_status <> 'collected' or not is_listed then 'unknown'
            else coalesce(evaluated_privilege, 'unknown')
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
            when evaluated_privilege is null
                then 'user not evaluated (see the account''s data notes)'
            else evaluated_reason
        end as privilege_reason,
        coalesce(is_conditional, false) as is_privilege_conditional,
        quarantine_policy,
        permissions_boundary_arn
    from joined
)

select * from final
