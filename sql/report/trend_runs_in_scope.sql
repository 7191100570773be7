-- This run and up to $limit - 1 earlier runs of its audit scope (run_scopes: the scope's chain
-- of finished runs), newest first.
with runs as (
    select * from runs
),

run_scopes as (
    select * from run_scopes
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
        and run_scopes.as_of < this_run.as_of
),

picked as (
    select
        runs.run_id,
        runs.as_of,
        runs.started_at,
        runs.status,
    from runs
    where runs.run_id = $run_id or runs.run_id in (select run_id from chain)
),

final as (
    select * from picked
    order by as_of desc, started_at desc, run_id desc
    limit $limit
)

select run_id, as_of, status from final order by as_of desc, started_at desc, run_id desc
