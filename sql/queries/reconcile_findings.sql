-- question: Does each finding of a run name a member of its rule's population, in an account where the rule was evaluated?
-- param run_id (run, optional): the run to look at; default the latest run
-- param account_id (text, optional): one account; default every account
-- param differences_only (boolean, default false): only the findings outside their rule's population
with findings as (
    select * from reconciliation_findings
),

chosen_run as (
    select run_id from ka_run($run_id)
),

final as (
    select
        findings.account_id,
        findings.rule_id,
        findings.finding_id,
        findings.user_name,
        findings.access_key_id,
        findings.key_slot,
        findings.waived,
        findings.population_label as population,
        findings.is_in_population,
    from findings
    inner join chosen_run using (run_id)
    where ($account_id is null or findings.account_id = $account_id)
        and (not $differences_only or not findings.is_in_population)
)

select * from final
order by account_id, rule_id, finding_id
