-- Every finding of the run (or of the accounts in $account_ids) as one JSON array for the HTML
-- findings explorer, in the column order of keyaudit.report.records.EXPLORER_COLUMNS, worst
-- severity first. Severity, rule and account are positions in $explorer_severities,
-- $explorer_rules and $explorer_accounts; key age and last use come from finding_keys.sql (the keys
-- mart); is_new from finding_lifecycle (as loading kept it: run_finding_lifecycle) when
-- $with_lifecycle.
with runs as (
    select * from runs where run_id = $run_id
),

findings as (
    select *
    from findings
    where run_id = $run_id
        and ka_in_accounts(account_id, $account_ids)
),

key_facts as (
    select * from finding_keys($run_id)
),

finding_lifecycle as (
    select * from run_finding_lifecycle where run_id = $run_id and $with_lifecycle
),

joined as (
    select
        findings.*,
        coalesce(list_position($severities, findings.severity), 99) as severity_rank,
        key_facts.is_key_known,
        key_facts.key_last_used_at,
        ka_days(runs.as_of, key_facts.key_created_at) as key_age_days,
        finding_lifecycle.is_new,
    from findings
    cross join runs
    left join key_facts
        on findings.finding_id = key_facts.finding_id
    left join finding_lifecycle
        on findings.finding_id = finding_lifecycle.finding_id
),

final as (
    select
        json_array(
            list_position($explorer_severities, severity) - 1,
            list_position($explorer_rules, rule_id) - 1,
            list_position($explorer_accounts, account_id) - 1,
            user_name,
            coalesce(access_key_id, 'slot ' || cast(key_slot as varchar)),
            key_age_days,
            case
                when not is_key_known then null
                when key_last_used_at is null then 'never'
                else strftime(key_last_used_at, '%Y-%m-%d')
            end,
            reason,
            case when waived then 1 else 0 end,
            waiver_id,
            case when is_new then 1 when not is_new then 0 end,
            finding_id
        )::varchar as explorer_row,
        severity_rank,
        severity,
        account_id,
        rule_id,
        user_name,
        access_key_id,
        key_slot,
        finding_id,
    from joined
)

select explorer_row from final
order by severity_rank, severity, account_id, rule_id, user_name nulls first,
    access_key_id nulls first, key_slot nulls first, finding_id
