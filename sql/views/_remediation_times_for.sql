-- remediation_times_for(wanted_run_id, wanted_account_ids): how long findings took to be
-- remediated, as known at one run (NULL: the latest): every finding resolved by that run or by an
-- earlier run of its scope's chain (run_scopes; never a later run, so a re-rendered report does
-- not change, and a re-run of the same as_of is not counted twice), in the given accounts (NULL:
-- every account). One row per finding and run that found it gone (findings_resolved: run_id is
-- that run), with days_to_remediate. Called by the saved query resolved_findings (the findings
-- resolved by the run itself) and by the report's remediation figures
-- (sql/report/remediation_by_severity.sql, resolved_findings_by_rule.sql). It reads the rows
-- loading kept of findings_resolved (run_findings_resolved, keyaudit.warehouse.kept): the view
-- makes the history of every run of every scope again, which grows with the months kept.
create or replace macro remediation_times_for(wanted_run_id, wanted_account_ids) as table
with run_scopes as (
    select * from run_scopes
),

findings_resolved as (
    select * from run_findings_resolved
),

this_run as (
    select run_id, scope_key, as_of
    from run_scopes
    where run_id = ka_run_id(wanted_run_id)
),

chain as (
    select run_scopes.run_id
    from run_scopes
    inner join this_run using (scope_key)
    where run_scopes.chain_position is not null
        and run_scopes.as_of <= this_run.as_of
    union
    select run_id from this_run
),

final as (
    select *
    from findings_resolved
    where run_id in (select run_id from chain)
        and ka_in_accounts(account_id, wanted_account_ids)
)

select * from final
