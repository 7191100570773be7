-- finding_keys($run_id): each finding of a run with its key's facts from the keys mart, the one
-- place that says which key a finding names: its id, or its slot when the key has none (root,
-- report only). A temporary macro of the report's connection (read-only warehouses included),
-- read by finding_rows.sql and explorer_rows.sql.
create or replace temp macro finding_keys(wanted_run_id) as table
with findings as (
    select * from findings where run_id = wanted_run_id
),

keys as (
    select * from keys where run_id = wanted_run_id
),

final as (
    select
        findings.finding_id,
        keys.account_id is not null as is_key_known,
        keys.created_at as key_created_at,
        keys.last_used_at as key_last_used_at,
        keys.last_used_service as key_last_used_service,
        keys.last_used_region as key_last_used_region,
    from findings
    left join keys
        on keys.account_id = findings.account_id
        and keys.user_name = findings.user_name
        and keys.access_key_id is not distinct from findings.access_key_id
        and (findings.access_key_id is not null or keys.key_slot = findings.key_slot)
)

select * from final
