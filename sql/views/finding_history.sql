-- One row per finding and run of its scope's chain (see run_scopes), from the run where the
-- finding first appeared on. state is
--   'present'  the run has the finding;
--   'absent'   the run assessed the finding's account (status 'assessed') and the finding is
--              gone: it was remediated (or the resource deleted);
--   'unknown'  the run has no finding, but did not fully assess the account (not assessed,
--              partial, skipped or out of scope): absence there proves nothing.
-- An episode starts at a 'present' run and ends at the next 'absent' one; 'unknown' runs do not
-- end it. is_open says whether an episode is open at the run; first_seen_* is where that
-- episode began and last_seen_* its latest 'present' run up to this one.
with run_scopes as (
    select * from run_scopes
),

chain as (
    select run_id, scope_key, as_of, chain_position
    from run_scopes
    where chain_position is not null
),

findings as (
    select * from findings
),

accounts as (
    select * from accounts
),

chain_findings as (
    select
        chain.scope_key,
        chain.chain_position,
        findings.run_id,
        findings.finding_id,
        findings.account_id
    from findings
    inner join chain using (run_id)
),

first_positions as (
    select
        scope_key,
        finding_id,
        any_value(account_id) as account_id,
        min(chain_position) as first_position
    from chain_findings
    group by scope_key, finding_id
),

grid as (
    select
        first_positions.scope_key,
        first_positions.finding_id,
        first_positions.account_id,
        chain.run_id,
        chain.as_of,
        chain.chain_position
    from first_positions
    inner join chain
        on first_positions.scope_key = chain.scope_key
        and first_positions.first_position <= chain.chain_position
),

states as (
    select
        grid.*,
        case
            when chain_findings.finding_id is not null then 'present'
            when accounts.status = 'assessed' then 'absent'
            else 'unknown'
        end as state
    from grid
    left join chain_findings
        on grid.run_id = chain_findings.run_id
        and grid.finding_id = chain_findings.finding_id
    left join accounts
        on grid.run_id = accounts.run_id
        and grid.account_id = accounts.account_id
),

episodes as (
    select
        *,
        count(*) filter (where state = 'absent') over (
            partition by scope_key, finding_id
            order by chain_position
            rows between unbounded preceding and current row
        ) as episode_number
    from states
),

bounds as (
    select
        *,
        min(chain_position) filter (where state = 'present') over (
            partition by scope_key, finding_id, episode_number
            order by chain_position
            rows between unbounded preceding and current row
        ) as first_seen_position,
        max(chain_position) filter (where state = 'present') over (
            partition by scope_key, finding_id, episode_number
            order by chain_position
            rows between unbounded preceding and current row
        ) as last_seen_position
    from episodes
),

final as (
    select
        bounds.scope_key,
        bounds.finding_id,
        bounds.account_id,
        bounds.run_id,
        bounds.as_of,
        bounds.chain_position,
        bounds.state,
        bounds.first_seen_position is not null as is_open,
        bounds.episode_number,
        first_seen.run_id as first_seen_run_id,
        first_seen.as_of as first_seen_as_of,
        last_seen.run_id as last_seen_run_id,
        last_seen.as_of as last_seen_as_of
    from bounds
    left join chain as first_seen
        on bounds.scope_key = first_seen.scope_key
        and bounds.first_seen_position = first_seen.chain_position
    left join chain as last_seen
        on bounds.scope_key = last_seen.scope_key
        and bounds.last_seen_position = last_seen.chain_position
)

select * from final
