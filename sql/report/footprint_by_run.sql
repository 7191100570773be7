-- The long-term credential footprint (key_footprint) summed by run for the runs of the trend
-- ($run_ids, as history.trend found them), among the accounts of $account_ids (all when NULL):
-- one row per run, with its as_of, even when none of those accounts was in it. Sums are over
-- assessed accounts only (NULL when there is none); accounts not assessed are counted apart and
-- never as free of keys. The admin sum covers the accounts whose key privilege is known;
-- count_accounts_admin_unknown counts the others.
with runs as (
    select * from runs where list_contains($run_ids, run_id)
),

footprint as (
    select *
    from key_footprint
    where list_contains($run_ids, run_id)
        and ka_in_accounts(account_id, $account_ids)
),

by_run as (
    select
        run_id,
        count(*) as count_accounts,
        count(*) filter (where is_assessed) as count_accounts_assessed,
        count(*) filter (where not is_assessed) as count_accounts_not_assessed,
        count(*) filter (where has_no_active_user_keys) as count_accounts_without_user_keys,
        count(*) filter (where has_no_active_user_keys and count_active_root_keys > 0)
            as count_accounts_without_user_keys_with_root_key,
        sum(count_iam_users) as count_iam_users,
        sum(count_users_with_active_keys) as count_users_with_active_keys,
        sum(count_active_keys) as count_active_keys,
        sum(count_active_keys_older_than_365_days) as count_active_keys_older_than_365_days,
        sum(count_active_root_keys) as count_active_root_keys,
        sum(count_active_keys_on_admin_users) as count_active_keys_on_admin_users,
        count(*) filter (where is_assessed and count_active_keys_on_admin_users is null)
            as count_accounts_admin_unknown,
    from footprint
    group by run_id
),

final as (
    select
        runs.run_id,
        runs.as_of,
        coalesce(by_run.count_accounts, 0) as count_accounts,
        coalesce(by_run.count_accounts_assessed, 0) as count_accounts_assessed,
        coalesce(by_run.count_accounts_not_assessed, 0) as count_accounts_not_assessed,
        coalesce(by_run.count_accounts_without_user_keys, 0) as count_accounts_without_user_keys,
        coalesce(by_run.count_accounts_without_user_keys_with_root_key, 0)
            as count_accounts_without_user_keys_with_root_key,
        by_run.count_iam_users,
        by_run.count_users_with_active_keys,
        by_run.count_active_keys,
        by_run.count_active_keys_older_than_365_days,
        by_run.count_active_root_keys,
        by_run.count_active_keys_on_admin_users,
        coalesce(by_run.count_accounts_admin_unknown, 0) as count_accounts_admin_unknown,
    from runs
    left join by_run using (run_id)
)

select * from final
