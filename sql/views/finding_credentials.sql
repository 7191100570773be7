-- Per finding: the credential it names and what that credential is. The findings table keeps
-- every rule's credential id in its access_key_id column (the SSH key, service-specific
-- credential and signing certificate rules write `credential_id as access_key_id`, and their
-- slot as key_slot), so everything that shows a finding reads the kind here:
--   credential_kind  the kind of its rule's population (rule_population_kinds.credential_kind:
--                    access_key, ssh_public_key, service_specific_credential,
--                    signing_certificate); a rule over users, root users or accounts that still
--                    names a key (ROOT_ACCESS_KEY_PRESENT: the root's key slot) names an access
--                    key, the only credential those rules see; null when it names none
--   credential_id    the credential's id (null for a slot the credential report shows without one)
--   credential_slot  its slot in the credential report (access keys and signing certificates)
--   access_key_id, key_slot  the same, for access keys only
with findings as (
    select * from findings
),

kinds as (
    select run_id, rule_id, credential_kind from rule_population_kinds
),

named as (
    select
        findings.run_id,
        findings.finding_id,
        findings.access_key_id as credential_id,
        findings.key_slot as credential_slot,
        case
            when findings.access_key_id is not null or findings.key_slot is not null
                then coalesce(kinds.credential_kind, 'access_key')
        end as credential_kind
    from findings
    left join kinds using (run_id, rule_id)
),

final as (
    select
        run_id,
        finding_id,
        credential_kind,
        credential_id,
        credential_slot,
        case when credential_kind = 'access_key' then credential_id end as access_key_id,
        case when credential_kind = 'access_key' then credential_slot end as key_slot
    from named
)

select * from final
