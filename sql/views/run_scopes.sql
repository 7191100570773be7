-- One row per run: the scope it audited (scope_key) and its place in that scope's history.
--
-- Two runs cover the same scope when they have the same source (aws, files, demo), the same kind
-- of scope, and
--   - for scope 'organization': the same organization id. Accounts may join or leave the
--     organization between runs; that does not start a new history. (Findings in accounts a run
--     did not assess are never counted as resolved by it: see finding_history.)
--   - for every other scope (accounts, caller, files): the same set of in-scope account ids
--     (accounts not skipped); a different list of accounts is a different audit.
--
-- chain_position numbers the runs later runs are compared with: finished runs, one per as_of
-- (the latest started when the same as_of was run twice), in as_of order within the scope. The
-- previous run of any run is the chain run with the latest earlier as_of (previous_runs).
with runs as (
    select * from runs
),

accounts as (
    select * from accounts
),

account_sets as (
    select
        run_id,
        md5(string_agg(account_id, ',' order by account_id)) as account_set_hash
    from accounts
    where status <> 'skipped'
    group by run_id
),

scoped as (
    select
        runs.run_id,
        runs.as_of,
        runs.started_at,
        runs.status,
        runs.source,
        runs.scope,
        runs.organization_id,
        runs.source || '|' || runs.scope || '|'
            || case
                when runs.scope = 'organization' then coalesce(runs.organization_id, '')
                else coalesce(account_sets.account_set_hash, '')
            end as scope_key
    from runs
    left join account_sets using (run_id)
),

latest_per_as_of as (
    select
        run_id,
        scope_key,
        as_of
    from scoped
    where status = 'finished'
    qualify row_number() over (
        partition by scope_key, as_of order by started_at desc, run_id desc
    ) = 1
),

chain as (
    select
        run_id,
        row_number() over (partition by scope_key order by as_of) as chain_position
    from latest_per_as_of
),

final as (
    select
        scoped.*,
        chain.chain_position
    from scoped
    left join chain using (run_id)
)

select * from final
