-- question: Does a run's population reconcile: for each check, what it compares, expected, found, the difference, and the command that lists the items behind it?
-- param run_id (run, optional): the run to look at; default the latest run
-- param differences_only (boolean, default false): only the lines that do not hold
with reconciliation as (
    select * from reconciliation
),

chosen_run as (
    select run_id from ka_run($run_id)
),

final as (
    select
        reconciliation.check_order,
        reconciliation.check_id,
        reconciliation.subject,
        reconciliation.compares,
        reconciliation.expected,
        reconciliation.found,
        reconciliation.difference,
        reconciliation.result,
        reconciliation.detail,
        reconciliation.query,
    from reconciliation
    inner join chosen_run using (run_id)
    where not $differences_only or reconciliation.result = 'does not hold'
)

select * exclude (check_order) from final
order by check_order, subject
