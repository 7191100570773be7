-- Mean and median days to remediate, by severity, of the findings resolved over the run's scope
-- history up to this run (never later runs: a re-rendered report must not change), in the
-- accounts of $account_ids (all when NULL).
with run_scopes as (
    select * from run_scopes
),

findings_resolved as (
    select * from findings_resolved
),

this_run as (
    select scope_key, as_of from run_scopes where run_id = $run_id
),

chain as (
    select run_scopes.run_id
    from run_scopes
    cross join this_run
    where run_scopes.scope_key = this_run.scope_key
        and run_scopes.chain_position is not null
        and run_scopes.as_of <= this_run.as_of
),

resolved as (
    select *
    from findings_resolved
    where (run_id = $run_id or run_id in (select run_id from chain))
        and ka_in_accounts(account_id, $account_ids)
),

final as (
    select
        severity,
        count(*) as resolved_count,
        avg(days_to_remediate) as mean_days,
        median(days_to_remediate) as median_days,
    from resolved
    group by severity
)

select * from final
