-- What the report must say about the run's data besides findings: run-level notes and those of
-- the accounts in $account_ids (all accounts when NULL).
with run_notes as (
    select *
    from run_notes
    where run_id = $run_id
        and (account_id is null or ka_in_accounts(account_id, $account_ids))
),

final as (
    select
        account_id,
        kind,
        message,
    from run_notes
)

select * from final order by account_id nulls first, kind, message
