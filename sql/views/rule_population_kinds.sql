-- Per run and enabled rule: which population the rule judges (its members in
-- population_members, counted per account by rule_coverage and per run by rule_population), the
-- kind of its members, and the grain a failing finding is counted at
-- (resource: key, user or account; the root rules count root users, one per account, whatever
-- key slot a finding names).
--
-- Maintained here and in population_members.sql (each population's members, with the same
-- filters as the rules that judge it: sql/rules/*.sql). A rule missing from `definitions` falls back to
-- the population of its scope (key: active IAM-user keys, user: IAM users, account: root users)
-- with is_default_population = true, and tests/lifecycle fail until it is listed.
with run_rules as (
    select * from run_rules where enabled
),

definitions (rule_id, population) as (
    values
        ('ACCESS_KEY_CREATED_AT_SETUP', 'console_user_active_keys'),
        ('ACCESS_KEY_NEVER_USED', 'active_user_keys'),
        ('ACCESS_KEY_NOT_ROTATED', 'active_user_keys'),
        ('ACCESS_KEY_ON_PRIVILEGED_USER', 'classified_active_user_keys'),
        ('ACCESS_KEY_QUARANTINED', 'listed_active_user_keys'),
        ('ACCESS_KEY_UNUSED', 'active_user_keys'),
        ('ACCOUNT_NOT_ASSESSED', 'accounts_in_scope'),
        ('CONSOLE_USER_WITHOUT_MFA', 'console_users'),
        ('INACTIVE_KEY_NOT_REMOVED', 'inactive_user_keys'),
        ('MULTIPLE_ACTIVE_KEYS', 'iam_users'),
        ('PASSWORD_UNUSED', 'console_users'),
        ('ROOT_ACCESS_KEY_PRESENT', 'root_users'),
        ('ROOT_MFA_DISABLED', 'root_users'),
        ('ROOT_USED_RECENTLY', 'root_users'),
        ('SSH_PUBLIC_KEY_NOT_ROTATED', 'active_ssh_public_keys'),
        ('SERVICE_CREDENTIAL_NOT_ROTATED', 'active_service_credentials'),
        ('BEDROCK_API_KEY_WITHOUT_EXPIRY', 'active_bedrock_api_keys'),
        ('SIGNING_CERTIFICATE_NOT_ROTATED', 'active_signing_certificates')
),

-- kind: what a member is (key, user, root user, account), the unit a control's population is
-- counted in per kind, never summed across kinds; broader: the population of the same kind this
-- one is part of, so a control over both is described by the broader one alone;
-- credential_kind: the credential a member is (the credentials mart's credential_kind, or
-- access_key), null for users, root users and accounts (finding_credentials: what a finding names).
populations (population, resource, kind, broader, credential_kind, population_label) as (
    -- a table of values, one population a line, however long
    -- noqa: disable=LT05
    values
        ('active_user_keys', 'key', 'key', null, 'access_key', 'active IAM-user access keys'),
        ('inactive_user_keys', 'key', 'key', null, 'access_key', 'inactive IAM-user access keys'),
        ('classified_active_user_keys', 'key', 'key', 'active_user_keys', 'access_key', 'active IAM-user access keys of users whose effective privilege is known'),
        ('listed_active_user_keys', 'key', 'key', 'active_user_keys', 'access_key', 'active IAM-user access keys of users in the permissions listing'),
        ('console_user_active_keys', 'key', 'key', 'active_user_keys', 'access_key', 'active access keys of IAM users with a console password'),
        ('iam_users', 'user', 'user', null, null, 'IAM users'),
        ('console_users', 'user', 'user', 'iam_users', null, 'IAM users with a console password'),
        ('root_users', 'account', 'root user', null, null, 'root users of assessed accounts'),
        ('accounts_in_scope', 'account', 'account', null, null, 'accounts in scope'),
        ('active_ssh_public_keys', 'key', 'SSH public key', null, 'ssh_public_key', 'active SSH public keys of IAM users'),
        ('active_service_credentials', 'key', 'service-specific credential', null, 'service_specific_credential', 'active service-specific credentials of IAM users'),
        ('active_bedrock_api_keys', 'key', 'service-specific credential', 'active_service_credentials', 'service_specific_credential', 'active Amazon Bedrock API keys of IAM users'),
        ('active_signing_certificates', 'key', 'signing certificate', null, 'signing_certificate', 'active signing certificates of IAM users')
    -- noqa: enable=LT05
),

scope_defaults (scope, population) as (
    values
        ('key', 'active_user_keys'),
        ('user', 'iam_users'),
        ('account', 'root_users')
),

chosen as (
    select
        run_rules.run_id,
        run_rules.rule_id,
        coalesce(definitions.population, scope_defaults.population) as population,
        definitions.population is null as is_default_population
    from run_rules
    left join definitions using (rule_id)
    left join scope_defaults using (scope)
),

final as (
    select
        chosen.run_id,
        chosen.rule_id,
        chosen.population,
        populations.population_label,
        populations.resource,
        populations.kind,
        populations.broader,
        populations.credential_kind,
        chosen.is_default_population
    from chosen
    inner join populations using (population)
)

select * from final
