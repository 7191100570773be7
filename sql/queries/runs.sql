-- question: Which runs does the warehouse hold, with their coverage and open findings by severity?
with runs as (
    select * from runs
),

findings as (
    select * from findings
),

finding_counts as (
    select
        run_id,
        count(*) filter (where not waived and severity = 'critical') as count_critical,
        count(*) filter (where not waived and severity = 'high') as count_high,
        count(*) filter (where not waived and severity = 'medium') as count_medium,
        count(*) filter (where not waived and severity = 'low') as count_low,
        count(*) filter (where waived) as count_waived,
    from findings
    group by run_id
),

final as (
    select
        runs.run_id,
        runs.as_of,
        runs.source,
        runs.scope,
        runs.status,
        runs.accounts_in_scope,
        runs.accounts_assessed,
        runs.accounts_not_assessed,
        runs.accounts_skipped,
        case
            when runs.accounts_in_scope = 0 then 100.0
            else round(100.0 * runs.accounts_assessed / runs.accounts_in_scope, 1)
        end as coverage_pct,
        coalesce(finding_counts.count_critical, 0) as critical,
        coalesce(finding_counts.count_high, 0) as high,
        coalesce(finding_counts.count_medium, 0) as medium,
        coalesce(finding_counts.count_low, 0) as low,
        coalesce(finding_counts.count_waived, 0) as waived,
    from runs
    left join finding_counts using (run_id)
)

select * from final
order by as_of desc, run_id desc
