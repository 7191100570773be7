-- The data notes of a run's reconciliation: every line that does not hold, on its account (a
-- run note when the line is about the run or a requirement), so a difference is never silent.
-- Reads the lines kept at load (reconciliation_lines: the view `reconciliation`'s rows).
with reconciliation as (
    select * from reconciliation_lines where run_id = $run_id
),

final as (
    select
        run_id,
        account_id,
        'reconciliation' as kind,
        subject || ': ' || compares || ' does not hold: expected ' || expected || ', found '
            || found || ', difference ' || difference
            || case when coalesce(detail, '') <> '' then ' (' || detail || ')' else '' end
            || ' — re-perform it with `' || query || '`' as message,
    from reconciliation
    where result = 'does not hold'
)

select * from final
