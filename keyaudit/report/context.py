"""Build the complete, display-ready context of one run's report from the warehouse.

Templates only render: every count, sort order, label and warning is decided here, so the
HTML and the PDF (same templates) cannot disagree with the warehouse or with each other.
`account_ids` narrows everything (coverage, findings, trend, waivers, evidence) to those
accounts: the per-owner slices delivered to account owners.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import duckdb
from markupsafe import Markup

from keyaudit import __version__
from keyaudit.config.delivery import Retention
from keyaudit.frameworks import (
    BY_KEY,
    DEFAULT_SUMMARY,
    Framework,
    UnknownFramework,
    lookup,
)
from keyaudit.model import HEADLINE_SEVERITIES, KeyauditError
from keyaudit.report.accounts import (
    ASSESSED_STATUSES,
    COUNTED_STATUSES,
    account_record,
    finding_row,
    rank,
    severity_columns,
)
from keyaudit.report.controls import control_results, framework_view, restrict
from keyaudit.report.fix_first import FIX_FIRST_LIMIT, fix_first
from keyaudit.report.footprint import footprint
from keyaudit.report.formatting import (
    SEVERITIES,
    account_filter,
    json_object,
    release_memory,
    severity_class,
    severity_sort_key,
    ts,
)
from keyaudit.report.history import changes, previous_run, trend
from keyaudit.report.methodology import (
    api_calls,
    caveats,
    evidence_files,
    frameworks_mapped,
    input_files,
    provenance,
    rules_in_force,
    source_notes,
    waiver_lists,
)
from keyaudit.report.queries import execute, rows
from keyaudit.report.reconciliation import completeness
from keyaudit.report.records import detail_rows, explorer_data
from keyaudit.report.remediation import plan_section
from keyaudit.report.review import review_section
from keyaudit.report.sections import (
    AccountDetail,
    Compliance,
    Coverage,
    History,
    Methodology,
    ReportContext,
    ReportSummary,
)
from keyaudit.rules.commands import audit_role

TITLE = "AWS access key audit"
PAPERS = {"A4": "A4", "Letter": "letter"}
# Finding rows per account and in all that the HTML shows inline; its explorer has every one.
HTML_ROWS_PER_ACCOUNT = 50
HTML_DETAIL_LIMIT = 2000


class RuleInfo(Protocol):
    """What the report needs of a rule; the rule catalogue's objects satisfy it."""

    @property
    def rule_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def remediation(self) -> str: ...


@dataclass(frozen=True)
class _Read:
    """What the summary read that the rest of the context reads again."""

    run: dict[str, Any]
    ids: list[str] | None
    counts: list[dict[str, Any]]
    rules_view: list[dict[str, Any]]
    previous: dict[str, Any] | None
    report_config: dict[str, Any]


def _check_options(
    generated_at: datetime | None,
    pdf_detail_limit: int,
    pdf_rows_per_account: int,
    paper: str,
) -> None:
    if generated_at is not None and generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware (UTC), e.g. datetime.now(UTC)")
    for name, value in (
        ("pdf_detail_limit", pdf_detail_limit),
        ("pdf_rows_per_account", pdf_rows_per_account),
    ):
        if value < 0:
            raise ValueError(f"{name} must be 0 or more, not {value}")
    if paper not in PAPERS:
        raise ValueError(f"paper {paper!r} is not supported; use one of {', '.join(PAPERS)}")


def build_report_summary(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    rules: Sequence[RuleInfo],
    generated_at: datetime | None = None,
    account_ids: Collection[str] | None = None,
) -> ReportSummary:
    """The report's headline for `run_id` (of `account_ids` only, when given), without the
    controls, trend, account detail, evidence and the rest: what a digest or an owner's e-mail
    needs, read with the report's own queries so that it cannot disagree with the report."""
    _check_options(generated_at, 0, 0, "A4")
    return _summary(con, run_id, rules=rules, generated_at=generated_at, account_ids=account_ids)[0]


def _summary(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    rules: Sequence[RuleInfo],
    generated_at: datetime | None,
    account_ids: Collection[str] | None,
) -> tuple[ReportSummary, _Read]:
    ids = account_filter(account_ids)
    params: dict[str, Any] = {"run_id": run_id, "account_ids": ids}
    run_rows = rows(con, "run", {"run_id": run_id})
    if not run_rows:
        raise ValueError(
            f"run {run_id!r} is not in the warehouse {_database_path(con)} — "
            "check the run id; `keyaudit runs` lists the runs"
        )
    run = run_rows[0]
    # UTC, and no progress bar on stdout for long queries (a locked configuration is left as it is)
    with contextlib.suppress(duckdb.Error):
        execute(con, "session")
    catalogue = _catalogue(rules)
    report_config = json_object(json_object(run["config_json"]).get("report"))
    accounts = [account_record(a) for a in rows(con, "accounts", params)]
    _refuse_unknown_accounts(ids, accounts, run_id)
    counts = rows(con, "finding_counts", params)
    rules_view = rules_in_force(
        con, run_id, parameters_json=run["parameters_json"], catalogue=catalogue
    )
    rule_info = {r["rule_id"]: r for r in rules_view}
    for rule_id, rule in catalogue.items():  # findings of rules the run did not record
        rule_info.setdefault(
            rule_id, {"title": rule.title, "command": getattr(rule, "command", None) or None}
        )
    previous = previous_run(con, run_id)
    coverage = _coverage(run, accounts, sliced=ids is not None)
    change = changes(con, run_id, ids, previous["run_id"] if previous else None)
    open_total = sum(c["count_open"] for c in counts)
    waived_total = sum(c["count_waived"] for c in counts)
    summary = ReportSummary(
        title=str(report_config.get("title") or TITLE),
        organization_name=str(report_config.get("organization_name") or "") or None,
        generated_at=ts(generated_at or run["finished_at"] or run["started_at"]),
        report_tool_version=__version__,
        run=_run(run, previous),
        slice=_slice(ids),
        coverage=coverage,
        warnings=_warnings(run, accounts, coverage, ids),
        severity_summary=_severity_summary(counts, change),
        totals={"open": open_total, "waived": waived_total, "total": open_total + waived_total},
        rule_summary=_rule_summary(counts, rule_info),
        changes=change,
        accounts=accounts,
        rules=rule_info,
    )
    return summary, _Read(run, ids, counts, rules_view, previous, report_config)


def build_report_context(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    rules: Sequence[RuleInfo],
    generated_at: datetime | None = None,
    account_ids: Collection[str] | None = None,
    pdf_detail_limit: int = 300,
    pdf_rows_per_account: int = 25,
    paper: str = "A4",
    with_explorer: bool = True,
    framework: str | None = None,
    fix_first_limit: int = FIX_FIRST_LIMIT,
) -> ReportContext:
    """Everything the report templates show for `run_id`, read with bound-parameter SQL.

    `framework` (a name of keyaudit.frameworks, e.g. "PCI DSS v4.0.1") renders that
    framework's view: its requirements in the Controls table and a section listing each with its
    result, evidence and findings. Without it the Controls table shows the frameworks of the run's
    recorded `[report] frameworks`.

    `generated_at` defaults to the run's finish time, so re-rendering a run gives the same bytes.
    """
    _check_options(generated_at, pdf_detail_limit, pdf_rows_per_account, paper)
    chosen = lookup(framework) if framework is not None else None  # UnknownFramework: ValueError
    summary, read = _summary(
        con, run_id, rules=rules, generated_at=generated_at, account_ids=account_ids
    )
    ids, run, accounts = read.ids, read.run, summary.accounts
    params: dict[str, Any] = {"run_id": run_id, "account_ids": ids}
    previous_id = read.previous["run_id"] if read.previous else None
    history = trend(con, run_id, ids)
    ranked = rank(accounts)
    all_controls = control_results(con, run_id, account_ids=ids)
    summary_frameworks = [chosen] if chosen else _summary_frameworks(read.report_config)
    run_notes = rows(con, "run_notes", params)
    as_of = run["as_of"] if run["as_of"].tzinfo else run["as_of"].replace(tzinfo=UTC)
    files = evidence_files(con, run_id, ids)
    explorer = (
        _explorer(con, run_id, ids, read.counts, summary, with_lifecycle=previous_id is not None)
        if with_explorer
        else None
    )
    framework_shown = (
        framework_view(
            chosen,
            all_controls,
            account_rule_counts=rows(con, "account_rule_counts", params),
            rule_info=summary.rules,
            accounts=accounts,
        )
        if chosen
        else None
    )
    context = ReportContext(
        summary=summary,
        paper={"name": paper, "css": PAPERS[paper]},
        fix_first=fix_first(con, run_id, account_ids=ids, limit=fix_first_limit),
        compliance=Compliance(
            controls=restrict(all_controls, {f.short for f in summary_frameworks}),
            controls_all=all_controls,
            summary_frameworks=[f.name for f in summary_frameworks],
            frameworks=frameworks_mapped(read.rules_view, summary_frameworks),
            framework_view=framework_shown,
        ),
        history=History(trend=history, footprint=footprint(con, run_id, ids, history["runs"])),
        account_detail=AccountDetail(
            ranked_accounts=ranked,
            severity_columns=severity_columns(accounts),
            account_sections=_account_sections(
                con,
                run_id,
                ids,
                ranked,
                pdf_rows_per_account,
                pdf_detail_limit,
                with_lifecycle=previous_id is not None,
            ),
            detail_limits={
                "pdf_rows_per_account": pdf_rows_per_account,
                "pdf_detail_limit": pdf_detail_limit,
                "html_rows_per_account": HTML_ROWS_PER_ACCOUNT,
                "html_detail_limit": HTML_DETAIL_LIMIT,
            },
            not_assessed=[a for a in accounts if a["status"] not in COUNTED_STATUSES],
            partial=[a for a in accounts if a["status"] == "partial"],
            skipped=[a for a in accounts if a["status"] == "skipped"],
        ),
        waivers=waiver_lists(con, run_id, account_ids=ids, as_of=as_of),
        methodology=Methodology(
            thresholds=read.rules_view,
            caveats=caveats(summary.coverage.oldest_report_at, run["source"]),
            run_notes=source_notes(run_notes, run["source"]),
            provenance=provenance(run["source"], input_files(con, run_id), run_notes),
        ),
        api_calls=api_calls(con, run_id, account_ids=ids),
        evidence={
            "files": files,
            "manifest_sha256": run["manifest_sha256"],
            "signature": run_signature(con, run_id),
            "retention": _retention(run),
            "bytes": sum(f["bytes"] or 0 for f in files),
        },
        completeness=completeness(con, run_id, ids),
        remediation=plan_section(con, run_id, ids),
        review=review_section(con, run_id, previous_id, ids),
        explorer=explorer,
        sections=_sections(explorer, framework_shown),
    )
    release_memory(con)
    return context


def _explorer(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    ids: list[str] | None,
    counts: list[dict[str, Any]],
    summary: ReportSummary,
    *,
    with_lifecycle: bool,
) -> dict[str, Any]:
    """Every finding of the report for the HTML's explorer."""
    present = {c["severity"] for c in counts}
    with_findings = sorted({c["rule_id"] for c in counts})
    found = explorer_data(
        con,
        run_id,
        account_ids=ids,
        severities=[*SEVERITIES, *sorted(present - set(SEVERITIES))],
        rules=[(r, (summary.rules.get(r) or {}).get("title")) for r in with_findings],
        accounts=[(a["account_id"], a["name"]) for a in summary.accounts],
        with_lifecycle=with_lifecycle,
    )
    # JSON escaped for <script> by explorer_data, or base64: safe to place as it is.
    return {"encoding": found["encoding"], "text": Markup(found["text"])}  # noqa: S704


def run_signature(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any] | None:
    """Who signed the run's manifest and with which key, or None: not signed."""
    found = rows(con, "run_signature", {"run_id": run_id})
    if not found:
        return None
    signed = found[0]
    return {**signed, "signed_at": ts(signed["signed_at"])}


def _summary_frameworks(report_config: Mapping[str, Any]) -> list[Framework]:
    """The run's recorded `[report] frameworks` (names the registry no longer knows are left
    out), or the default: CIS AWS Foundations, Security Hub, AWS Config and keyaudit's own."""
    chosen: list[Framework] = []
    for name in report_config.get("frameworks") or []:
        with contextlib.suppress(UnknownFramework):
            chosen.append(lookup(str(name)))
    return chosen or [BY_KEY[key] for key in DEFAULT_SUMMARY]


def _database_path(con: duckdb.DuckDBPyConnection) -> str:
    found = rows(con, "database_path")
    return repr(found[0]["path"]) if found and found[0]["path"] else "(in memory)"


def _catalogue(rules: Sequence[RuleInfo]) -> dict[str, RuleInfo]:
    catalogue: dict[str, RuleInfo] = {}
    for rule in rules:
        if rule.rule_id in catalogue:
            raise ValueError(f"rule {rule.rule_id!r} is given twice in rules")
        catalogue[rule.rule_id] = rule
    return catalogue


def _run(run: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "run_id": run["run_id"],
        "organization_id": run["organization_id"],
        "as_of": ts(run["as_of"]),
        "as_of_iso": _iso(run["as_of"]),
        "period_start": ts(previous["as_of"]) if previous else None,
        "previous_run_id": previous["run_id"] if previous else None,
        "started_at": ts(run["started_at"]),
        "finished_at": ts(run["finished_at"]),
        "source": run["source"],
        "scope": run["scope"],
        "status": run["status"],
        "tool_version": run["tool_version"],
        "caller_arn": run["caller_arn"],
        "manifest_sha256": run["manifest_sha256"],
        "audit_role": audit_role(run["config_json"]),
    }


def _retention(run: Mapping[str, Any]) -> dict[str, Any] | None:
    """The S3 Object Lock the run's recorded configuration asks of its delivered copies, or None.

    The report is rendered before it is delivered, so it states the policy, not an outcome; the
    delivery refuses a bucket that cannot keep it, and the date is the one it writes.
    """
    s3 = json_object(json_object(json_object(run["config_json"]).get("delivery")).get("s3"))
    retention = Retention.from_section(s3)
    if retention is None:
        return None
    as_of = run["as_of"] if run["as_of"].tzinfo else run["as_of"].replace(tzinfo=UTC)
    return {
        "bucket": s3["bucket"],
        "mode": retention.s3_mode,
        "days": retention.days,
        "until": _iso(retention.until(as_of)),
    }


def _iso(value: datetime) -> str:
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class UnknownAccountError(KeyauditError, ValueError):
    """A report was asked for an account the run does not hold: never an empty, clean report."""


def _refuse_unknown_accounts(
    ids: list[str] | None, accounts: list[dict[str, Any]], run_id: str
) -> None:
    found = {a["account_id"] for a in accounts}
    unknown = [i for i in ids or () if i not in found]
    if unknown:
        which = (
            f"account {unknown[0]} is"
            if len(unknown) == 1
            else f"accounts {', '.join(unknown)} are"
        )
        raise UnknownAccountError(
            f"{which} not in run {run_id} — check the id; "
            f"`keyaudit query --file run_accounts --param run_id={run_id}` lists the run's accounts"
        )


def _slice(ids: list[str] | None) -> dict[str, Any] | None:
    if ids is None:
        return None
    return {"account_ids": ids, "count": len(ids)}


def _coverage(run: dict[str, Any], accounts: list[dict[str, Any]], *, sliced: bool) -> Coverage:
    """Coverage from the account rows; skipped (non-ACTIVE) accounts are outside the scope."""
    statuses = Counter(a["status"] for a in accounts)
    assessed = statuses["assessed"] + statuses["partial"]
    not_assessed = sum(n for s, n in statuses.items() if s not in COUNTED_STATUSES)
    dated = [a for a in accounts if a["status"] in ASSESSED_STATUSES and a["report_generated_at"]]
    oldest = min(dated, key=lambda a: a["report_generated_at"], default=None)
    # The run record may know of accounts the rows lack: the banner takes the larger count.
    incomplete = not_assessed if sliced else max(not_assessed, run["accounts_not_assessed"] or 0)
    return Coverage(
        in_scope=assessed + not_assessed,
        assessed=assessed,
        partial=statuses["partial"],
        not_assessed=not_assessed,
        skipped=statuses["skipped"],
        oldest_report_at=oldest["report_generated_at"] if oldest else None,
        oldest_report_account_id=oldest["account_id"] if oldest else None,
        incomplete_count=incomplete,
        is_complete=incomplete == 0 and run["status"] == "finished",
    )


def _warnings(
    run: dict[str, Any],
    accounts: list[dict[str, Any]],
    coverage: Coverage,
    ids: list[str] | None,
) -> list[str]:
    """What a reader must know before trusting the figures, besides the INCOMPLETE banner."""
    out = []
    if run["status"] != "finished":
        out.append(
            f"The run's status is {run['status']!r}, not 'finished': "
            "its findings may be missing accounts or rules."
        )
    if ids is None:
        recorded = (
            run["accounts_in_scope"],
            run["accounts_assessed"],
            run["accounts_not_assessed"],
            run["accounts_skipped"],
        )
        counted = (
            coverage.in_scope,
            coverage.assessed,
            coverage.not_assessed,
            coverage.skipped,
        )
        if recorded != counted:
            out.append(
                "The run record counts {} in scope, {} assessed, {} not assessed and {} skipped, "
                "but the warehouse holds account rows for {} in scope, {} assessed, {} not "
                "assessed and {} skipped; this report lists the account rows.".format(
                    *recorded, *counted
                )
            )
    unknown = sorted({a["status"] for a in accounts} - set(COUNTED_STATUSES) - {"not_assessed"})
    if unknown:
        out.append(
            f"Accounts with an unknown status ({', '.join(map(repr, unknown))}) "
            "are counted as not assessed."
        )
    undated = [
        a["account_id"]
        for a in accounts
        if a["status"] in ASSESSED_STATUSES and a["report_generated_at"] is None
    ]
    if undated:
        shown = ", ".join(undated[:20]) + (
            f" and {len(undated) - 20} more" if len(undated) > 20 else ""
        )
        out.append(
            f"No credential report time is recorded for assessed account(s) {shown}; "
            "the oldest report time above leaves them out."
        )
    return out


def _severity_summary(counts: list[dict[str, Any]], change: dict[str, Any]) -> list[dict[str, Any]]:
    """Critical to low always; info and unexpected severities only when they occur."""
    open_by: Counter[str] = Counter()
    waived_by: Counter[str] = Counter()
    for row in counts:
        open_by[row["severity"]] += row["count_open"]
        waived_by[row["severity"]] += row["count_waived"]
    new_by = {s["severity"]: s for s in change.get("by_severity", [])}
    shown = set(HEADLINE_SEVERITIES) | {
        s for s in open_by | waived_by if open_by[s] or waived_by[s]
    }
    return [
        {
            "severity": s,
            "css": severity_class(s),
            "open": open_by[s],
            "waived": waived_by[s],
            "new": new_by[s]["new"] if s in new_by else None,
            "resolved": new_by[s]["resolved"] if s in new_by else None,
        }
        for s in sorted(shown, key=severity_sort_key)
    ]


def _rule_summary(
    counts: list[dict[str, Any]], rule_info: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    out = []
    for row in counts:
        rule = rule_info.get(row["rule_id"])
        out.append(
            {
                "rule_id": row["rule_id"],
                "title": (rule or {}).get("title")
                or "(not in the rule catalogue given to the report)",
                "severity": row["severity"],
                "css": severity_class(row["severity"]),
                "open": row["count_open"],
                "waived": row["count_waived"],
            }
        )
    return sorted(out, key=lambda r: (severity_sort_key(r["severity"]), -r["open"], r["rule_id"]))


def _account_sections(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    ids: list[str] | None,
    ranked: list[dict[str, Any]],
    pdf_rows_per_account: int,
    pdf_detail_limit: int,
    *,
    with_lifecycle: bool,
) -> list[dict[str, Any]]:
    """Accounts in ranked order with their counts per rule and their first finding rows.

    Enough rows are read for both the HTML and the PDF; render.py cuts each to its limits.
    """
    rule_counts: dict[str, list[dict[str, Any]]] = {}
    for row in rows(con, "account_rule_counts", {"run_id": run_id, "account_ids": ids}):
        rule_counts.setdefault(row["account_id"], []).append(row)
    detail: dict[str, list[dict[str, Any]]] = {}
    for row in detail_rows(
        con,
        run_id,
        account_ids=ids,
        account_order=[a["account_id"] for a in ranked],
        per_account=max(pdf_rows_per_account, HTML_ROWS_PER_ACCOUNT),
        total=max(pdf_detail_limit, HTML_DETAIL_LIMIT),
        with_lifecycle=with_lifecycle,
    ):
        detail.setdefault(row["account_id"], []).append(finding_row(row))
    return [
        {
            "account": account,
            "rule_counts": rule_counts.get(account["account_id"], []),
            "rows": detail.get(account["account_id"], []),
            "has_findings": bool(rule_counts.get(account["account_id"])),
        }
        for account in ranked
    ]


def _sections(
    explorer: dict[str, Any] | None, framework_view: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The report's sections in order; `html_only` ones are left out of the PDF."""
    sections = [
        ("scope", "Scope and coverage", "_scope.html.j2", False),
        ("completeness", "Completeness and accuracy", "_completeness.html.j2", False),
        ("summary", "Executive summary", "_summary.html.j2", False),
        ("framework", _framework_title(framework_view), "_framework.html.j2", False),
        ("accounts", "Accounts", "_accounts.html.j2", False),
        ("findings", "All findings", "_explorer.html.j2", True),
        ("waivers", "Waivers", "_waivers.html.j2", False),
        ("review", "Access review and sign-off", "_review.html.j2", False),
        ("methodology", "Methodology", "_methodology.html.j2", False),
        ("evidence", "Evidence appendix", "_evidence.html.j2", False),
        ("remediation", "Deactivation plan", "_remediation.html.j2", False),
    ]
    return [
        {"id": i, "title": t, "template": p, "html_only": h}
        for i, t, p, h in sections
        if not (i == "findings" and explorer is None)
        and not (i == "framework" and framework_view is None)
    ]


def _framework_title(view: Mapping[str, Any] | None) -> str:
    return f"{view['name']} requirements" if view else "Framework"
