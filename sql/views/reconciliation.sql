-- Completeness and accuracy: per run, one row per check, each re-performed from the raw tables
-- (issue 21). An auditor takes the run's listing as evidence only once it reconciles:
--   accounts_listed     the organization's listing = in scope + skipped + filtered out
--   accounts_in_scope   in scope = assessed + partial + not assessed
--   users_listed        per account: users in the credential report = users ListUsers listed
--   access_keys_listed  per account: keys in the credential report = keys ListAccessKeys listed,
--                       each paired with a key id
--   findings_of_rule    per account and rule: findings = findings naming a member of the rule's
--                       population where it was evaluated
--   requirement_population  per requirement of every framework and kind of resource:
--                       population = passing + failing + waived + not evaluated
-- difference is found - expected for counts and, for the matched lines (users, keys), the
-- items without a counterpart. result is 'holds', 'does not hold', 'not assessed' (an account
-- not assessed has nothing to reconcile: never a pass) or 'not performed' (the evidence the
-- check needs was not collected: no organization listing, no ListUsers, no ListAccessKeys).
-- query is the command that lists the items behind the line: the saved query query_name
-- (sql/queries/reconcile_*.sql) with the line's run and account.
-- keyaudit.warehouse.reconciliation turns each line that does not hold into a data note.
-- One row per check: its sentences and counts read best unbroken, hence lines past 100.
-- noqa: disable=LT05
with runs as (
    select * from runs
),

accounts as (
    select * from accounts
),

evidence as (
    select * from evidence
),

users as (
    select * from reconciliation_users
),

keys as (
    select * from reconciliation_keys
),

findings as (
    select * from reconciliation_findings
),

coverage as (
    select * from rule_coverage
),

requirements as (
    select * from reconciliation_requirements
),

account_counts as (
    select
        run_id,
        count(*) filter (where status = 'assessed') as assessed,
        count(*) filter (where status = 'partial') as partial,
        count(*) filter (where status = 'not_assessed') as not_assessed,
        count(*) filter (where status = 'skipped') as skipped,
    from accounts
    group by all
),

accounts_listed as (
    select
        runs.run_id,
        1 as check_order,
        'accounts_listed' as check_id,
        null::varchar as account_id,
        null::varchar as framework,
        null::varchar as requirement,
        coalesce('organization ' || runs.organization_id, 'the run') as subject,
        'accounts the organization''s listing (ListAccounts) answered = in scope + skipped + filtered out' as compares,
        runs.accounts_listed::bigint as expected,
        case when runs.accounts_listed is not null then
            (counts.assessed + counts.partial + counts.not_assessed - coalesce(runs.accounts_unlisted, 0)
                + counts.skipped + coalesce(runs.accounts_filtered_out, 0))::bigint
        end as found,
        case
            when runs.accounts_listed is null then
                'scope ' || runs.scope || ': no organization listing to reconcile with'
            else (counts.assessed + counts.partial + counts.not_assessed - coalesce(runs.accounts_unlisted, 0))
                || ' in scope + ' || counts.skipped || ' skipped + '
                || coalesce(runs.accounts_filtered_out, 0) || ' filtered out'
                || case when coalesce(runs.accounts_unlisted, 0) > 0
                    then ' (' || runs.accounts_unlisted || ' configured account(s) not in the listing are in scope as not assessed)'
                    else '' end
        end as detail,
        'reconcile_accounts' as query,
    from runs
    left join account_counts as counts using (run_id)
),

accounts_in_scope as (
    select
        runs.run_id,
        2 as check_order,
        'accounts_in_scope' as check_id,
        null::varchar as account_id,
        null::varchar as framework,
        null::varchar as requirement,
        coalesce('organization ' || runs.organization_id, 'the run') as subject,
        'accounts in scope = assessed + partial + not assessed' as compares,
        runs.accounts_in_scope::bigint as expected,
        coalesce(counts.assessed + counts.partial + counts.not_assessed, 0)::bigint as found,
        coalesce(counts.assessed, 0) || ' assessed + ' || coalesce(counts.partial, 0)
            || ' partial + ' || coalesce(counts.not_assessed, 0) || ' not assessed' as detail,
        'reconcile_accounts' as query,
    from runs
    left join account_counts as counts using (run_id)
),

in_scope as (
    select run_id, account_id, status from accounts where status <> 'skipped'
),

-- the matched checks, one row per item: a user by name, a key by its id (report slot otherwise)
items as (
    select run_id, account_id, 'users_listed' as check_id, user_name as item,
        user_name as report_name, user_name as listed_name, is_in_report, is_listed
    from users
    union all
    select run_id, account_id, 'access_keys_listed', coalesce(access_key_id, user_name || ' slot ' || key_slot),
        user_name || ' slot ' || key_slot, access_key_id || ' of ' || user_name, is_in_report, is_listed
    from keys
),

item_counts as (
    select
        run_id,
        account_id,
        check_id,
        count(*) filter (where is_in_report) as in_report,
        count(*) filter (where is_listed) as listed,
        count(*) filter (where not (is_in_report and is_listed)) as unmatched,
        list(report_name order by item) filter (where is_in_report and not is_listed) as report_only,
        list(listed_name order by item) filter (where is_listed and not is_in_report) as listing_only,
    from items
    group by all
),

-- each matched check in words, and the evidence kind of the listing it needs
matched_checks (check_order, check_id, evidence_kind, listing, compares, report_only, listing_only, query) as (
    values
        (3, 'users_listed', 'list_users', 'ListUsers',
            'IAM users in the credential report = IAM users listed by ListUsers, matched by name',
            'in the credential report, not listed: ',
            'listed, not in the credential report (created after it?): ', 'reconcile_users'),
        (4, 'access_keys_listed', 'access_keys', 'ListAccessKeys',
            'access keys of IAM users in the credential report = keys listed by ListAccessKeys, each paired with a key id',
            'in the credential report, no key id listed: ',
            'listed, not in the credential report: ', 'reconcile_keys')
),

-- which listings each account's evidence holds: a check without its listing is not performed;
-- a run loaded before warehouse version 14 kept no ListUsers (reconciliation_users)
listings as (
    select distinct evidence.run_id, evidence.account_id, evidence.kind as evidence_kind
    from evidence
    inner join runs using (run_id)
    where evidence.account_id is not null
        and (evidence.kind <> 'list_users' or runs.accounts_filtered_out is not null)
),

matched as (
    select
        in_scope.run_id,
        checks.check_order,
        checks.check_id,
        in_scope.account_id,
        null::varchar as framework,
        null::varchar as requirement,
        'account ' || in_scope.account_id as subject,
        checks.compares,
        case when listings.evidence_kind is not null then coalesce(item_counts.in_report, 0) end::bigint as expected,
        case when listings.evidence_kind is not null then coalesce(item_counts.listed, 0) end::bigint as found,
        case when listings.evidence_kind is not null then coalesce(item_counts.unmatched, 0) end::bigint as difference,
        case
            when in_scope.status = 'not_assessed' then 'account not assessed'
            when listings.evidence_kind is null then checks.listing || ' was not collected for this account'
            when coalesce(item_counts.unmatched, 0) = 0 then ''
            else concat_ws('; ',
                case when len(item_counts.report_only) > 0 then checks.report_only || ka_named(item_counts.report_only) end,
                case when len(item_counts.listing_only) > 0 then checks.listing_only || ka_named(item_counts.listing_only) end)
        end as detail,
        checks.query,
        in_scope.status,
        listings.evidence_kind is not null as is_performed,
    from in_scope
    cross join matched_checks as checks
    left join listings
        on in_scope.run_id = listings.run_id
        and in_scope.account_id = listings.account_id
        and checks.evidence_kind = listings.evidence_kind
    left join item_counts
        on in_scope.run_id = item_counts.run_id
        and in_scope.account_id = item_counts.account_id
        and checks.check_id = item_counts.check_id
),

finding_counts as (
    select
        run_id,
        account_id,
        rule_id,
        count(*) as findings,
        count(*) filter (where is_in_population) as in_population,
        list(coalesce(access_key_id, user_name, account_id) order by finding_id) filter (where not is_in_population) as outside,
        any_value(population_label) as population_label,
    from findings
    group by all
),

findings_of_rule as (
    select
        coverage.run_id,
        5 as check_order,
        'findings_of_rule' as check_id,
        coverage.account_id,
        null::varchar as framework,
        coverage.rule_id as requirement,
        'account ' || coverage.account_id || ', ' || coverage.rule_id as subject,
        'findings of the rule = findings naming a member of its population where it was evaluated' as compares,
        coalesce(finding_counts.findings, 0)::bigint as expected,
        coalesce(finding_counts.in_population, 0)::bigint as found,
        (coalesce(finding_counts.in_population, 0) - coalesce(finding_counts.findings, 0))::bigint as difference,
        case
            when in_scope.status = 'not_assessed' then 'account not assessed'
            when coalesce(finding_counts.outside, []) = [] then ''
            else 'outside the ' || finding_counts.population_label
                || case when coverage.is_evaluated then '' else ' (the rule was not evaluated here)' end
                || ': ' || ka_named(finding_counts.outside)
        end as detail,
        'reconcile_findings' as query,
        in_scope.status,
        true as is_performed,
    from coverage
    inner join in_scope using (run_id, account_id)
    left join finding_counts using (run_id, account_id, rule_id)
),

per_account as (
    select * from matched
    union all by name
    select * from findings_of_rule
),

account_lines as (
    select
        run_id, check_order, check_id, account_id, framework, requirement, subject, compares,
        case when status = 'not_assessed' then null else expected end as expected,
        case when status = 'not_assessed' then null else found end as found,
        case when status = 'not_assessed' then null else difference end as difference,
        case
            when status = 'not_assessed' then 'not assessed'
            when not is_performed then 'not performed'
            when difference = 0 then 'holds'
            else 'does not hold'
        end as result,
        detail,
        query,
    from per_account
),

requirement_lines as (
    select
        run_id,
        6 as check_order,
        'requirement_population' as check_id,
        null::varchar as account_id,
        framework,
        control_id as requirement,
        framework || ' ' || control_id || ' (' || ka_kind_plural(kind) || ')' as subject,
        'population (' || population || ') = passing + failing + waived + not evaluated' as compares,
        (evaluated + not_evaluated)::bigint as expected,
        (passing + failing + waived + not_evaluated)::bigint as found,
        (passing + failing + waived - evaluated)::bigint as difference,
        passing || ' passing + ' || failing || ' failing + ' || waived || ' waived + '
            || not_evaluated || ' not evaluated' as detail,
        'reconcile_requirements' as query,
    from requirements
),

run_lines as (
    select * from accounts_listed
    union all by name
    select * from accounts_in_scope
    union all by name
    select * from requirement_lines
),

final as (
    select
        run_id, check_order, check_id, account_id, framework, requirement, subject, compares,
        expected, found,
        coalesce(difference, found - expected) as difference,
        case
            when expected is null then 'not performed'
            when coalesce(difference, found - expected) = 0 then 'holds'
            else 'does not hold'
        end as result,
        detail,
        query,
    from run_lines
    union all by name
    select * from account_lines
)

select
    run_id, check_order, check_id, subject, account_id, framework, requirement, compares,
    expected, found, difference, result, detail,
    query as query_name,
    ka_reconcile_command(query, run_id, account_id) as query,
from final
