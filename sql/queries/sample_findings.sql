-- question: Which findings does a re-performable sample of a run draw, each finding ordered by SHA-256 of the seed followed by its finding id and the first N taken?
-- param seed (text): the auditor's seed; the same seed draws the same sample on any machine
-- param size (integer, default 25): how many findings to draw (all of them when the run has fewer)
-- param run_id (run, optional): the run to sample; default the latest run
with findings as (
    select * from findings
),

chosen_run as (
    select run_id, as_of from ka_run($run_id)
),

population as (
    select
        findings.finding_id as sample_id,
        findings.rule_id,
        findings.severity,
        findings.account_id,
        findings.user_name,
        findings.access_key_id,
        findings.waived,
        findings.reason,
    from findings
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
