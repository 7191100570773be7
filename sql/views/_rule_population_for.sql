-- rule_population_for(wanted_account_ids): rule_population over the given accounts only (NULL:
-- every account), so a per-owner report counts its own accounts with the run's definitions.
-- The rule_population view is rule_population_for(NULL).
create or replace macro rule_population_for(wanted_account_ids) as table
with kinds as (
    select * from rule_population_kinds
),

rule_coverage as (
    select * from rule_coverage
    where ka_in_accounts(account_id, wanted_account_ids)
),

per_rule as (
    select
        run_id,
        rule_id,
        sum(evaluated) as evaluated,
        count(*) as accounts_in_scope,
        count(*) filter (where is_evaluated) as accounts_evaluated,
        count(*) filter (where is_account_not_assessed) as accounts_not_assessed
    from rule_coverage
    group by all
),

final as (
    select
        kinds.run_id,
        kinds.rule_id,
        kinds.population,
        kinds.population_label,
        kinds.resource,
        coalesce(per_rule.evaluated, 0)::bigint as evaluated,
        coalesce(per_rule.accounts_in_scope, 0)::bigint as accounts_in_scope,
        coalesce(per_rule.accounts_evaluated, 0)::bigint as accounts_evaluated,
        coalesce(per_rule.accounts_not_assessed, 0)::bigint as accounts_not_assessed,
        kinds.is_default_population
    from kinds
    left join per_rule using (run_id, rule_id)
)

select * from final
