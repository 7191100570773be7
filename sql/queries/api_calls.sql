-- question: Which AWS API calls did a run make, per account, from the run's own record?
-- param run_id (run, optional): the run to look at; default the latest run
with api_calls as (
    select * from api_calls
),

chosen_run as (
    select run_id from ka_run($run_id)
),

final as (
    select
        coalesce(api_calls.account_id, 'run') as made_for,
        api_calls.service || ':' || api_calls.operation as operation,
        api_calls.calls,
    from api_calls
    inner join chosen_run using (run_id)
)

select * from final
order by made_for = 'run' desc, made_for, operation
