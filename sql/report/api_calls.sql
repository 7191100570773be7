-- The AWS API operations the run called, from its own record (table api_calls), with how many
-- calls of each: the calls made for the run as a whole and those of the accounts in
-- $account_ids (all accounts when NULL). No row: the run called no AWS API (a files run).
with api_calls as (
    select *
    from api_calls
    where run_id = $run_id
        and (account_id is null or ka_in_accounts(account_id, $account_ids))
),

final as (
    select
        service,
        operation,
        sum(calls)::bigint as calls,
    from api_calls
    group by service, operation
)

select * from final order by service, operation
