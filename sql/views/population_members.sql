-- Per run and account in scope (not skipped): one row per member of each population a rule
-- judges (rule_population_kinds), named by `subject`, so that a control over several rules can
-- count distinct keys, users, root users and accounts instead of adding up its rules' counts
-- (two root rules over 8 root users are 8 root users, not 16).
--
-- The one definition of each population: rule_coverage counts these rows per account, and
-- control_populations_for counts distinct subjects per kind. Each population uses the same
-- filters as the rules that judge it (sql/rules/*.sql). A subject is spelt as a finding's
-- resource is (ka_subject): account/user/key id (or slot-N) for a key, account/user for a user,
-- the account id for a root user (one per account) and for an account.
with accounts as (
    select * from accounts where status <> 'skipped'
),

keys as (
    select * from keys
),

users as (
    select * from users
),

credentials as (
    select * from credentials
),

active_credentials as (
    select
        run_id,
        account_id,
        credential_kind,
        service_name,
        ka_subject('key', account_id, user_name, credential_id, cert_slot) as subject
    from credentials
    where is_active
),

user_keys as (
    select
        run_id,
        account_id,
        is_active,
        is_user_password_enabled,
        privilege,
        privilege_reason,
        ka_subject('key', account_id, user_name, access_key_id, key_slot) as subject
    from keys
    where not is_root
),

iam_users as (
    select
        run_id,
        account_id,
        is_password_enabled,
        ka_subject('user', account_id, user_name, null, null) as subject
    from users
    where not is_root
),

final as (
    select run_id, account_id, 'active_user_keys' as population, subject
    from user_keys where is_active
    union all
    select run_id, account_id, 'inactive_user_keys', subject
    from user_keys where not is_active
    union all
    select run_id, account_id, 'console_user_active_keys', subject
    from user_keys where is_active and is_user_password_enabled
    union all
    select run_id, account_id, 'classified_active_user_keys', subject
    from user_keys where is_active and privilege in ('admin', 'escalation', 'other')
    union all
    select run_id, account_id, 'listed_active_user_keys', subject
    from user_keys
    where is_active
        and privilege_reason is not null
        and privilege_reason not like 'user permissions %'
        and privilege_reason <> 'user missing from the permissions listing'
    union all
    select run_id, account_id, 'iam_users', subject
    from iam_users
    union all
    select run_id, account_id, 'console_users', subject
    from iam_users where is_password_enabled
    union all
    select run_id, account_id, 'root_users', account_id as subject
    from users where is_root
    union all
    select run_id, account_id, 'accounts_in_scope', account_id as subject
    from accounts
    union all
    select run_id, account_id, 'active_ssh_public_keys', subject
    from active_credentials where credential_kind = 'ssh_public_key'
    union all
    select run_id, account_id, 'active_service_credentials', subject
    from active_credentials where credential_kind = 'service_specific_credential'
    union all
    select run_id, account_id, 'active_bedrock_api_keys', subject
    from active_credentials
    where credential_kind = 'service_specific_credential'
        and service_name = 'bedrock.amazonaws.com'
    union all
    select run_id, account_id, 'active_signing_certificates', subject
    from active_credentials where credential_kind = 'signing_certificate'
)

select * from final
