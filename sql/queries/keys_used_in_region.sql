-- question: Which access keys were last used from a given region (optionally only keys older than N days)?
-- param region (text): the AWS region, e.g. ap-south-1
-- param min_age_days (integer, default 0): list only keys older than this many days
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
        keys.is_active,
        ka_days(chosen_run.as_of, keys.created_at) as age_days,
        keys.last_used_at,
        keys.last_used_service,
        keys.last_used_region,
    from keys
    inner join chosen_run using (run_id)
    where keys.last_used_region = $region
        and epoch(chosen_run.as_of) - epoch(keys.created_at) > $min_age_days * 86400
)

select * from final
order by account_id, user_name, access_key_id
