-- Per run, enabled rule and account in scope (not skipped): was the rule evaluated in that
-- account, and how many members of its population (rule_population_kinds, its members in
-- population_members) the account holds.
--
-- A rule is evaluated in an account only when the account's evidence lets it judge there:
--   - every rule needs the account assessed (status assessed or partial), except
--     ACCOUNT_NOT_ASSESSED, which judges every account in scope;
--   - the root rules need the credential report's <root_account> row: a report without it
--     leaves the account partial and its root controls unevaluated (never passed);
--   - the privilege rules (populations classified_active_user_keys, listed_active_user_keys)
--     need the account's user permissions: privilege_status 'collected'. Off, failed or not collected (a folder of files)
--     leaves it unevaluated there, never passed.
--   - the SSH key and service-specific credential rules (populations active_ssh_public_keys,
--     active_service_credentials, active_bedrock_api_keys) need the account's listing:
--     credentials_status 'collected'; signing certificates are judged from the credential report
--     where the listing is missing, so they need the account assessed only.
-- This is the one definition of "evaluated" behind rule_population and control_results: a
-- control whose rules were evaluated in no account of the run (or of a report's slice) is
-- NOT EVALUATED, never PASS.
with kinds as (
    select * from rule_population_kinds
),

accounts as (
    select * from accounts where status <> 'skipped'
),

members as (
    select * from population_members
),

member_counts as (
    select run_id, account_id, population, count(*) as members
    from members
    group by all
),

root_counts as (
    select run_id, account_id, members as root_users
    from member_counts
    where population = 'root_users'
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
            when kinds.population = 'root_users' then coalesce(root_counts.root_users, 0) > 0
            when kinds.population in ('classified_active_user_keys', 'listed_active_user_keys')
                then (accounts.privilege_status is not distinct from 'collected')
            when kinds.population in (
                'active_ssh_public_keys', 'active_service_credentials', 'active_bedrock_api_keys'
            )
                then (accounts.credentials_status is not distinct from 'collected')
            else true
        end as is_evaluated,
        member_counts.members
    from kinds
    inner join accounts on kinds.run_id = accounts.run_id
    left join member_counts
        on accounts.run_id = member_counts.run_id
        and accounts.account_id = member_counts.account_id
        and kinds.population = member_counts.population
    left join root_counts
        on accounts.run_id = root_counts.run_id and accounts.account_id = root_counts.account_id
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
