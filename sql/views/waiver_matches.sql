-- One row per waiver of a run and finding of the same run it covers; a waiver that covers
-- nothing has one row with finding_id NULL. A waiver covers a finding of its rule in its account
-- when its user (if set) matches the finding's user name as a glob pattern, case-insensitively
-- (IAM user names are unique regardless of case), and its key (if set) equals the finding's key
-- id. A waiver is expired when expires_on is before the run's as_of date in UTC (expires_on is
-- the last day it holds). A waiver without a key id but with a granted day is reopened for a
-- finding on a key created (UTC) after that day: the risk accepted was about the keys of then, and
-- a new key is a new risk. Expired and reopened rows still show what the waiver would cover, but
-- keyaudit.rules.waivers.apply_waivers only marks findings covered by rows that are neither
-- (the first waiver in file order wins). days_left counts from the run's as_of date to expires_on.
with runs as (
    select
        run_id,
        cast(timezone('UTC', as_of) as date) as as_of_date
    from runs
),

waivers as (
    select * from waivers
),

findings as (
    select * from findings
),

keys as (
    select * from keys
),

-- a finding names its key by id, or (report-only keys) by its user's credential-report slot
keys_by_id as (
    select run_id, account_id, access_key_id, min(created_at) as key_created_at
    from keys
    where access_key_id is not null
    group by all
),

keys_by_slot as (
    select run_id, account_id, user_name, key_slot, min(created_at) as key_created_at
    from keys
    where key_slot is not null
    group by all
),

matched as (
    select
        waivers.run_id,
        waivers.waiver_id,
        waivers.line_number,
        waivers.expires_on,
        waivers.granted_on,
        waivers.access_key_id is null as is_without_key,
        waivers.user_name as user_pattern,
        findings.finding_id,
        findings.rule_id,
        findings.account_id,
        findings.user_name,
        findings.access_key_id,
        findings.key_slot
    from waivers
    left join findings
        on waivers.run_id = findings.run_id
        and waivers.rule_id = findings.rule_id
        and waivers.account_id = findings.account_id
        and (waivers.user_name is null or lower(findings.user_name) glob lower(waivers.user_name))
        and (waivers.access_key_id is null or waivers.access_key_id = findings.access_key_id)
),

with_keys as (
    select
        matched.*,
        coalesce(keys_by_id.key_created_at, keys_by_slot.key_created_at) as key_created_at,
    from matched
    left join keys_by_id
        on matched.run_id = keys_by_id.run_id
        and matched.account_id = keys_by_id.account_id
        and matched.access_key_id = keys_by_id.access_key_id
    left join keys_by_slot
        on matched.access_key_id is null
        and matched.run_id = keys_by_slot.run_id
        and matched.account_id = keys_by_slot.account_id
        and matched.user_name = keys_by_slot.user_name
        and matched.key_slot = keys_by_slot.key_slot
),

final as (
    select
        with_keys.* exclude (is_without_key),
        with_keys.expires_on < runs.as_of_date as is_expired,
        with_keys.expires_on - runs.as_of_date as days_left,
        coalesce(
            with_keys.is_without_key
            and cast(timezone('UTC', with_keys.key_created_at) as date) > with_keys.granted_on,
            false
        ) as is_reopened,
    from with_keys
    inner join runs using (run_id)
)

select * from final
