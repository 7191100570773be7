-- The latest run in the warehouse, the one `keyaudit runs` lists first: latest as_of, then the
-- latest run id (of two runs at one instant, the later started).
with runs as (
    select * from runs
),

final as (
    select run_id
    from runs
    order by as_of desc, run_id desc
    limit 1
)

select * from final
