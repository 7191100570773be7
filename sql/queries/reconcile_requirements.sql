-- question: For each requirement of every framework and kind of resource, does the population add up to passing + failing + waived + not evaluated?
-- param run_id (run, optional): the run to look at; default the latest run
-- param framework (text, optional): one framework as control_results names it, e.g. 'PCI DSS v4.0.1'; default every framework
with requirements as (
    select * from reconciliation_requirements
),

chosen_run as (
    select run_id from ka_run($run_id)
),

final as (
    select
        requirements.framework,
        requirements.control_id,
        requirements.kind,
        requirements.population,
        requirements.evaluated + requirements.not_evaluated as population_count,
        requirements.passing,
        requirements.failing,
        requirements.waived,
        requirements.not_evaluated,
        requirements.passing + requirements.failing + requirements.waived
            + requirements.not_evaluated - requirements.evaluated - requirements.not_evaluated
            as difference,
    from requirements
    inner join chosen_run using (run_id)
    where $framework is null or requirements.framework = $framework
)

select * from final
order by framework, control_id, kind
