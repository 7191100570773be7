-- The run's waivers (the waiver file as the run read it), each with the findings it waived.
with waivers as (
    select * from waivers where run_id = $run_id
),

findings as (
    select * from findings where run_id = $run_id
),

uses as (
    select
        waiver_id,
        count(*) as count_findings,
    from findings
    where waived and waiver_id is not null
    group by waiver_id
),

final as (
    select
        waivers.*,
        coalesce(uses.count_findings, 0) as count_findings,
    from waivers
    left join uses using (waiver_id)
)

select * from final order by expires_on, waiver_id
