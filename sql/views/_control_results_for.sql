-- control_results_for(wanted_account_ids): per run, control and rule, over the given accounts
-- (NULL: every account; the control_results view), how many resources the rule evaluated,
-- how many fail and pass, and the result, so a report can say "CIS 1.14 (v1.4–v4.0): 412
-- active IAM-user access keys evaluated, 37 fail" and a per-owner report says the same of its
-- own accounts.
--
-- Controls come from the catalogue in force for the run (control_rules: run_rules.controls,
-- each framework named by its label in keyaudit/frameworks.py). A control
-- that several rules implement (CIS 1.12: unused keys and unused passwords) has one row per
-- rule, because their populations differ. evaluated and the account counts come from
-- rule_population_for; failing counts distinct resources (finding_resources) with a finding not
-- waived, waived those whose every finding is waived (accepted risk: neither failing nor
-- passing), and passing = evaluated - failing - waived.
--
-- result never says more than the evidence: 'fail' when a resource fails; 'not evaluated' when
-- the rule was evaluated in no account (none assessed, or none with the evidence it needs:
-- rule_coverage); 'pass' otherwise, which holds for accounts_evaluated of accounts_in_scope.
create or replace macro control_results_for(wanted_account_ids) as table
with rule_population as (
    select * from rule_population_for(wanted_account_ids)
),

resources as (
    select * from finding_resources
    where ka_in_accounts(account_id, wanted_account_ids)
),

mappings as (
    select * from control_rules
),

per_rule as (
    select
        run_id,
        rule_id,
        count(*) filter (where not is_waived) as failing,
        count(*) filter (where is_waived) as waived
    from resources
    group by all
),

counted as (
    select
        mappings.run_id,
        mappings.framework,
        mappings.control_id,
        mappings.rule_id,
        rule_population.evaluated,
        coalesce(per_rule.failing, 0) as failing,
        coalesce(per_rule.waived, 0) as waived,
        rule_population.population_label as population,
        rule_population.accounts_in_scope,
        rule_population.accounts_evaluated,
        rule_population.accounts_not_assessed
    from mappings
    inner join rule_population using (run_id, rule_id)
    left join per_rule using (run_id, rule_id)
    where mappings.control_id is not null
),

final as (
    select
        run_id,
        framework,
        control_id,
        rule_id,
        evaluated,
        failing,
        greatest(evaluated - failing - waived, 0) as passing,
        waived,
        population,
        accounts_in_scope,
        accounts_evaluated,
        accounts_in_scope - accounts_evaluated as accounts_not_evaluated,
        accounts_not_assessed,
        case
            when failing > 0 then 'fail'
            when accounts_evaluated = 0 then 'not evaluated'
            else 'pass'
        end as result
    from counted
)

select * from final
