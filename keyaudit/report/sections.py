"""The report context's sections: frozen dataclasses, one per part of the report, composed by
`ReportContext`. keyaudit.report.context builds them; the templates, the exports, the digest and
the owner e-mails read them. `ReportSummary` is built alone for what needs only the headline.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Coverage:
    """How many of the accounts in scope were assessed, from the account rows; skipped
    (non-ACTIVE) accounts are outside the scope. A partial account counts as assessed."""

    in_scope: int
    assessed: int
    partial: int
    not_assessed: int
    skipped: int
    oldest_report_at: Any  # the oldest credential report time of the assessed accounts
    oldest_report_account_id: str | None
    incomplete_count: int  # the INCOMPLETE banner's count (the run record's, if larger)
    is_complete: bool


@dataclass(frozen=True)
class ReportSummary:
    """The report's headline: the run, its coverage, open findings by severity and by rule, what
    changed since the previous run, the accounts and the rules. What a digest, an owner's e-mail
    and the exports read; `build_report_summary` builds it alone, without the rest."""

    title: str
    organization_name: str | None
    generated_at: str | None
    report_tool_version: str
    run: dict[str, Any]
    slice: dict[str, Any] | None
    coverage: Coverage
    warnings: list[str]
    severity_summary: list[dict[str, Any]]
    totals: dict[str, int]
    rule_summary: list[dict[str, Any]]
    changes: dict[str, Any]
    accounts: list[dict[str, Any]]
    rules: dict[str, dict[str, Any]]  # by rule id: the run's record, else the catalogue's


@dataclass(frozen=True)
class Compliance:
    """The Controls table (`controls`: the summary's frameworks), every framework's results
    (`controls_all`), the frameworks mapped, and the view of one framework when asked for."""

    controls: dict[str, Any]
    controls_all: dict[str, Any]
    summary_frameworks: list[str]
    frameworks: list[dict[str, Any]]
    framework_view: dict[str, Any] | None


@dataclass(frozen=True)
class History:
    """This run against the earlier runs of its scope: the trend and the credential footprint."""

    trend: dict[str, Any]
    footprint: dict[str, Any]


@dataclass(frozen=True)
class AccountDetail:
    """The Accounts section: accounts ranked worst first, each with its counts per rule and its
    first finding rows (render.detail cuts them to the HTML's or the PDF's limits)."""

    ranked_accounts: list[dict[str, Any]]
    severity_columns: list[Any]
    account_sections: list[dict[str, Any]]
    detail_limits: dict[str, int]
    not_assessed: list[dict[str, Any]]
    partial: list[dict[str, Any]]
    skipped: list[dict[str, Any]]


@dataclass(frozen=True)
class Methodology:
    """How the report was made: the rules and thresholds in force, the caveats, the run's data
    notes and where its data came from."""

    thresholds: list[dict[str, Any]]
    caveats: list[dict[str, str]]
    run_notes: list[dict[str, Any]]
    provenance: dict[str, Any]


# ReportContext's fields whose own fields are the templates' names (the others are one each).
_SECTIONS = ("summary", "compliance", "history", "account_detail", "methodology")


@dataclass(frozen=True)
class ReportContext:
    """Everything the report templates show, in sections. Jinja reads the names of
    `template_names()`: each section's fields, and the one-value sections by their own name."""

    summary: ReportSummary
    paper: dict[str, str]
    fix_first: list[dict[str, Any]]
    compliance: Compliance
    history: History
    account_detail: AccountDetail
    waivers: dict[str, Any]
    methodology: Methodology
    api_calls: dict[str, Any]
    evidence: dict[str, Any]
    completeness: dict[str, Any]
    remediation: dict[str, Any]
    review: dict[str, Any]
    explorer: dict[str, Any] | None
    sections: list[dict[str, Any]]

    def template_names(self) -> dict[str, Any]:
        """The names the templates read, each once (a name two sections give is refused)."""
        names: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            found = (
                {f.name: getattr(value, f.name) for f in fields(value)}
                if field.name in _SECTIONS
                else {field.name: value}
            )
            twice = names.keys() & found.keys()
            if twice:
                raise ValueError(f"the report context gives {', '.join(sorted(twice))} twice")
            names.update(found)
        return names
