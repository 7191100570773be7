-- question: Which active access keys have never been used, older than N days?
-- param days (integer, default 7): list only keys created more than this many days before the run
-- param run_id (run, optional): the run to look at; default the latest run
with keys as (
    select * from keys
),

chosen_run as (
    select run_id, as_of from ka_run($run_id)
),

final as (
    select
        keys.account_id,
        keys.user_name,
        keys.access_key_id,
        keys.key_slot,
        keys.created_at,
        ka_days(chosen_run.as_of, keys.created_at) as age_days,
        keys.is_user_password_enabled,
    from keys
    inner join chosen_run using (run_id)
    where keys.is_active
        and keys.last_used_at is null
        and epoch(chosen_run.as_of) - epoch(keys.created_at) > $days * 86400
)

select * from final
order by age_days desc, account_id, user_name
