-- Per run: each control of every framework and the enabled rules that evidence it, from the
-- catalogue in force for the run (run_rules.controls). One branch per framework of
-- keyaudit/frameworks.py, named by its label there (a test checks they agree); a run
-- recorded before a framework existed has no rows for it. control_results_for and
-- control_populations_for read it.
with run_rules as (
    select * from run_rules where enabled
),

mappings as (
    select
        run_id, rule_id, 'CIS v1.4–v4.0' as framework, controls ->> 'cis_v1_4_to_v4_0' as control_id
    from run_rules
    union all
    select run_id, rule_id, 'CIS v5.0', controls ->> 'cis_v5_0'
    from run_rules
    union all
    select run_id, rule_id, 'CIS v6.0', controls ->> 'cis_v6_0'
    from run_rules
    union all
    select
        run_id, rule_id, 'Security Hub',
        unnest(from_json(controls -> 'security_hub', '["VARCHAR"]'))
    from run_rules
    union all
    select run_id, rule_id, 'AWS Config', unnest(from_json(controls -> 'aws_config', '["VARCHAR"]'))
    from run_rules
    union all
    select
        run_id, rule_id, 'NIST SP 800-53 Rev. 5',
        unnest(from_json(controls -> 'nist_800_53_r5', '["VARCHAR"]'))
    from run_rules
    union all
    select
        run_id, rule_id, 'PCI DSS v4.0.1',
        unnest(from_json(controls -> 'pci_dss_v4_0_1', '["VARCHAR"]'))
    from run_rules
    union all
    select run_id, rule_id, 'SOC 2', unnest(from_json(controls -> 'soc2', '["VARCHAR"]'))
    from run_rules
    union all
    select
        run_id, rule_id, 'ISO/IEC 27001:2022',
        unnest(from_json(controls -> 'iso_27001_2022', '["VARCHAR"]'))
    from run_rules
    union all
    select
        run_id, rule_id, 'CIS Controls v8.1',
        unnest(from_json(controls -> 'cis_controls_v8_1', '["VARCHAR"]'))
    from run_rules
    union all
    select run_id, rule_id, 'keyaudit', controls ->> 'keyaudit'
    from run_rules
),

final as (
    select * from mappings where control_id is not null
)

select * from final
