-- question: Which accounts hold the most long-term IAM-user access keys?
-- param run_id (run, optional): the run to look at; default the latest run
-- param limit (integer, optional): how many assessed accounts to rank; default all
--
-- From key_footprint: active IAM-user access keys by account, most first (then the oldest and
-- admin-held ones), root keys apart. Accounts not assessed follow, unranked, with NULL counts
-- whatever the limit: nothing is known of their keys, and they are never shown as free of them.
with key_footprint as (
    select * from key_footprint
),

chosen_run as (
    select run_id from ka_run($run_id)
),

ranked as (
    select
        key_footprint.*,
        case
            when is_assessed then row_number() over (
                partition by is_assessed
                order by
                    count_active_keys desc,
                    count_active_keys_older_than_365_days desc,
                    count_active_keys_on_admin_users desc nulls first,
                    account_id
            )
        end as rank
    from key_footprint
    inner join chosen_run using (run_id)
),

final as (
    select
        rank,
        account_id,
        account_name,
        account_status,
        count_active_keys,
        count_active_keys_older_than_365_days,
        count_active_keys_on_admin_users,
        count_users_with_active_keys,
        count_iam_users,
        count_active_root_keys,
        has_no_active_user_keys,
    from ranked
    where not is_assessed or $limit is null or rank <= $limit
)

select * from final
order by rank nulls last, account_id
