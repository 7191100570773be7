-- question: How did one IAM user's access keys look in every run (status, age, last use)?
-- param user (text): the IAM user name, e.g. ci-deploy
-- param account_id (text, optional): limit to one account (12 digits); default every account
with runs as (
    select * from runs
),

keys as (
    select * from keys
),

final as (
    select
        runs.as_of,
        keys.run_id,
        keys.account_id,
        keys.user_name,
        keys.key_slot,
        keys.access_key_id,
        keys.is_active,
        keys.created_at,
        ka_days(runs.as_of, keys.created_at) as age_days,
        keys.last_used_at,
        keys.last_used_service,
        keys.last_used_region,
    from keys
    inner join runs using (run_id)
    where keys.user_name = $user
        and ($account_id is null or keys.account_id = $account_id)
)

select * from final
order by as_of, account_id, key_slot nulls last, access_key_id
