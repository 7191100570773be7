-- Per run, requirement of every framework (control_rules) and kind of resource: the population
-- the framework view reports (control_populations.evaluated, plus the members in accounts where
-- the requirement's rules could not judge) against passing + failing + waived + not evaluated,
-- where passing is counted again here, member by member: the members of the requirement's
-- populations (population_members, in accounts where they were evaluated) that no finding of
-- its rules names. A finding about a resource outside the population, or a population the view
-- miscounts, makes the two sides differ; control_populations' own passing
-- (evaluated - failing - waived, never below 0) would hide it.
with control_rules as (
    select * from control_rules
),

kinds as (
    select * from rule_population_kinds
),

reported as (
    select * from control_populations
),

members as (
    select distinct run_id, account_id, population, subject from population_members
),

coverage as (
    select * from rule_coverage
),

resources as (
    select * from finding_resources
),

control_sets as (
    select
        control_rules.run_id,
        control_rules.framework,
        control_rules.control_id,
        kinds.kind,
        list(distinct kinds.population order by kinds.population) as populations,
        list(distinct control_rules.rule_id order by control_rules.rule_id) as rules,
    from control_rules
    inner join kinds using (run_id, rule_id)
    group by all
),

-- requirements share populations and rules (CIS 1.14, Security Hub IAM.3): each set once, with
-- a number of its own that the joins below use (joining and grouping on the lists themselves
-- made this view 30 s of a 1,000-account report)
distinct_sets as (
    select *, row_number() over (order by run_id, kind, populations, rules) as set_id
    from (select distinct run_id, kind, populations, rules from control_sets) as sets
),

evaluated_in as (
    select coverage.run_id, kinds.population, coverage.account_id,
        bool_or(coverage.is_evaluated) as is_evaluated
    from coverage
    inner join kinds using (run_id, rule_id)
    group by all
),

set_members as (
    select
        sets.run_id, sets.set_id, members.subject,
        bool_or(evaluated_in.is_evaluated) as is_evaluated
    from (select run_id, set_id, unnest(populations) as population from distinct_sets) as sets
    inner join members using (run_id, population)
    inner join evaluated_in using (run_id, population, account_id)
    group by all
),

set_findings as (
    select distinct sets.run_id, sets.set_id, resources.subject
    from (select run_id, set_id, kind, unnest(rules) as rule_id from distinct_sets) as sets
    inner join resources using (run_id, rule_id, kind)
),

counted as (
    select
        set_members.run_id, set_members.set_id,
        count(*) filter (where set_members.is_evaluated and set_findings.subject is null)
            as passing,
        count(*) filter (where not set_members.is_evaluated) as not_evaluated,
    from set_members
    left join set_findings using (run_id, set_id, subject)
    group by all
),

final as (
    select
        control_sets.run_id,
        control_sets.framework,
        control_sets.control_id,
        control_sets.kind,
        reported.population,
        reported.evaluated,
        coalesce(counted.passing, 0)::bigint as passing,
        reported.failing,
        reported.waived,
        coalesce(counted.not_evaluated, 0)::bigint as not_evaluated,
    from control_sets
    inner join reported using (run_id, framework, control_id, kind)
    inner join distinct_sets using (run_id, kind, populations, rules)
    left join counted using (run_id, set_id)
)

select * from final
