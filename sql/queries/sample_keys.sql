-- question: Which access keys does a re-performable sample of a run draw, each key ordered by SHA-256 of the seed followed by its id and the first N taken?
-- param seed (text): the auditor's seed; the same seed draws the same sample on any machine
-- param size (integer, default 25): how many keys to draw (all of them when the run has fewer)
-- param run_id (run, optional): the run to sample; default the latest run
with keys as (
    select * from keys
),

chosen_run as (
    select run_id, as_of from ka_run($run_id)
),

population as (
    select
        -- a key's id; a root key the credential report shows without one is named by its slot
        coalesce(
            keys.access_key_id,
            keys.account_id || '/' || keys.user_name || '/key_' || keys.key_slot
        ) as sample_id,
        keys.account_id,
        keys.user_name,
        keys.access_key_id,
        keys.key_slot,
        keys.is_active,
        keys.created_at,
        keys.last_used_at,
        keys.privilege,
    from keys
    inner join chosen_run using (run_id)
),

drawn as (
    select
        row_number() over (order by sha256($seed || sample_id), sample_id) as sample_rank,
        count(*) over () as population_size,
        sha256($seed || sample_id) as draw_hash,
        *,
    from population
)

select * from drawn
where sample_rank <= $size
order by sample_rank
