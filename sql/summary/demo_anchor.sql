-- The instant `keyaudit demo` builds its simulated organization at: the as_of of the first demo
-- run in the warehouse (NULL when there is none yet). keyaudit.warehouse.demo_anchor reads it.
with runs as (
    select * from runs
),

final as (
    select min(as_of) as anchor
    from runs
    where source = 'demo'
)

select * from final
