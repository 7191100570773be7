-- Accounts in scope that could not be collected: never counted as clean.
with accounts as (
    select * from accounts where run_id = $run_id
),

final as (
    select
        account_id,
        null as user_name,
        null as access_key_id,
        null as key_slot,
        coalesce(error, 'not assessed (no reason recorded)') as reason
    from accounts
    where status = 'not_assessed'
)

select * from final
