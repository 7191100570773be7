-- question: How does a run account for the organization's accounts: listed by ListAccounts, in scope (assessed, partial, not assessed), skipped, filtered out?
-- param run_id (run, optional): the run to look at; default the latest run
with accounts as (
    select * from accounts
),

chosen_run as (
    select * from ka_run($run_id)
),

by_status as (
    select accounts.status as bucket, count(*) as accounts
    from accounts
    inner join chosen_run using (run_id)
    group by all
),

recorded (bucket, accounts) as (
    select 'listed by the organization (ListAccounts)', accounts_listed from chosen_run
    union all
    select 'filtered out by [discovery]', accounts_filtered_out from chosen_run
    union all
    select 'configured but not in the listing (in scope, not assessed)', accounts_unlisted
    from chosen_run
    union all
    select 'in scope, as the run recorded it', accounts_in_scope from chosen_run
),

final as (
    select 'accounts table' as counted_from, bucket, accounts from by_status
    union all
    select 'runs table', bucket, accounts from recorded
)

select * from final
order by counted_from, bucket
