-- Per-owner delivery: each account of the run with its status and its owner (account_owners:
-- account tag, OU map, or NULL for the compliance list).
with accounts as (
    select * from accounts where run_id = $run_id
),

account_owners as (
    select * from account_owners where run_id = $run_id
),

final as (
    select
        accounts.account_id,
        accounts.status,
        account_owners.owner,
        account_owners.owner_source
    from accounts
    left join account_owners using (account_id)
)

select * from final order by account_id
