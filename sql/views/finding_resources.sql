-- Per run, enabled rule and resource its findings name (resource: the grain of
-- rule_population_kinds, spelt by ka_subject): whether every finding about it is waived. One
-- definition of a failing resource (some finding not waived) and a waived one (every finding
-- waived: accepted risk, neither failing nor passing), read by control_results_for per rule and
-- by control_populations_for per set of rules.
with findings as (
    select * from findings
),

kinds as (
    select * from rule_population_kinds
),

final as (
    select
        findings.run_id,
        findings.rule_id,
        findings.account_id,
        kinds.kind,
        ka_subject(
            kinds.resource,
            findings.account_id,
            findings.user_name,
            findings.access_key_id,
            findings.key_slot
        ) as subject,
        bool_and(findings.waived) as is_waived
    from findings
    inner join kinds using (run_id, rule_id)
    group by all
)

select * from final
