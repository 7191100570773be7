-- keyaudit warehouse, version 7: the permissions attached to IAM users (issue 15.2).
--
-- Collected with GetAccountAuthorizationDetails (users, groups, customer-managed policies) and,
-- for each AWS-managed policy a user holds, GetPolicy + GetPolicyVersion; the raw answers are
-- evidence (authorization_details.json, aws_managed_policies.json). These tables are what the
-- privilege classification reads: by attached policy, before permissions boundaries and SCPs.

-- One row per policy that applies to an IAM user, directly or through a group (GetAccountAuthorizationDetails or per-user listing).
create table iam_user_policies (
    run_id varchar not null,
    account_id varchar not null,
    user_name varchar not null,
    via varchar not null,            -- 'user' | 'group'
    group_name varchar,              -- when via = 'group'
    policy_type varchar not null,    -- 'managed' | 'inline'
    policy_name varchar not null,
    policy_arn varchar,              -- managed policies only
    document json                    -- the policy document (managed: its default version); NULL when not fetched
);
-- One row per IAM user the privilege collection saw (with or without policies), with its permissions boundary.
create table iam_user_privilege_inputs (
    run_id varchar not null,
    account_id varchar not null,
    user_name varchar not null,
    permissions_boundary_arn varchar
);
-- 'collected' | 'off' ([collection] privilege = false) | 'failed' (denied or failed: the account
-- is partial, privilege_error says why) | 'not collected' (the run's source has no permissions:
-- a folder of files, or evidence collected before version 7); NULL for skipped accounts
alter table accounts add column privilege_status varchar;
alter table accounts add column privilege_error varchar;
