"""Build the complete, display-ready context of one run's report from the warehouse.

Templates only render: every count, sort order, label and warning is decided here, so the
HTML and the PDF (same templates) cannot disagree with the warehouse or with each other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import duckdb

from keyaudit import __version__
from keyaudit.report import queries

SEVERITIES = ("critical", "high", "medium", "low", "info")
ASSESSED_STATUSES = ("assessed", "partial")
TITLE = "AWS access key audit"


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


def build_report_context(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    rules: Sequence[RuleInfo],
    generated_at: datetime,
    pdf_detail_limit: int = 500,
) -> dict[str, Any]:
    """Everything the report templates show for `run_id`, read with bound-parameter SQL."""
    if generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware (UTC), e.g. datetime.now(UTC)")
    if pdf_detail_limit < 0:
        raise ValueError(f"pdf_detail_limit must be 0 or more, not {pdf_detail_limit}")
    params = {"run_id": run_id}
    run_rows = _rows(con, queries.RUN, params)
    if not run_rows:
        raise ValueError(
            f"run {run_id!r} is not in the warehouse {_database_path(con)} — "
            "check the run id; `select run_id, as_of from runs order by as_of desc` lists the runs"
        )
    run = run_rows[0]
    catalogue = _catalogue(rules)
    accounts = _rows(con, queries.ACCOUNTS, params)
    counts = _rows(con, queries.FINDING_COUNTS, params)
    findings = _rows(con, queries.FINDINGS, {**params, "severities": list(SEVERITIES)})
    notes = _rows(con, queries.RUN_NOTES, params)

    coverage = _coverage(run, accounts)
    warnings = _warnings(run, accounts, coverage)
    rule_summary = _rule_summary(counts, catalogue)
    context: dict[str, Any] = {
        "title": TITLE,
        "generated_at": _ts(generated_at),
        "report_tool_version": __version__,
        "run": _run(run),
        "coverage": coverage,
        "warnings": warnings,
        "severity_summary": _severity_summary(counts),
        "totals": {
            "open": sum(r["count_open"] for r in counts),
            "waived": sum(r["count_waived"] for r in counts),
            "total": len(findings),
        },
        "rule_summary": rule_summary,
        "not_assessed": [_account(a) for a in accounts if a["status"] not in _COUNTED],
        "partial": [_account(a) for a in accounts if a["status"] == "partial"],
        "skipped": [_account(a) for a in accounts if a["status"] == "skipped"],
        "accounts": [_account(a) for a in accounts],
        "findings": [_finding(f) for f in findings],
        "pdf_detail_limit": pdf_detail_limit,
        "remediation": [
            _remediation(rule_id, catalogue)
            for rule_id in dict.fromkeys(r["rule_id"] for r in rule_summary)
        ],
        "run_notes": [
            {"account_id": n["account_id"], "kind": n["kind"], "message": n["message"]}
            for n in notes
        ],
    }
    context["sections"] = _sections(context)
    return context


# Statuses the coverage figures count explicitly; anything else is reported as not assessed.
_COUNTED = ("assessed", "partial", "skipped")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _database_path(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    return repr(row[0]) if row and row[0] else "(in memory)"


def _ts(value: datetime | None) -> str | None:
    """A timestamp as the report prints it: UTC, to the minute."""
    if value is None:
        return None
    if value.tzinfo is None:  # the schema stores timestamptz; a naive value is already UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _catalogue(rules: Sequence[RuleInfo]) -> dict[str, RuleInfo]:
    catalogue: dict[str, RuleInfo] = {}
    for rule in rules:
        if rule.rule_id in catalogue:
            raise ValueError(f"rule {rule.rule_id!r} is given twice in rules")
        catalogue[rule.rule_id] = rule
    return catalogue


def severity_sort_key(severity: str) -> tuple[int, str]:
    """Critical first, info last, unexpected severities after info."""
    return (SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES), severity)


def _severity_class(severity: str) -> str:
    """A CSS class from a fixed list, never from warehouse text."""
    return severity if severity in SEVERITIES else "unknown"


def _run(run: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": run["run_id"],
        "organization_id": run["organization_id"],
        "as_of": _ts(run["as_of"]),
        "started_at": _ts(run["started_at"]),
        "finished_at": _ts(run["finished_at"]),
        "source": run["source"],
        "scope": run["scope"],
        "status": run["status"],
        "tool_version": run["tool_version"],
        "caller_arn": run["caller_arn"],
        "manifest_sha256": run["manifest_sha256"],
    }


def _coverage(run: dict[str, Any], accounts: list[dict[str, Any]]) -> dict[str, Any]:
    """Coverage from the account rows; skipped (non-ACTIVE) accounts are outside the scope."""
    statuses = Counter(a["status"] for a in accounts)
    assessed = statuses["assessed"] + statuses["partial"]
    not_assessed = sum(n for s, n in statuses.items() if s not in _COUNTED)
    dated = [a for a in accounts if a["status"] in ASSESSED_STATUSES and a["report_generated_at"]]
    oldest = min(dated, key=lambda a: a["report_generated_at"], default=None)
    # The run record may know of accounts the rows lack: the banner takes the larger count.
    incomplete = max(not_assessed, run["accounts_not_assessed"] or 0)
    return {
        "in_scope": assessed + not_assessed,
        "assessed": assessed,
        "partial": statuses["partial"],
        "not_assessed": not_assessed,
        "skipped": statuses["skipped"],
        "oldest_report_at": _ts(oldest["report_generated_at"]) if oldest else None,
        "oldest_report_account_id": oldest["account_id"] if oldest else None,
        "incomplete_count": incomplete,
        "is_complete": incomplete == 0 and run["status"] == "finished",
    }


def _warnings(
    run: dict[str, Any], accounts: list[dict[str, Any]], coverage: dict[str, Any]
) -> list[str]:
    """What a reader must know before trusting the figures, besides the INCOMPLETE banner."""
    out = []
    if run["status"] != "finished":
        out.append(
            f"The run's status is {run['status']!r}, not 'finished': "
            "its findings may be missing accounts or rules."
        )
    recorded = (
        run["accounts_in_scope"],
        run["accounts_assessed"],
        run["accounts_not_assessed"],
        run["accounts_skipped"],
    )
    counted = (
        coverage["in_scope"],
        coverage["assessed"],
        coverage["not_assessed"],
        coverage["skipped"],
    )
    if recorded != counted:
        out.append(
            "The run record counts {} in scope, {} assessed, {} not assessed and {} skipped, "
            "but the warehouse holds account rows for {} in scope, {} assessed, {} not assessed "
            "and {} skipped; this report lists the account rows.".format(*recorded, *counted)
        )
    unknown = sorted({a["status"] for a in accounts} - set(_COUNTED) - {"not_assessed"})
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
        out.append(
            "No credential report time is recorded for assessed account(s) "
            f"{', '.join(undated)}; the oldest report time above leaves them out."
        )
    return out


def _severity_summary(counts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Critical to low always; info and unexpected severities only when they occur."""
    open_by: Counter[str] = Counter()
    waived_by: Counter[str] = Counter()
    for row in counts:
        open_by[row["severity"]] += row["count_open"]
        waived_by[row["severity"]] += row["count_waived"]
    shown = set(SEVERITIES[:4]) | {s for s in open_by | waived_by if open_by[s] or waived_by[s]}
    return [
        {
            "severity": s,
            "css": _severity_class(s),
            "open": open_by[s],
            "waived": waived_by[s],
        }
        for s in sorted(shown, key=severity_sort_key)
    ]


def _rule_summary(
    counts: list[dict[str, Any]], catalogue: dict[str, RuleInfo]
) -> list[dict[str, Any]]:
    out = []
    for row in counts:
        rule = catalogue.get(row["rule_id"])
        out.append(
            {
                "rule_id": row["rule_id"],
                "title": rule.title if rule else "(not in the rule catalogue given to the report)",
                "severity": row["severity"],
                "css": _severity_class(row["severity"]),
                "open": row["count_open"],
                "waived": row["count_waived"],
            }
        )
    return sorted(out, key=lambda r: (severity_sort_key(r["severity"]), -r["open"], r["rule_id"]))


def _remediation(rule_id: str, catalogue: dict[str, RuleInfo]) -> dict[str, Any]:
    rule = catalogue.get(rule_id)
    return {
        "rule_id": rule_id,
        "title": rule.title if rule else None,
        "severity": rule.severity if rule else None,
        "css": _severity_class(rule.severity) if rule else "unknown",
        "remediation": rule.remediation if rule else None,
        # Optional beyond RuleInfo: the catalogue's rules carry the exact AWS CLI command.
        "command": getattr(rule, "command", None) or None,
    }


def _account(row: dict[str, Any]) -> dict[str, Any]:
    status = row["status"]
    return {
        "account_id": row["account_id"],
        "name": row["name"],
        "ou_path": row["ou_path"],
        "state": row["state"],
        "status": status,
        "status_label": _STATUS_LABELS.get(status, f"{status} (counted as not assessed)"),
        "status_css": status if status in _STATUS_LABELS else "not_assessed",
        "error": row["error"],
        "is_management": row["is_management"],
        "report_generated_at": _ts(row["report_generated_at"]),
        # None, never 0, for an account whose keys were not read: it is not clean.
        "open_findings": row["count_open"] if status in ASSESSED_STATUSES else None,
        "waived_findings": row["count_waived"],
    }


_STATUS_LABELS = {
    "assessed": "assessed",
    "partial": "partially assessed",
    "not_assessed": "not assessed",
    "skipped": "skipped",
}


def _finding(row: dict[str, Any]) -> dict[str, Any]:
    if row["access_key_id"]:
        key = row["access_key_id"]
    elif row["key_slot"] is not None:
        key = f"slot {row['key_slot']}"
    else:
        key = None
    return {
        "severity": row["severity"],
        "css": _severity_class(row["severity"]),
        "rule_id": row["rule_id"],
        "account_id": row["account_id"],
        "account_name": row["account_name"],
        "user_name": row["user_name"],
        "key": key,
        "key_is_slot": not row["access_key_id"] and row["key_slot"] is not None,
        "reason": row["reason"],
        "waived": row["waived"],
        "waiver_id": row["waiver_id"],
        "finding_id": row["finding_id"],
    }


def _sections(context: dict[str, Any]) -> list[dict[str, str]]:
    """The report's sections in order; a later section is one more entry and one partial."""
    sections = [
        ("scope", "Scope and coverage", "_scope.html.j2"),
        ("summary", "Summary", "_summary.html.j2"),
        ("not-assessed", "Accounts not assessed", "_not_assessed.html.j2"),
        ("accounts", "Accounts", "_accounts.html.j2"),
        ("findings", "Findings", "_findings_table.html.j2"),
        ("remediation", "Remediation", "_remediation.html.j2"),
    ]
    if context["run_notes"]:
        sections.append(("data-notes", "Data notes", "_run_notes.html.j2"))
    return [{"id": i, "title": t, "template": p} for i, t, p in sections]
