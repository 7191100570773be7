-- This run and up to $limit - 1 finished runs before it (by as_of, then start), newest first: the
-- trend of a warehouse without run_scopes (trend_runs_in_scope.sql keeps to the run's scope).
with runs as (
    select * from runs
),

this_run as (
    select as_of, started_at from runs where run_id = $run_id
),

earlier as (
    select
        runs.run_id,
        runs.as_of,
        runs.started_at,
        runs.status,
    from runs
    cross join this_run
    where runs.run_id = $run_id
        or (
            runs.status = 'finished'
            and (
                runs.as_of < this_run.as_of
                or (runs.as_of = this_run.as_of and runs.started_at < this_run.started_at)
                or (runs.as_of = this_run.as_of and runs.started_at = this_run.started_at
                    and runs.run_id < $run_id)
            )
        )
),

final as (
    select * from earlier
    order by as_of desc, started_at desc, run_id desc
    limit $limit
)

select run_id, as_of, status from final order by as_of desc, started_at desc, run_id desc
