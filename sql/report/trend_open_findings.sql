-- Open (not waived) findings by run and severity for the runs of the trend ($run_ids), in the
-- accounts of $account_ids (all when NULL).
with findings as (
    select *
    from findings
    where list_contains($run_ids, run_id)
        and not waived
        and ka_in_accounts(account_id, $account_ids)
),

final as (
    select
        run_id,
        severity,
        count(*) as count_open,
    from findings
    group by run_id, severity
)

select * from final
