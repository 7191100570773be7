-- control_populations_for(wanted_account_ids): per run, control and kind of resource (key,
-- user, root user, account), over the given accounts (NULL: every account; the
-- control_populations view), how many distinct resources of that kind the control's rules
-- evaluated, and how many of them fail or are waived.
--
-- A control over several rules counts each resource once per kind, never a sum across rules or
-- kinds: SOC 2 CC6.1 evaluates the active keys (two key rules, the same keys), the IAM users
-- (console users are IAM users) and the root users (two root rules, one root user per account)
-- of the accounts each rule was evaluated in (rule_coverage), each kind on its own line.
-- population names the kind's members by the broadest population of the control's rules
-- (rule_population_kinds.broader); two unrelated ones are joined with "or".
--
-- failing counts distinct resources of the kind with at least one finding of the control's rules
-- that is not waived, waived those whose every such finding is waived, passing the rest; the
-- control's result is control_results_for's.
create or replace macro control_populations_for(wanted_account_ids) as table
with control_rules as (
    select * from control_rules
),

kinds as (
    select * from rule_population_kinds
),

rule_coverage as (
    select * from rule_coverage
    where is_evaluated
        and ka_in_accounts(account_id, wanted_account_ids)
),

members as (
    select * from population_members
    where ka_in_accounts(account_id, wanted_account_ids)
),

rule_resources as (
    select * from finding_resources
    where ka_in_accounts(account_id, wanted_account_ids)
),

control_kinds as (
    select control_rules.run_id, control_rules.framework, control_rules.control_id,
        control_rules.rule_id, kinds.population, kinds.kind, kinds.resource, kinds.broader,
        kinds.population_label
    from control_rules
    inner join kinds using (run_id, rule_id)
),

-- Controls share populations and rules (CIS 1.14, Security Hub IAM.3 and PCI DSS 8.3.9 are all
-- the active keys of ACCESS_KEY_NOT_ROTATED): each set of populations, and each set of rules, of
-- one kind is counted once and handed to every control that has it.
control_sets as (
    select
        run_id,
        framework,
        control_id,
        kind,
        list(distinct population order by population) as populations,
        array_to_string(list(distinct population order by population), ',') as population_set,
        array_to_string(list(distinct rule_id order by rule_id), ',') as rule_set,
        count(distinct rule_id) as count_rules
    from control_kinds
    group by all
),

-- The populations of a set that no other population of the set contains (broader): they name
-- the members, and when there is one, or each is a widest population of its kind (disjoint from
-- the other widest ones: active and inactive keys), the members are their sum; otherwise they
-- are counted one by one (tests/lifecycle check these containments on given rows).
widest as (
    select distinct
        control_sets.run_id,
        control_sets.framework,
        control_sets.control_id,
        control_sets.kind,
        control_sets.population_set,
        control_kinds.population,
        control_kinds.population_label,
        control_kinds.broader is null as is_widest_of_kind
    from control_sets
    inner join control_kinds using (run_id, framework, control_id, kind)
    where control_kinds.broader is null
        or not list_contains(control_sets.populations, control_kinds.broader)
),

evaluated_populations as (
    select distinct rule_coverage.run_id, kinds.population, rule_coverage.account_id
    from rule_coverage
    inner join kinds using (run_id, rule_id)
),

population_counts as (
    select members.run_id, members.population, count(*) as evaluated
    from members
    inner join evaluated_populations using (run_id, account_id, population)
    group by all
),

summed_sets as (
    select sets.run_id, sets.population_set, sum(population_counts.evaluated) as evaluated
    from (
        select distinct run_id, population_set, population, is_widest_of_kind from widest
    ) as sets
    left join population_counts using (run_id, population)
    group by all
    having count(*) = 1 or bool_and(sets.is_widest_of_kind)
),

overlapping_sets as (
    select distinct control_sets.run_id, control_sets.population_set, control_kinds.population
    from control_sets
    inner join control_kinds using (run_id, framework, control_id, kind)
    anti join summed_sets using (run_id, population_set)
),

counted_sets as (
    select overlapping_sets.run_id, overlapping_sets.population_set,
        count(distinct members.subject) as evaluated
    from overlapping_sets
    inner join evaluated_populations using (run_id, population)
    inner join members using (run_id, account_id, population)
    group by all
),

evaluated_sets as (
    select run_id, population_set, evaluated from summed_sets
    union all
    select run_id, population_set, evaluated from counted_sets
),

-- a set of one rule: its resources as they are; of several: each resource once, failing when a
-- finding of any of them is not waived
rule_sets as (
    select distinct control_sets.run_id, control_sets.rule_set, control_kinds.rule_id
    from control_sets
    inner join control_kinds using (run_id, framework, control_id, kind)
    where control_sets.count_rules > 1
),

set_resources as (
    select rule_sets.run_id, rule_sets.rule_set, rule_resources.subject,
        bool_and(rule_resources.is_waived) as is_waived
    from rule_sets
    inner join rule_resources using (run_id, rule_id)
    group by all
    union all
    select run_id, rule_id, subject, is_waived
    from rule_resources
),

judged_sets as (
    select
        run_id,
        rule_set,
        count(*) filter (where not is_waived) as failing,
        count(*) filter (where is_waived) as waived
    from set_resources
    group by all
),

labels as (
    select
        run_id,
        framework,
        control_id,
        kind,
        string_agg(distinct population_label, ' or ' order by population_label) as population
    from widest
    group by all
),

final as (
    select
        control_sets.run_id,
        control_sets.framework,
        control_sets.control_id,
        control_sets.kind,
        labels.population,
        coalesce(evaluated_sets.evaluated, 0)::bigint as evaluated,
        coalesce(judged_sets.failing, 0)::bigint as failing,
        coalesce(judged_sets.waived, 0)::bigint as waived,
        greatest(
            coalesce(evaluated_sets.evaluated, 0) - coalesce(judged_sets.failing, 0)
                - coalesce(judged_sets.waived, 0),
            0
        )::bigint as passing
    from control_sets
    inner join labels using (run_id, framework, control_id, kind)
    left join evaluated_sets using (run_id, population_set)
    left join judged_sets using (run_id, rule_set)
)

select * from final
