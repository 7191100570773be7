-- Per run and finding: whether it names a member of its rule's population
-- (rule_population_kinds, population_members) in an account where the rule was evaluated
-- (rule_coverage). A rule's findings are its rows over that population; one that names anything
-- else (a key the run never saw, an account not assessed) is a difference, never silently
-- counted. The one definition behind the reconciliation's findings lines and the saved query
-- reconcile_findings.
with findings as (
    select * from findings
),

kinds as (
    select * from rule_population_kinds
),

members as (
    select distinct run_id, account_id, population, subject from population_members
),

coverage as (
    select * from rule_coverage where is_evaluated
),

named as (
    select
        findings.run_id,
        findings.finding_id,
        findings.rule_id,
        findings.account_id,
        findings.user_name,
        findings.access_key_id,
        findings.key_slot,
        findings.waived,
        kinds.population,
        kinds.population_label,
        ka_subject(
            kinds.resource, findings.account_id, findings.user_name, findings.access_key_id,
            findings.key_slot
        ) as subject,
    from findings
    inner join kinds using (run_id, rule_id)
),

final as (
    select
        named.*,
        members.subject is not null and coverage.rule_id is not null as is_in_population,
    from named
    left join members
        on named.run_id = members.run_id
        and named.account_id = members.account_id
        and named.population = members.population
        and named.subject = members.subject
    left join coverage
        on named.run_id = coverage.run_id
        and named.account_id = coverage.account_id
        and named.rule_id = coverage.rule_id
)

select * from final
