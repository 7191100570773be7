-- The run the report is about: its record in runs.
with runs as (
    select * from runs where run_id = $run_id
),

final as (
    select
        run_id,
        started_at,
        finished_at,
        as_of,
        source,
        scope,
        tool_version,
        status,
        caller_arn,
        organization_id,
        accounts_in_scope,
        accounts_assessed,
        accounts_not_assessed,
        accounts_skipped,
        manifest_sha256,
        config_json,
        parameters_json,
    from runs
)

select * from final
