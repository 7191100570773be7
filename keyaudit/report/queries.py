"""SQL the report reads from the warehouse; every value is a bound parameter."""

RUN = """
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
from runs
where run_id = $run_id
"""

ACCOUNTS = """
with run_accounts as (
    select * from accounts where run_id = $run_id
),

finding_counts as (
    select
        account_id,
        count(*) filter (where not waived) as count_open,
        count(*) filter (where waived) as count_waived,
    from findings
    where run_id = $run_id
    group by account_id
),

final as (
    select
        run_accounts.account_id,
        run_accounts.name,
        run_accounts.state,
        run_accounts.ou_path,
        run_accounts.status,
        run_accounts.error,
        run_accounts.report_generated_at,
        run_accounts.is_management,
        coalesce(finding_counts.count_open, 0) as count_open,
        coalesce(finding_counts.count_waived, 0) as count_waived,
    from run_accounts
    left join finding_counts using (account_id)
)

select * from final order by account_id
"""

FINDING_COUNTS = """
select
    rule_id,
    severity,
    count(*) filter (where not waived) as count_open,
    count(*) filter (where waived) as count_waived,
from findings
where run_id = $run_id
group by rule_id, severity
"""

FINDINGS = """
with run_findings as (
    select * from findings where run_id = $run_id
),

run_accounts as (
    select account_id, name from accounts where run_id = $run_id
),

final as (
    select
        run_findings.severity,
        run_findings.rule_id,
        run_findings.account_id,
        run_accounts.name as account_name,
        run_findings.user_name,
        run_findings.access_key_id,
        run_findings.key_slot,
        run_findings.reason,
        run_findings.waived,
        run_findings.waiver_id,
        run_findings.finding_id,
        coalesce(list_position($severities, run_findings.severity), 99) as severity_rank,
    from run_findings
    left join run_accounts using (account_id)
)

select * exclude (severity_rank)
from final
order by
    severity_rank,
    severity,
    account_id,
    rule_id,
    user_name nulls first,
    access_key_id nulls first,
    key_slot nulls first,
    finding_id
"""

RUN_NOTES = """
select account_id, kind, message
from run_notes
where run_id = $run_id
order by account_id nulls first, kind, message
"""
