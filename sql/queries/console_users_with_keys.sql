-- question: Which IAM users have both a console password and an active access key?
-- param run_id (run, optional): the run to look at; default the latest run
with users as (
    select * from users
),

chosen_run as (
    select run_id from ka_run($run_id)
),

final as (
    select
        users.account_id,
        users.user_name,
        users.is_mfa_active,
        users.password_last_used_at,
        users.password_last_used_sentinel,
        users.count_active_keys,
    from users
    inner join chosen_run using (run_id)
    where not users.is_root
        and users.is_password_enabled
        and users.count_active_keys > 0
)

select * from final
order by account_id, user_name
