-- question: How many open (not waived) findings does each account have, by severity?
-- param run_id (run, optional): the run to look at; default the latest run
with accounts as (
    select * from accounts
),

findings as (
    select * from findings
),

chosen_run as (
    select run_id from ka_run($run_id)
),

counts as (
    select
        findings.account_id,
        count(*) filter (where severity = 'critical') as critical,
        count(*) filter (where severity = 'high') as high,
        count(*) filter (where severity = 'medium') as medium,
        count(*) filter (where severity = 'low') as low,
        count(*) as total,
    from findings
    inner join chosen_run using (run_id)
    where not findings.waived
    group by findings.account_id
),

final as (
    select
        accounts.account_id,
        accounts.name,
        accounts.status,
        coalesce(counts.critical, 0) as critical,
        coalesce(counts.high, 0) as high,
        coalesce(counts.medium, 0) as medium,
        coalesce(counts.low, 0) as low,
        coalesce(counts.total, 0) as total,
    from accounts
    inner join chosen_run using (run_id)
    left join counts using (account_id)
)

select * from final
order by critical desc, high desc, total desc, account_id
