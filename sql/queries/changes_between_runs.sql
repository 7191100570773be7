-- question: What changed between two runs: which findings are new, and which are gone (resolved, or only unseen because the account was not assessed)?
-- param from_run (run, optional): the earlier run; default the run before to_run
-- param to_run (run, optional): the later run; default the latest run
with runs as (
    select * from runs
),

findings as (
    select * from findings
),

accounts as (
    select * from accounts
),

later_run as (
    select run_id, as_of from ka_run($to_run)
),

earlier_run as (
    select runs.run_id
    from runs
    where runs.run_id = coalesce(
        $from_run,
        (
            select candidates.run_id
            from runs as candidates, later_run
            where candidates.as_of < later_run.as_of
                or (candidates.as_of = later_run.as_of and candidates.run_id < later_run.run_id)
            order by candidates.as_of desc, candidates.run_id desc
            limit 1
        )
    )
),

before as (
    select findings.* from findings inner join earlier_run using (run_id)
),

after as (
    select findings.* from findings inner join later_run using (run_id)
),

assessed_after as (
    select accounts.account_id
    from accounts
    inner join later_run using (run_id)
    where accounts.status in ('assessed', 'partial')
),

new_findings as (
    select 'new' as change, after.*
    from after
    where after.finding_id not in (select finding_id from before)
),

gone_findings as (
    select
        case
            when before.account_id in (select account_id from assessed_after) then 'resolved'
            else 'unseen (account not assessed)'
        end as change,
        before.*
    from before
    where before.finding_id not in (select finding_id from after)
),

final as (
    select
        change, rule_id, severity, account_id, user_name, access_key_id, key_slot, reason, waived,
        finding_id
    from new_findings
    union all
    select
        change, rule_id, severity, account_id, user_name, access_key_id, key_slot, reason, waived,
        finding_id
    from gone_findings
)

select * from final
order by change, rule_id, account_id, user_name nulls first, access_key_id nulls first
