-- Fix first: per run, every access key with at least one open (not waived) finding, one row per
-- key, ranked (fix_rank 1 = fix first) in this order (docs/report.md, "Fix first"):
--   0. a key AWS already believes leaked (ACCESS_KEY_QUARANTINED) before any other;
--   1. effective privilege of the key's user: admin, then escalation (one step from admin), then
--      unknown, then other (int_user_privilege; the root user is admin);
--   2. the highest severity among the key's open findings: critical, high, medium, low, info;
--   3. days idle, most first: since the key's last use, or since its creation when never used;
--   4. age in days, oldest first;
--   then account, user and key, so the order is total and the same in every reader.
-- Each key carries its owner and where the owner came from (key_owners).
-- The one definition behind the report's summary, the owner e-mails and the saved query.
with findings as (
    select * from findings where not waived
),

runs as (
    select * from runs
),

keys as (
    select * from keys
),

key_owners as (
    select * from key_owners
),

key_findings as (
    select
        findings.run_id,
        findings.account_id,
        findings.user_name,
        coalesce(keys.access_key_id, 'slot-' || keys.key_slot) as key_ref,
        keys.access_key_id,
        keys.key_slot,
        keys.is_root,
        keys.privilege,
        keys.privilege_reason,
        keys.created_at,
        keys.last_used_at,
        findings.rule_id,
        findings.severity,
        ka_severity_rank(findings.severity) as severity_rank
    from findings
    inner join keys
        on findings.run_id = keys.run_id
        and findings.account_id = keys.account_id
        and findings.user_name = keys.user_name
        and (
            findings.access_key_id = keys.access_key_id
            or (findings.access_key_id is null and findings.key_slot = keys.key_slot)
        )
),

per_key as (
    select
        run_id,
        account_id,
        user_name,
        key_ref,
        any_value(access_key_id) as access_key_id,
        any_value(key_slot) as key_slot,
        any_value(is_root) as is_root,
        any_value(privilege) as privilege,
        any_value(privilege_reason) as privilege_reason,
        bool_or(rule_id = 'ACCESS_KEY_QUARANTINED') as is_quarantined,
        any_value(created_at) as created_at,
        any_value(last_used_at) as last_used_at,
        min(severity_rank) as severity_rank,
        arg_min(severity, severity_rank) as severity,
        list(distinct rule_id order by rule_id) as rule_ids,
        count(*) as count_findings
    from key_findings
    group by run_id, account_id, user_name, key_ref
),

measured as (
    select
        per_key.*,
        case
            when per_key.is_quarantined then 0
            when per_key.privilege = 'admin' then 1
            when per_key.privilege = 'escalation' then 2
            when per_key.privilege = 'unknown' then 3
            else 4
        end as privilege_rank,
        ka_days(runs.as_of, coalesce(per_key.last_used_at, per_key.created_at)) as days_idle,
        ka_days(runs.as_of, per_key.created_at) as age_days
    from per_key
    inner join runs using (run_id)
),

owned as (
    select
        measured.*,
        key_owners.owner,
        key_owners.owner_source
    from measured
    left join key_owners using (run_id, account_id, user_name, key_ref)
),

final as (
    select
        run_id,
        row_number() over (
            partition by run_id
            order by privilege_rank, severity_rank, days_idle desc nulls last,
                age_days desc nulls last, account_id, user_name, key_ref
        ) as fix_rank,
        account_id,
        user_name,
        access_key_id,
        key_slot,
        is_root,
        privilege,
        privilege_reason,
        is_quarantined,
        severity,
        rule_ids,
        count_findings,
        created_at,
        last_used_at,
        days_idle,
        age_days,
        case
            when is_quarantined then 'quarantined by AWS, ' || privilege || ' user'
            when is_root then 'root user'
            when privilege = 'escalation' then 'user one step from admin'
            else privilege || ' user'
        end || '; ' || severity || ': ' || array_to_string(rule_ids, ', ')
            || case
                when last_used_at is null then '; never used, created ' || days_idle || ' days ago'
                else '; idle ' || days_idle || ' days, ' || age_days || ' days old'
            end as why,
        privilege_rank,
        severity_rank,
        owner,
        owner_source
    from owned
)

select * from final
