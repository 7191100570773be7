-- finding_keys($run_id): each finding of a run with the credential it names (finding_credentials:
-- its kind, id and slot; access_key_id and key_slot for access keys only) and, for an access key,
-- its facts from the keys mart, the one place that says which key a finding names: its id, or its
-- slot when the key has none (root, report only). An SSH key, service-specific credential or
-- signing certificate has no key facts (a certificate's slot is not an access key's). A temporary macro of the report's connection (read-only warehouses included),
-- read by finding_rows.sql and explorer_rows.sql.
create or replace temp macro finding_keys(wanted_run_id) as table
with findings as (
    select * from findings where run_id = wanted_run_id
),

finding_credentials as (
    select * from finding_credentials where run_id = wanted_run_id
),

keys as (
    select * from keys where run_id = wanted_run_id
),

final as (
    select
        findings.finding_id,
        finding_credentials.credential_kind,
        finding_credentials.credential_id,
        finding_credentials.credential_slot,
        finding_credentials.access_key_id,
        finding_credentials.key_slot,
        keys.account_id is not null as is_key_known,
        keys.created_at as key_created_at,
        keys.last_used_at as key_last_used_at,
        keys.last_used_service as key_last_used_service,
        keys.last_used_region as key_last_used_region,
    from findings
    inner join finding_credentials using (finding_id)
    left join keys
        on findings.account_id = keys.account_id
        and findings.user_name = keys.user_name
        and keys.access_key_id is not distinct from finding_credentials.access_key_id
        and (finding_credentials.access_key_id is not null
            or finding_credentials.key_slot = keys.key_slot)
)

select * from final
