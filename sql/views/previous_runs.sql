-- For every run, the run it is compared with: the latest finished run with an earlier as_of over
-- the same scope (see run_scopes for what "same scope" means; of two finished runs with the same
-- as_of the later started one counts). previous_run_id is NULL for the first run of a scope.
with run_scopes as (
    select * from run_scopes
),

chain as (
    select * from run_scopes where chain_position is not null
),

candidates as (
    select
        run_scopes.run_id,
        chain.run_id as previous_run_id,
        chain.as_of as previous_as_of,
        chain.chain_position as previous_chain_position
    from run_scopes
    inner join chain
        on run_scopes.scope_key = chain.scope_key
        and run_scopes.as_of > chain.as_of
),

latest as (
    select
        run_id,
        arg_max(previous_run_id, previous_chain_position) as previous_run_id,
        max(previous_as_of) as previous_as_of
    from candidates
    group by run_id
),

final as (
    select
        run_scopes.run_id,
        latest.previous_run_id,
        run_scopes.as_of,
        latest.previous_as_of,
        run_scopes.scope_key
    from run_scopes
    left join latest using (run_id)
)

select * from final
