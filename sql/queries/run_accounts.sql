-- question: Which accounts did a run cover, and how far was each assessed?
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
)

select * from final
order by account_id
