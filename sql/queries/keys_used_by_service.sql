-- question: Which access keys were last used with a given AWS service?
-- param service (text): the service as IAM names it, e.g. s3, iam, sts
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
        keys.last_used_at,
        keys.last_used_region,
        ka_days(chosen_run.as_of, keys.last_used_at) as days_since_used,
    from keys
    inner join chosen_run using (run_id)
    where keys.last_used_service = $service
)

select * from final
order by account_id, user_name, access_key_id
