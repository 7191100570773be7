"""A run in numbers: coverage, open findings by severity, new and resolved, and the accounts.

Read from the report's own summary (keyaudit.report.context.build_report_summary: the headline
alone, not the whole report context), so the e-mails, the Prefect artifacts and the run summary
can never disagree with the report they point to.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from keyaudit.model import HEADLINE_SEVERITIES
from keyaudit.report.context import RuleInfo, build_report_summary
from keyaudit.report.sections import ReportSummary


@dataclass(frozen=True)
class AccountLine:
    """One account of the run as summaries show it; `open_findings` is None when not assessed."""

    account_id: str
    name: str
    ou_path: str
    status: str
    tags: dict[str, str]
    open_findings: int | None
    open_by_severity: dict[str, int]
    error: str | None = None


@dataclass(frozen=True)
class RunDigest:
    """What a run found, in numbers; `new`/`resolved` are None without an earlier run to compare."""

    run_id: str
    as_of: str  # ISO 8601, UTC
    title: str
    organization_name: str | None
    in_scope: int
    assessed: int
    partial: int
    not_assessed: int
    skipped: int
    is_complete: bool
    open_by_severity: dict[str, int]
    open_total: int
    waived_total: int
    new: int | None
    resolved: int | None
    new_by_severity: dict[str, int] = field(default_factory=dict)
    resolved_by_severity: dict[str, int] = field(default_factory=dict)
    previous_run_id: str | None = None
    accounts: tuple[AccountLine, ...] = ()

    @property
    def coverage(self) -> float:
        """Share of the accounts in scope that were assessed (fully or partially)."""
        return self.assessed / self.in_scope if self.in_scope else 1.0

    @property
    def period(self) -> str:
        """The month audited, as the subject and the S3 keys name it: 2026-12."""
        return datetime.fromisoformat(self.as_of).strftime("%Y-%m")

    def severity_text(self, limit: int = 2) -> str:
        """'3 critical, 12 high' — the worst non-zero severities, or 'none'."""
        parts = [
            f"{self.open_by_severity[s]} {s}"
            for s in HEADLINE_SEVERITIES
            if self.open_by_severity[s]
        ]
        return ", ".join(parts[:limit]) or "none"


def run_digest(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    rules: Sequence[RuleInfo],
    account_ids: Collection[str] | None = None,
) -> RunDigest:
    """The digest of `run_id` (or of its slice of `account_ids`), from the warehouse."""
    return digest_from_summary(
        build_report_summary(con, run_id, rules=rules, account_ids=account_ids)
    )


def digest_from_summary(summary: ReportSummary) -> RunDigest:
    coverage, changes = summary.coverage, summary.changes
    by_severity = {row["severity"]: row for row in summary.severity_summary}
    # Without an earlier run over the same scope there is nothing to be new or resolved against.
    available = bool(changes.get("available") and changes.get("previous_run_id"))
    change_rows = {row["severity"]: row for row in changes.get("by_severity", [])}
    return RunDigest(
        run_id=summary.run["run_id"],
        as_of=summary.run["as_of_iso"],
        title=summary.title,
        organization_name=summary.organization_name,
        in_scope=coverage.in_scope,
        assessed=coverage.assessed,
        partial=coverage.partial,
        not_assessed=coverage.not_assessed,
        skipped=coverage.skipped,
        is_complete=coverage.is_complete,
        open_by_severity={s: by_severity.get(s, {}).get("open", 0) for s in HEADLINE_SEVERITIES},
        open_total=summary.totals["open"],
        waived_total=summary.totals["waived"],
        new=changes["new"] if available else None,
        resolved=changes["resolved"] if available else None,
        new_by_severity={s: row["new"] for s, row in change_rows.items()} if available else {},
        resolved_by_severity=(
            {s: row["resolved"] for s, row in change_rows.items()} if available else {}
        ),
        previous_run_id=changes.get("previous_run_id"),
        accounts=tuple(
            AccountLine(
                account_id=a["account_id"],
                name=a["name"] or "",
                ou_path=a["ou_path"] or "",
                status=a["status"],
                tags={t["key"]: t["value"] for t in a["tags"]},
                open_findings=a["open_findings"],
                open_by_severity={s: a["open_by_severity"].get(s, 0) for s in HEADLINE_SEVERITIES},
                error=a["error"],
            )
            for a in summary.accounts
        ),
    )
