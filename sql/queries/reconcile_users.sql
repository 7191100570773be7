-- question: Which IAM users does the credential report have that ListUsers did not list, or the other way round (every user, matched by name)?
-- param run_id (run, optional): the run to look at; default the latest run
-- param account_id (text, optional): one account; default every account
-- param differences_only (boolean, default false): only the users found on one side
with users as (
    select * from reconciliation_users
),

chosen_run as (
    select run_id from ka_run($run_id)
),

final as (
    select
        users.account_id,
        users.user_name,
        users.is_in_report,
        users.is_listed,
    from users
    inner join chosen_run using (run_id)
    where ($account_id is null or users.account_id = $account_id)
        and (not $differences_only or not (users.is_in_report and users.is_listed))
)

select * from final
order by account_id, user_name
