"""Accounts in the report: owner and tags, the ranking, and the per-account sections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from keyaudit.model import HEADLINE_SEVERITIES
from keyaudit.report.formatting import (
    day,
    json_object,
    owner_label,
    severity_class,
    severity_sort_key,
    ts,
)
from keyaudit.rules.commands import fill_command

ASSESSED_STATUSES = ("assessed", "partial")
# Statuses the coverage figures count explicitly; anything else is reported as not assessed.
COUNTED_STATUSES = ("assessed", "partial", "skipped")

STATUS_LABELS = {
    "assessed": "assessed",
    "partial": "partially assessed",
    "not_assessed": "not assessed",
    "skipped": "skipped",
}


def account_record(row: dict[str, Any]) -> dict[str, Any]:
    """One account as every section shows it."""
    status = row["status"]
    tags = json_object(row["tags"])
    assessed = status in ASSESSED_STATUSES
    return {
        "account_id": row["account_id"],
        "name": row["name"],
        "email": row["email"],
        "ou_path": row["ou_path"],
        "state": row["state"],
        # The warehouse's account_owners, the one rule delivery follows too: the configured
        # [delivery.email] owner_tag, else the OU map; None when the compliance list gets it.
        "owner": row["owner"],
        "owner_source": row["owner_source"],
        "tags": [{"key": str(k), "value": str(v)} for k, v in sorted(tags.items())],
        "status": status,
        "status_label": STATUS_LABELS.get(status, f"{status} (counted as not assessed)"),
        "status_css": status if status in STATUS_LABELS else "not_assessed",
        "is_assessed": assessed,
        "error": row["error"],
        "is_management": row["is_management"],
        "report_generated_at": ts(row["report_generated_at"]),
        # None, never 0, for an account whose keys were not read: it is not clean.
        "open_findings": row["count_open"] if assessed else None,
        "open_by_severity": {
            "critical": row["count_critical"],
            "high": row["count_high"],
            "medium": row["count_medium"],
            "low": row["count_low"],
            "other": row["count_other"],
        },
        "waived_findings": row["count_waived"],
        "findings_total": row["count_open"] + row["count_waived"],
        # Worth a place among "the most open findings": open ones, or not known (not assessed).
        "in_top_list": (row["count_open"] > 0) or status not in (*ASSESSED_STATUSES, "skipped"),
    }


def rank(accounts: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Most open findings first, worse severities breaking ties, then waived, then id."""

    def key(a: dict[str, Any]) -> tuple[Any, ...]:
        s = a["open_by_severity"]
        return (
            -sum(s.values()),
            -s["critical"],
            -s["high"],
            -s["medium"],
            -s["low"],
            -a["waived_findings"],
            a["account_id"],
        )

    return sorted(accounts, key=key)


def accounts_table_for_pdf(
    accounts: Sequence[dict[str, Any]], ranked: Sequence[dict[str, Any]], limit: int
) -> dict[str, Any]:
    """The PDF's Accounts table: every account by id, or past `limit` accounts the `limit` with
    the most open findings (`rank`'s order) and one line of totals for the others, so no
    account's findings drop out of the PDF's counts. A 1,000-account table was 34 pages and
    about a third of that PDF's layout; the accounts not assessed are listed by name in the
    scope section whatever this table shows, and report.html and findings.xlsx list every one."""
    if len(accounts) <= limit:
        return {"rows": list(accounts), "capped": False, "rest": None}
    shown = list(ranked[:limit])
    ids = {a["account_id"] for a in shown}
    others = [a for a in accounts if a["account_id"] not in ids]
    assessed = [a for a in others if a["is_assessed"]]
    by_severity = {s: sum(a["open_by_severity"][s] for a in assessed) for s in HEADLINE_SEVERITIES}
    return {
        "rows": shown,
        "capped": True,
        "rest": {
            "count": len(others),
            "assessed": len(assessed),
            "not_assessed": sum(not a["is_assessed"] and a["status"] != "skipped" for a in others),
            "skipped": sum(a["status"] == "skipped" for a in others),
            "open_findings": sum(a["open_findings"] for a in assessed),
            "open_by_severity": by_severity,
            "waived_findings": sum(a["waived_findings"] for a in others),
        },
    }


def finding_row(row: dict[str, Any]) -> dict[str, Any]:
    """One finding as the per-account tables and the exports show it."""
    # the credential it names: an access key, SSH key, service-specific credential or certificate
    if row["credential_id"]:
        key = row["credential_id"]
    elif row["credential_slot"] is not None:
        key = f"slot {row['credential_slot']}"
    else:
        key = None
    if not row["is_key_known"]:
        last_used = None
    elif row["key_last_used_at"] is None:
        last_used = "never"
    else:
        last_used = day(row["key_last_used_at"])
    return {
        "finding_id": row["finding_id"],
        "severity": row["severity"],
        "css": severity_class(row["severity"]),
        "rule_id": row["rule_id"],
        "account_id": row["account_id"],
        "user_name": row["user_name"],
        "key": key,
        "key_is_slot": not row["credential_id"] and row["credential_slot"] is not None,
        "age_days": row["key_age_days"],
        "last_used": last_used,
        "last_used_where": ", ".join(
            v for v in (row["key_last_used_service"], row["key_last_used_region"]) if v
        )
        or None,
        "reason": row["reason"],
        "ticket": row.get("ticket"),
        "owner": owner_label(row.get("owner"), row.get("owner_source")),
        "waived": row["waived"],
        "waiver_id": row["waiver_id"],
        "is_new": row["is_new"],
        "days_open": row["days_open"],
    }


def section_groups(
    rule_counts: Sequence[dict[str, Any]],
    rows: Sequence[dict[str, Any]],
    rules: Mapping[str, dict[str, Any]],
    *,
    account_id: str | None = None,
    role: str | None = None,
) -> list[dict[str, Any]]:
    """An account's findings grouped by rule (worst first), with the rows given for each and
    the rule's command filled in with the account and the audit role."""
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_rule.setdefault(row["rule_id"], []).append(row)
    groups = []
    for count in sorted(
        rule_counts, key=lambda c: (severity_sort_key(c["severity"]), c["rule_id"])
    ):
        rule = rules.get(count["rule_id"], {})
        shown = [r for r in by_rule.get(count["rule_id"], []) if r["severity"] == count["severity"]]
        total = count["count_open"] + count["count_waived"]
        groups.append(
            {
                "rule_id": count["rule_id"],
                "title": rule.get("title"),
                "severity": count["severity"],
                "css": severity_class(count["severity"]),
                "command": fill_command(rule.get("command"), account_id=account_id, role=role),
                "open": count["count_open"],
                "waived": count["count_waived"],
                "total": total,
                "rows": shown,
                "omitted": total - len(shown),
            }
        )
    return groups


_SHORT = {"critical": "Crit.", "high": "High", "medium": "Med.", "low": "Low", "other": "Other"}


def severity_columns(accounts: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Critical to low always; a column for other severities only when one occurs."""
    keys: list[str] = list(HEADLINE_SEVERITIES)
    if any(a["open_by_severity"]["other"] for a in accounts):
        keys.append("other")
    return [{"key": k, "label": _SHORT[k]} for k in keys]
