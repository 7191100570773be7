-- The run's deactivation plan (sql/remediation/plan.sql) in the accounts of $account_ids (all
-- accounts when NULL), earliest deactivation first: the report's section, the plan files and the
-- owner e-mails read it. $row_limit (NULL: every key) bounds what the report's section fetches;
-- planned_total counts the keys planned whatever the limit.
with plan as (
    select *
    from remediation_plan
    where run_id = $run_id
        and ka_in_accounts(account_id, $account_ids)
),

final as (
    select
        * exclude (run_id),
        count(*) over () as planned_total
    from plan
)

select * from final
order by deactivate_on, account_id, user_name, access_key_id
limit $row_limit
