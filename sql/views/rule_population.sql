-- Per run and enabled rule: what the rule judges (its evaluated population) and how many there
-- were, so the control view can say "CIS 1.14: 412 active IAM-user access keys evaluated".
-- resource is the grain a failing finding is counted at (key, user or account: the root rules
-- count root users, one per account, whatever key slot a finding names).
--
-- Maintained here, next to the SQL it must agree with: each population uses the same filters as
-- the rules that judge it (sql/rules/*.sql). A rule missing from `definitions` falls back to
-- the population of its scope (key: active IAM-user keys, user: IAM users, account: assessed
-- accounts) with is_default_population = true, and tests/lifecycle fail until it is listed.
with run_rules as (
    select * from run_rules where enabled
),

accounts as (
    select * from accounts
),

keys as (
    select * from keys
),

users as (
    select * from users
),

definitions (rule_id, population) as (
    values
        ('ACCESS_KEY_CREATED_AT_SETUP', 'console_user_active_keys'),
        ('ACCESS_KEY_NEVER_USED', 'active_user_keys'),
        ('ACCESS_KEY_NOT_ROTATED', 'active_user_keys'),
        ('ACCESS_KEY_UNUSED', 'active_user_keys'),
        ('ACCOUNT_NOT_ASSESSED', 'accounts_in_scope'),
        ('CONSOLE_USER_WITHOUT_MFA', 'console_users'),
        ('INACTIVE_KEY_NOT_REMOVED', 'inactive_user_keys'),
        ('MULTIPLE_ACTIVE_KEYS', 'iam_users'),
        ('PASSWORD_UNUSED', 'console_users'),
        ('ROOT_ACCESS_KEY_PRESENT', 'assessed_accounts'),
        ('ROOT_MFA_DISABLED', 'assessed_accounts'),
        ('ROOT_USED_RECENTLY', 'assessed_accounts')
),

populations (population, resource, population_label) as (
    values
        ('active_user_keys', 'key', 'active IAM-user access keys'),
        ('inactive_user_keys', 'key', 'inactive IAM-user access keys'),
        ('console_user_active_keys', 'key', 'active access keys of IAM users with a console password'),
        ('iam_users', 'user', 'IAM users'),
        ('console_users', 'user', 'IAM users with a console password'),
        ('assessed_accounts', 'account', 'root users of assessed accounts'),
        ('accounts_in_scope', 'account', 'accounts in scope')
),

scope_defaults (scope, population) as (
    values
        ('key', 'active_user_keys'),
        ('user', 'iam_users'),
        ('account', 'assessed_accounts')
),

key_counts as (
    select
        run_id,
        count(*) filter (where not is_root and is_active) as active_user_keys,
        count(*) filter (where not is_root and not is_active) as inactive_user_keys,
        count(*) filter (where not is_root and is_active and is_user_password_enabled)
            as console_user_active_keys
    from keys
    group by run_id
),

user_counts as (
    select
        run_id,
        count(*) filter (where not is_root) as iam_users,
        count(*) filter (where not is_root and is_password_enabled) as console_users
    from users
    group by run_id
),

account_counts as (
    select
        run_id,
        count(*) filter (where status in ('assessed', 'partial')) as assessed_accounts,
        count(*) filter (where status <> 'skipped') as accounts_in_scope
    from accounts
    group by run_id
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
        coalesce(
            case chosen.population
                when 'active_user_keys' then key_counts.active_user_keys
                when 'inactive_user_keys' then key_counts.inactive_user_keys
                when 'console_user_active_keys' then key_counts.console_user_active_keys
                when 'iam_users' then user_counts.iam_users
                when 'console_users' then user_counts.console_users
                when 'assessed_accounts' then account_counts.assessed_accounts
                when 'accounts_in_scope' then account_counts.accounts_in_scope
            end,
            0
        ) as evaluated,
        chosen.is_default_population
    from chosen
    inner join populations using (population)
    left join key_counts using (run_id)
    left join user_counts using (run_id)
    left join account_counts using (run_id)
)

select * from final
