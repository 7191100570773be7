-- question: Which users (root users included) does a re-performable sample of a run draw, each user ordered by SHA-256 of the seed followed by its ARN and the first N taken?
-- param seed (text): the auditor's seed; the same seed draws the same sample on any machine
-- param size (integer, default 25): how many users to draw (all of them when the run has fewer)
-- param run_id (run, optional): the run to sample; default the latest run
with users as (
    select * from users
),

chosen_run as (
    select run_id, as_of from ka_run($run_id)
),

population as (
    select
        users.arn as sample_id,
        users.account_id,
        users.user_name,
        users.is_root,
        users.is_password_enabled,
        users.is_mfa_active,
        users.count_active_keys,
        users.privilege,
    from users
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
