-- Who owns each finding of a run: a finding on a key belongs to the key's owner (key_owners,
-- the key named by id, or by its user's credential-report slot when the id is unknown); any
-- other finding (a user's console password or MFA, the root user, an account not assessed)
-- to its account's owner (account_owners). owner NULL with owner_source 'compliance': nobody
-- owns it, and the compliance list receives it. What per-owner delivery splits findings by.
with findings as (
    select * from findings
),

key_owners as (
    select * from key_owners
),

account_owners as (
    select * from account_owners
),

by_key as (
    select
        findings.run_id,
        findings.finding_id,
        any_value(key_owners.owner) as owner,
        any_value(key_owners.owner_source) as owner_source,
        any_value(key_owners.owner_note) as owner_note
    from findings
    inner join key_owners
        on findings.run_id = key_owners.run_id
        and findings.account_id = key_owners.account_id
        and findings.user_name = key_owners.user_name
        and (
            findings.access_key_id = key_owners.access_key_id
            or (findings.access_key_id is null and findings.key_slot = key_owners.key_slot)
        )
    group by all
),

final as (
    select
        findings.run_id,
        findings.finding_id,
        findings.account_id,
        findings.user_name,
        findings.access_key_id,
        case when by_key.finding_id is not null then by_key.owner else account_owners.owner end
            as owner,
        coalesce(by_key.owner_source, account_owners.owner_source, 'compliance') as owner_source,
        case
            when by_key.finding_id is not null then by_key.owner_note
            else account_owners.owner_note
        end as owner_note
    from findings
    left join by_key using (run_id, finding_id)
    left join account_owners
        on findings.run_id = account_owners.run_id
        and findings.account_id = account_owners.account_id
)

select * from final
