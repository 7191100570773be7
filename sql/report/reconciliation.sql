-- The report's completeness and accuracy section: every reconciliation line of the run
-- (sql/views/reconciliation.sql, as kept when the run was loaded: reconciliation_lines); for a slice ($account_ids not NULL) the lines of those accounts
-- only, as the run's own lines and the requirements' are about the whole run. run_query lists
-- the items behind the whole check for the run.
with reconciliation as (
    select *
    from reconciliation_lines
    where run_id = $run_id
        and ka_in_accounts(account_id, $account_ids)
),

final as (
    select
        check_order,
        check_id,
        subject,
        account_id,
        framework,
        requirement,
        compares,
        expected,
        found,
        difference,
        result,
        detail,
        query,
        ka_reconcile_command(query_name, run_id, null) as run_query,
    from reconciliation
)

select * from final
order by
    check_order, framework nulls first, requirement nulls first, account_id nulls first, subject
