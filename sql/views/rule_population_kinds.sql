-- Per run and enabled rule: which population the rule judges (what rule_coverage counts per
-- account and rule_population per run), and the grain a failing finding is counted at
-- (resource: key, user or account; the root rules count root users, one per account, whatever
-- key slot a finding names).
--
-- Maintained here, next to the SQL it must agree with: each population uses the same filters as
-- the rules that judge it (sql/rules/*.sql). A rule missing from `definitions` falls back to
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
        ('ROOT_USED_RECENTLY', 'root_users')
),

populations (population, resource, population_label) as (
    values
        ('active_user_keys', 'key', 'active IAM-user access keys'),
        ('inactive_user_keys', 'key', 'inactive IAM-user access keys'),
        ('classified_active_user_keys', 'key', 'active IAM-user access keys of users whose effective privilege was evaluated'),
        ('listed_active_user_keys', 'key', 'active IAM-user access keys of users in the permissions listing'),
        ('console_user_active_keys', 'key', 'active access keys of IAM users with a console password'),
        ('iam_users', 'user', 'IAM users'),
        ('console_users', 'user', 'IAM users with a console password'),
        ('root_users', 'account', 'root users of assessed accounts'),
        ('accounts_in_scope', 'account', 'accounts in scope')
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
        chosen.is_default_population
    from chosen
    inner join populations using (population)
)

select * from final
