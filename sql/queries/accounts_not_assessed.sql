-- question: Which accounts could not be assessed (or only partly), and why?
-- param run_id (run, optional): the run to look at; default the latest run
with accounts as (
    select * from accounts
),

chosen_run as (
    select run_id from ka_run($run_id)
),

final as (
    select
        accounts.account_id,
        accounts.name,
        accounts.ou_path,
        accounts.status,
        accounts.error,
    from accounts
    inner join chosen_run using (run_id)
    where accounts.status in ('not_assessed', 'partial')
)

select * from final
order by status, account_id
