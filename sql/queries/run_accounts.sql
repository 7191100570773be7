-- question: Which accounts did a run cover, and how far was each assessed?
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
)

select * from final
order by account_id
