-- question: Which accounts could not be assessed (or only partly), and why?
-- param run_id (run, optional): the run to look at; default the latest run
with runs as (
    select * from runs
),

accounts as (
    select * from accounts
),

chosen_run as (
    select run_id
    from runs
    where run_id = coalesce($run_id, (select run_id from runs order by as_of desc, run_id desc limit 1))
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
