-- One row per waiver of a run and finding of the same run it covers; a waiver that covers
-- nothing has one row with finding_id NULL. A waiver covers a finding of its rule in its account
-- when its user (if set) matches the finding's user name as a glob pattern, case-insensitively
-- (IAM user names are unique regardless of case), and its key (if set) equals the finding's key
-- id. A waiver is expired when expires_on is before the run's as_of date in UTC; expired waivers
-- still show what they would cover, but keyaudit.waivers.apply_waivers only marks findings
-- covered by waivers that are not expired (the first in file order wins).
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

matched as (
    select
        waivers.run_id,
        waivers.waiver_id,
        waivers.line_number,
        waivers.expires_on,
        waivers.user_name as user_pattern,
        findings.finding_id,
        findings.rule_id,
        findings.account_id,
        findings.user_name,
        findings.access_key_id,
        findings.key_slot
    from waivers
    left join findings
        on findings.run_id = waivers.run_id
        and findings.rule_id = waivers.rule_id
        and findings.account_id = waivers.account_id
        and (waivers.user_name is null or lower(findings.user_name) glob lower(waivers.user_name))
        and (waivers.access_key_id is null or findings.access_key_id = waivers.access_key_id)
),

final as (
    select
        matched.*,
        matched.expires_on < runs.as_of_date as is_expired
    from matched
    inner join runs using (run_id)
)

select * from final
