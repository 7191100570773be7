"""SQL the report reads from the warehouse; every value is a bound parameter.

`$account_ids` is NULL for the whole run or a list of account ids (a per-owner slice); every
query that reads account data filters on it. Optional relations built by later migrations
(lifecycle views, run_rules) are joined through the fragments at the end, chosen in Python from
what the warehouse has — never from data.
"""

IN_SLICE = "(cast($account_ids as varchar[]) is null or list_contains(cast($account_ids as varchar[]), {column}))"

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
    config_json,
    parameters_json,
from runs
where run_id = $run_id
"""

ACCOUNTS = f"""
with run_accounts as (
    select * from accounts where run_id = $run_id and {IN_SLICE.format(column="account_id")}
),

finding_counts as (
    select
        account_id,
        count(*) filter (where not waived) as count_open,
        count(*) filter (where waived) as count_waived,
        count(*) filter (where not waived and severity = 'critical') as count_critical,
        count(*) filter (where not waived and severity = 'high') as count_high,
        count(*) filter (where not waived and severity = 'medium') as count_medium,
        count(*) filter (where not waived and severity = 'low') as count_low,
        count(*) filter (where not waived and severity not in ('critical', 'high', 'medium', 'low'))
            as count_other,
    from findings
    where run_id = $run_id
    group by account_id
),

final as (
    select
        run_accounts.account_id,
        run_accounts.name,
        run_accounts.email,
        run_accounts.state,
        run_accounts.ou_path,
        run_accounts.tags,
        run_accounts.status,
        run_accounts.error,
        run_accounts.report_generated_at,
        run_accounts.is_management,
        coalesce(finding_counts.count_open, 0) as count_open,
        coalesce(finding_counts.count_waived, 0) as count_waived,
        coalesce(finding_counts.count_critical, 0) as count_critical,
        coalesce(finding_counts.count_high, 0) as count_high,
        coalesce(finding_counts.count_medium, 0) as count_medium,
        coalesce(finding_counts.count_low, 0) as count_low,
        coalesce(finding_counts.count_other, 0) as count_other,
    from run_accounts
    left join finding_counts using (account_id)
)

select * from final order by account_id
"""

FINDING_COUNTS = f"""
select
    rule_id,
    severity,
    count(*) filter (where not waived) as count_open,
    count(*) filter (where waived) as count_waived,
from findings
where run_id = $run_id and {IN_SLICE.format(column="account_id")}
group by rule_id, severity
"""

ACCOUNT_RULE_COUNTS = f"""
select
    account_id,
    rule_id,
    severity,
    count(*) filter (where not waived) as count_open,
    count(*) filter (where waived) as count_waived,
from findings
where run_id = $run_id and {IN_SLICE.format(column="account_id")}
group by account_id, rule_id, severity
"""

RUN_NOTES = f"""
select account_id, kind, message
from run_notes
where run_id = $run_id
    and (account_id is null or {IN_SLICE.format(column="account_id")})
order by account_id nulls first, kind, message
"""

EVIDENCE = f"""
select account_id, path, kind, sha256, bytes
from evidence
where run_id = $run_id
    and (account_id is null or {IN_SLICE.format(column="account_id")})
order by account_id nulls first, path
"""

# The runs up to this one (by as_of, then start), finished ones only besides this run itself.
# TREND_RUNS_IN_SCOPE keeps to the run's own audit scope (run_scopes); TREND_RUNS is for
# warehouses without that view.
TREND_RUNS = """
with this_run as (
    select as_of, started_at from runs where run_id = $run_id
),

earlier as (
    select runs.run_id, runs.as_of, runs.started_at, runs.status
    from runs, this_run
    where runs.run_id = $run_id
        or (
            runs.status = 'finished'
            and (
                runs.as_of < this_run.as_of
                or (runs.as_of = this_run.as_of and runs.started_at < this_run.started_at)
                or (runs.as_of = this_run.as_of and runs.started_at = this_run.started_at
                    and runs.run_id < $run_id)
            )
        )
)

select run_id, as_of, status
from earlier
order by as_of desc, started_at desc, run_id desc
limit $limit
"""

TREND_RUNS_IN_SCOPE = """
with this_run as (
    select run_id, scope_key, as_of from run_scopes where run_id = $run_id
),

chain as (
    select run_scopes.run_id
    from run_scopes, this_run
    where run_scopes.scope_key = this_run.scope_key
        and run_scopes.chain_position is not null
        and run_scopes.as_of < this_run.as_of
),

picked as (
    select runs.run_id, runs.as_of, runs.started_at, runs.status
    from runs
    where runs.run_id = $run_id or runs.run_id in (select run_id from chain)
)

select run_id, as_of, status
from picked
order by as_of desc, started_at desc, run_id desc
limit $limit
"""

PREVIOUS_RUN = """
select previous_run_id, previous_as_of from previous_runs where run_id = $run_id
"""

# Mean time to remediate over the run's scope history up to this run (not later runs: a
# re-rendered report must not change).
MTTR = f"""
with this_run as (
    select scope_key, as_of from run_scopes where run_id = $run_id
),

chain as (
    select run_scopes.run_id
    from run_scopes, this_run
    where run_scopes.scope_key = this_run.scope_key
        and run_scopes.chain_position is not null
        and run_scopes.as_of <= this_run.as_of
),

resolved as (
    select *
    from findings_resolved
    where (run_id = $run_id or run_id in (select run_id from chain))
        and {IN_SLICE.format(column="account_id")}
)

select
    severity,
    count(*) as resolved_count,
    avg(days_to_remediate) as mean_days,
    median(days_to_remediate) as median_days,
from resolved
group by severity
"""

TREND_COUNTS = f"""
select run_id, severity, count(*) as count_open
from findings
where list_contains($run_ids, run_id) and not waived and {IN_SLICE.format(column="account_id")}
group by run_id, severity
"""

TREND_COVERAGE = f"""
select
    run_id,
    count(*) filter (where status in ('assessed', 'partial')) as count_assessed,
    count(*) filter (where status not in ('assessed', 'partial', 'skipped')) as count_not_assessed,
from accounts
where list_contains($run_ids, run_id) and {IN_SLICE.format(column="account_id")}
group by run_id
"""

CONTROL_RESULTS = """
select *
from control_results
where run_id = $run_id
order by framework, control_id, rule_id
"""

RUN_RULES = """
select *
from run_rules
where run_id = $run_id
order by rule_id
"""

WAIVERS = """
with run_waivers as (
    select * from waivers where run_id = $run_id
),

uses as (
    select waiver_id, count(*) as count_findings
    from findings
    where run_id = $run_id and waived and waiver_id is not null
    group by waiver_id
),

final as (
    select
        run_waivers.*,
        coalesce(uses.count_findings, 0) as count_findings,
    from run_waivers
    left join uses using (waiver_id)
)

select * from final order by expires_on, waiver_id
"""

# One row per finding with its key's facts, read from the key tables directly (not the keys
# mart, whose full outer join must be computed whole): an access key id finds its API row, a
# report slot without one (root keys, reports read from files) finds its credential-report line.
# Last use follows the mart's rule: the API's answer when GetAccessKeyLastUsed was called, else
# the report slot's (collection.last_used = "report"), so report and rules never disagree.
# `{picked}` chooses the findings first (all, or the first of each account for the detail), so
# the joins only touch what is shown. `{lifecycle_columns}` / `{lifecycle_join}` come from the
# fragments below.
FINDING_ROWS = f"""
with this_run as (
    select as_of from runs where run_id = $run_id
),

ranked as (
    select
        findings.*,
        coalesce(list_position($severities, findings.severity), 99) as severity_rank,
        coalesce(list_position($account_order, findings.account_id), 1000000000) as account_rank,
    from findings
    where run_id = $run_id and {IN_SLICE.format(column="account_id")}
),

picked as (
    {{picked}}
),

api_keys as (
    select account_id, access_key_id, created_at, last_used_at, last_used_service,
        last_used_region, is_last_used_collected
    from stg_access_keys
    where run_id = $run_id and {IN_SLICE.format(column="account_id")}
),

report_lines as (  -- the loader keeps one line per user (repeats become run notes)
    select *
    from stg_credential_report
    where run_id = $run_id and {IN_SLICE.format(column="account_id")}
),

joined as (
    select
        picked.finding_id,
        picked.severity,
        picked.severity_rank,
        picked.rule_id,
        picked.account_id,
        picked.user_name,
        picked.access_key_id,
        picked.key_slot,
        picked.reason,
        picked.waived,
        picked.waiver_id,
        picked.account_rank,
        case
            when api_keys.access_key_id is not null then api_keys.created_at
            when picked.key_slot = 1 then report_lines.key_1_created_at
            when picked.key_slot = 2 then report_lines.key_2_created_at
        end as key_created_at,
        case
            when api_keys.is_last_used_collected then api_keys.last_used_at
            when picked.key_slot = 1 then report_lines.key_1_last_used_at
            when picked.key_slot = 2 then report_lines.key_2_last_used_at
        end as key_last_used_at,
        case
            when api_keys.is_last_used_collected then api_keys.last_used_service
            when picked.key_slot = 1 then report_lines.key_1_last_used_service
            when picked.key_slot = 2 then report_lines.key_2_last_used_service
        end as key_last_used_service,
        case
            when api_keys.is_last_used_collected then api_keys.last_used_region
            when picked.key_slot = 1 then report_lines.key_1_last_used_region
            when picked.key_slot = 2 then report_lines.key_2_last_used_region
        end as key_last_used_region,
        api_keys.access_key_id is not null
            or (picked.access_key_id is null and picked.key_slot = 1
                and report_lines.key_1_created_at is not null)
            or (picked.access_key_id is null and picked.key_slot = 2
                and report_lines.key_2_created_at is not null) as is_key_known,
        report_lines.arn as user_arn,
    from picked
    left join api_keys
        on api_keys.account_id = picked.account_id
        and api_keys.access_key_id = picked.access_key_id
    left join report_lines
        on report_lines.account_id = picked.account_id
        and report_lines.user_name = picked.user_name
),

final as (
    select
        joined.*,
        cast(floor((epoch(this_run.as_of) - epoch(joined.key_created_at)) / 86400) as integer)
            as key_age_days,
        {{lifecycle_columns}}
    from joined
    cross join this_run
    {{lifecycle_join}}
)

select * from final
"""

# Findings in the report's order within an account: worst first, then rule, user and key.
IN_ACCOUNT_ORDER = """severity_rank, severity, rule_id, user_name nulls first,
    access_key_id nulls first, key_slot nulls first, finding_id"""
PICK_ALL = "select * from ranked"
# The first rows of each account, accounts in report order, at most $total rows in all.
PICK_DETAIL = f"""select *
    from ranked
    qualify row_number() over (partition by account_id order by {IN_ACCOUNT_ORDER})
        <= $per_account
    order by account_rank, account_id, {IN_ACCOUNT_ORDER}
    limit $total"""
DETAIL_ORDER = f" order by account_rank, account_id, {IN_ACCOUNT_ORDER}"
ALL_ORDER = f" order by account_id, {IN_ACCOUNT_ORDER}"
EXPLORER_ORDER = f" order by severity_rank, severity, account_id, {IN_ACCOUNT_ORDER}"

LIFECYCLE_COLUMNS = """lifecycle.first_seen_as_of as first_seen_as_of,
        lifecycle.days_open as days_open,
        lifecycle.is_new as is_new,"""
NO_LIFECYCLE_COLUMNS = """cast(null as timestamptz) as first_seen_as_of,
        cast(null as integer) as days_open,
        cast(null as boolean) as is_new,"""
LIFECYCLE_JOIN = """left join (
        select finding_id, first_seen_as_of, days_open, is_new
        from finding_lifecycle
        where run_id = $run_id
    ) as lifecycle
        on lifecycle.finding_id = joined.finding_id"""
