-- question: Which active access keys are older than N days, by account?
-- param days (integer, default 90): the age limit in days (a key older than this is listed)
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
        keys.last_used_at,
        keys.last_used_service,
        keys.last_used_region,
    from keys
    inner join chosen_run using (run_id)
    where keys.is_active
        and epoch(chosen_run.as_of) - epoch(keys.created_at) > $days * 86400
)

select * from final
order by account_id, age_days desc, user_name
