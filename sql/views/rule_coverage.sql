-- Per run, enabled rule and account in scope (not skipped): was the rule evaluated in that
-- account, and how many members of its population (rule_population_kinds) the account holds.
--
-- A rule is evaluated in an account only when the account's evidence lets it judge there:
--   - every rule needs the account assessed (status assessed or partial), except
--     ACCOUNT_NOT_ASSESSED, which judges every account in scope;
--   - the root rules need the credential report's <root_account> row: a report without it
--     leaves the account partial and its root controls unevaluated (never passed);
--   - the privilege rules (populations classified_active_user_keys, listed_active_user_keys)
--     need the account's user permissions: privilege_status 'collected'. Off, failed or not collected (a folder of files)
--     leaves it unevaluated there, never passed.
-- This is the one definition of "evaluated" behind rule_population and control_results: a
-- control whose rules were evaluated in no account of the run (or of a report's slice) is
-- NOT EVALUATED, never PASS.
with kinds as (
    select * from rule_population_kinds
),

accounts as (
    select * from accounts where status <> 'skipped'
),

keys as (
    select * from keys
),

users as (
    select * from users
),

key_counts as (
    select
        run_id,
        account_id,
        count(*) filter (where not is_root and is_active) as active_user_keys,
        count(*) filter (where not is_root and not is_active) as inactive_user_keys,
        count(*) filter (where not is_root and is_active and is_user_password_enabled)
            as console_user_active_keys,
        count(*) filter (
            where not is_root and is_active and privilege in ('admin', 'escalation', 'other')
        ) as classified_active_user_keys,
        count(*) filter (where not is_root and is_active and privilege_reason is not null
            and privilege_reason not like 'user permissions %'
            and privilege_reason <> 'user missing from the permissions listing')
            as listed_active_user_keys
    from keys
    group by all
),

user_counts as (
    select
        run_id,
        account_id,
        count(*) filter (where not is_root) as iam_users,
        count(*) filter (where not is_root and is_password_enabled) as console_users,
        count(*) filter (where is_root) as root_users
    from users
    group by all
),

judged as (
    select
        kinds.run_id,
        kinds.rule_id,
        accounts.account_id,
        accounts.status = 'not_assessed' as is_account_not_assessed,
        case
            when kinds.population = 'accounts_in_scope' then true
            when accounts.status not in ('assessed', 'partial') then false
            when kinds.population = 'root_users' then coalesce(user_counts.root_users, 0) > 0
            when kinds.population in ('classified_active_user_keys', 'listed_active_user_keys')
                then accounts.privilege_status is not distinct from 'collected'
            else true
        end as is_evaluated,
        case kinds.population
            when 'active_user_keys' then key_counts.active_user_keys
            when 'inactive_user_keys' then key_counts.inactive_user_keys
            when 'console_user_active_keys' then key_counts.console_user_active_keys
            when 'classified_active_user_keys' then key_counts.classified_active_user_keys
            when 'listed_active_user_keys' then key_counts.listed_active_user_keys
            when 'iam_users' then user_counts.iam_users
            when 'console_users' then user_counts.console_users
            when 'root_users' then user_counts.root_users
            when 'accounts_in_scope' then 1
        end as members
    from kinds
    inner join accounts on accounts.run_id = kinds.run_id
    left join key_counts
        on key_counts.run_id = accounts.run_id and key_counts.account_id = accounts.account_id
    left join user_counts
        on user_counts.run_id = accounts.run_id and user_counts.account_id = accounts.account_id
),

final as (
    select
        run_id,
        rule_id,
        account_id,
        is_evaluated,
        is_account_not_assessed,
        case when is_evaluated then coalesce(members, 0) else 0 end as evaluated
    from judged
)

select * from final
