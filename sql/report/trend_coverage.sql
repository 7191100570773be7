-- Assessed and not assessed accounts by run for the runs of the trend ($run_ids), among the
-- accounts of $account_ids (all when NULL); skipped accounts are outside the scope.
with accounts as (
    select *
    from accounts
    where list_contains($run_ids, run_id)
        and ka_in_accounts(account_id, $account_ids)
),

final as (
    select
        run_id,
        count(*) filter (where status in ('assessed', 'partial')) as count_assessed,
        count(*) filter (where status not in ('assessed', 'partial', 'skipped'))
            as count_not_assessed,
    from accounts
    group by run_id
)

select * from final
