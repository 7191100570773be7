-- control_results_for(wanted_account_ids): per run, control and rule, over the given accounts
-- (NULL: every account; the control_results view), how many resources the rule evaluated,
-- how many fail and pass, and the result, so a report can say "CIS 1.14 (v1.4–v4.0): 412
-- active IAM-user access keys evaluated, 37 fail" and a per-owner report says the same of its
-- own accounts.
--
-- Controls come from the catalogue in force for the run (run_rules.controls), one branch of
-- `mappings` per framework of keyaudit/rules/frameworks.py, named by its label there (a test
-- checks they agree); a run recorded before a framework existed has no rows for it. A control
-- that several rules implement (CIS 1.12: unused keys and unused passwords) has one row per
-- rule, because their populations differ. evaluated and the account counts come from
-- rule_population_for; failing counts distinct resources with at least one finding that is not
-- waived, waived those whose every finding is waived (accepted risk: neither failing nor
-- passing), and passing = evaluated - failing - waived.
--
-- result never says more than the evidence: 'fail' when a resource fails; 'not evaluated' when
-- the rule was evaluated in no account (none assessed, or none with the evidence it needs:
-- rule_coverage); 'pass' otherwise, which holds for accounts_evaluated of accounts_in_scope.
create or replace macro control_results_for(wanted_account_ids) as table
with run_rules as (
    select * from run_rules where enabled
),

rule_population as (
    select * from rule_population_for(wanted_account_ids)
),

findings as (
    select * from findings
    where wanted_account_ids is null or list_contains(wanted_account_ids, account_id)
),

mappings as (
    select run_id, rule_id, 'CIS v1.4–v4.0' as framework, controls ->> 'cis_v1_4_to_v4_0' as control_id
    from run_rules
    union all
    select run_id, rule_id, 'CIS v5.0', controls ->> 'cis_v5_0'
    from run_rules
    union all
    select run_id, rule_id, 'CIS v6.0', controls ->> 'cis_v6_0'
    from run_rules
    union all
    select run_id, rule_id, 'Security Hub', unnest(from_json(controls -> 'security_hub', '["VARCHAR"]'))
    from run_rules
    union all
    select run_id, rule_id, 'AWS Config', unnest(from_json(controls -> 'aws_config', '["VARCHAR"]'))
    from run_rules
    union all
    select run_id, rule_id, 'NIST SP 800-53 Rev. 5', unnest(from_json(controls -> 'nist_800_53_r5', '["VARCHAR"]'))
    from run_rules
    union all
    select run_id, rule_id, 'PCI DSS v4.0.1', unnest(from_json(controls -> 'pci_dss_v4_0_1', '["VARCHAR"]'))
    from run_rules
    union all
    select run_id, rule_id, 'SOC 2', unnest(from_json(controls -> 'soc2', '["VARCHAR"]'))
    from run_rules
    union all
    select run_id, rule_id, 'ISO/IEC 27001:2022', unnest(from_json(controls -> 'iso_27001_2022', '["VARCHAR"]'))
    from run_rules
    union all
    select run_id, rule_id, 'CIS Controls v8.1', unnest(from_json(controls -> 'cis_controls_v8_1', '["VARCHAR"]'))
    from run_rules
    union all
    select run_id, rule_id, 'keyaudit', controls ->> 'keyaudit'
    from run_rules
),

resources as (
    select
        findings.run_id,
        findings.rule_id,
        case rule_population.resource
            when 'account' then findings.account_id
            when 'user' then findings.account_id || '/' || coalesce(findings.user_name, '')
            else findings.account_id || '/' || coalesce(findings.user_name, '') || '/'
                || coalesce(findings.access_key_id, 'slot-' || findings.key_slot, '')
        end as resource_key,
        bool_and(findings.waived) as is_waived
    from findings
    inner join rule_population using (run_id, rule_id)
    group by all
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
