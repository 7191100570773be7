"""What the report says about how it was made: rules and thresholds in force, data caveats,
waivers and the evidence files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import duckdb

from keyaudit.report.controls import FRAMEWORKS, mappings
from keyaudit.report.formatting import Relations, day, json_object, severity_class
from keyaudit.report.queries import rows

_NOT_PARAMETERS = ("severity", "enabled")


def rules_in_force(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    relations: Relations,
    parameters_json: Any,
    catalogue: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Every rule of the run with the severity, parameters and mappings it ran with.

    The run's own record wins (run_rules, then runs.parameters_json); the catalogue given to the
    report fills in prose (rationale, remediation, command) and anything the run did not record.
    """
    recorded = json_object(parameters_json)
    run_rules: dict[str, dict[str, Any]] = {}
    if relations.has(
        "run_rules", "run_id", "rule_id", "title", "severity", "controls", "parameters"
    ):
        run_rules = {r["rule_id"]: r for r in rows(con, "run_rules", {"run_id": run_id})}
    rule_ids = sorted(set(recorded) | set(run_rules)) or sorted(catalogue)
    out = []
    for rule_id in rule_ids:
        rule = catalogue.get(rule_id)
        ran = run_rules.get(rule_id, {})
        settings: dict[str, Any] = json_object(recorded.get(rule_id))
        values = {k: v for k, v in settings.items() if k not in _NOT_PARAMETERS}
        values.update(json_object(ran.get("parameters")))
        specs = getattr(rule, "parameter_specs", {}) or {}
        controls = json_object(ran.get("controls")) or _catalogue_controls(rule)
        severity = (
            ran.get("severity") or settings.get("severity") or getattr(rule, "severity", None)
        )
        enabled = (
            ran["enabled"] if ran.get("enabled") is not None else settings.get("enabled", True)
        )

        def prose(name: str, ran: dict[str, Any] = ran, rule: Any = rule) -> Any:
            return ran.get(name) or getattr(rule, name, None) or None

        out.append(
            {
                "rule_id": rule_id,
                "title": prose("title"),
                "severity": severity or "unknown",
                "css": severity_class(severity),
                "scope": prose("scope"),
                "enabled": bool(enabled),
                "parameters": [
                    {
                        "name": name,
                        "value": value,
                        "description": getattr(specs.get(name), "description", None),
                    }
                    for name, value in sorted(values.items())
                ],
                "controls": controls,
                "control_labels": [
                    f"{FRAMEWORKS.get(f, f)} {c}"
                    for f, c in mappings(controls)
                    if f != "aws_config"
                ]
                + [f"AWS Config {c}" for f, c in mappings(controls) if f == "aws_config"],
                "rationale": prose("rationale"),
                "remediation": prose("remediation"),
                "command": prose("command"),
                "in_catalogue": rule is not None or bool(ran),
            }
        )
    return out


def _catalogue_controls(rule: Any) -> dict[str, Any]:
    controls = getattr(rule, "controls", None)
    if controls is None:
        return {}
    if hasattr(controls, "model_dump"):
        return dict(controls.model_dump())
    return dict(controls) if isinstance(controls, Mapping) else {}


def caveats(coverage: Mapping[str, Any], source: str) -> list[dict[str, str]]:
    """What the data cannot say, in the reader's words."""
    out = [
        {
            "title": "Last-use times are approximate",
            "text": "AWS records when an access key was last used to the minute, as the first "
            "use in each 15-minute window (5 minutes for console passwords). A key used shortly "
            "before the audit instant may show an earlier time.",
        },
        {
            "title": "Credential reports can be up to four hours old",
            "text": "IAM returns an existing credential report while it is less than four hours "
            "old, so each account is shown as of its own report time"
            + (
                f"; the oldest in this run is {coverage['oldest_report_at']}."
                if coverage.get("oldest_report_at")
                else "."
            ),
        },
        {
            "title": "Tracking start dates",
            "text": "AWS began tracking access-key last use on 2015-04-22 and console-password "
            "last use on 2014-10-20; \u201cnever used\u201d means not used since then. Password "
            "last-use data is missing for 2018-05-03 to 2018-05-23.",
        },
        {
            "title": "Keys are matched by creation time",
            "text": "The credential report carries no access key ids. Its key slots are matched "
            "to the keys IAM lists by creation time, to the second; a key the two sources "
            "disagree about is listed under data notes. Root keys are only visible through the "
            "credential report, so they are shown by slot.",
        },
        {
            "title": "Limits are strict",
            "text": "A key is over a limit of N days when the time from its creation (or last "
            "use) to the audit instant is strictly greater than N days.",
        },
        {
            "title": "Accounts not assessed are not clean",
            "text": "An account whose credentials could not be collected is counted as not "
            "assessed and listed with the reason; it never counts as an account without "
            "findings, and a control that passes does so for the assessed accounts only.",
        },
    ]
    if source == "files":
        out.append(
            {
                "title": "Collected from files",
                "text": "This run read credential reports from files, not from AWS; last use "
                "and key ids come from those files alone.",
            }
        )
    return out


def waiver_lists(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    relations: Relations,
    account_ids: Sequence[str] | None,
    as_of: datetime,
) -> dict[str, Any]:
    """Active, expired and unused waivers of the run (the waiver file as the run read it)."""
    wanted = ("run_id", "waiver_id", "rule_id", "account_id", "expires_on", "approved_by")
    if not relations.has("waivers", *wanted):
        return {"available": False, "active": [], "expired": [], "unused": [], "total": 0}
    has_status = relations.has("waivers", "status")
    today = as_of.date()
    lists: dict[str, list[dict[str, Any]]] = {"active": [], "expired": [], "unused": []}
    for w in rows(con, "waivers", {"run_id": run_id}):
        if account_ids is not None and w["account_id"] not in (None, *account_ids):
            continue
        status = w["status"] if has_status else _status(w, today)
        record = {
            "waiver_id": w["waiver_id"],
            "rule_id": w["rule_id"],
            "scope": _scope(w),
            "reason": w.get("reason"),
            "approved_by": w.get("approved_by"),
            "ticket": w.get("ticket"),
            "expires_on": day(w["expires_on"]),
            "findings": w["count_matched"]
            if w.get("count_matched") is not None
            else w["count_findings"],
            "status": status,
        }
        lists.setdefault(status if status in lists else "active", []).append(record)
    return {"available": True, **lists, "total": sum(len(v) for v in lists.values())}


def _status(waiver: Mapping[str, Any], today: date) -> str:
    if waiver["expires_on"] is not None and waiver["expires_on"] < today:
        return "expired"
    return "active" if waiver["count_findings"] else "unused"


def _scope(waiver: Mapping[str, Any]) -> str:
    parts = []
    if waiver.get("account_id"):
        parts.append(f"account {waiver['account_id']}")
    if waiver.get("user_name"):
        parts.append(f"user {waiver['user_name']}")
    if waiver.get("access_key_id"):
        parts.append(f"key {waiver['access_key_id']}")
    return ", ".join(parts) or "every account"


def evidence_files(
    con: duckdb.DuckDBPyConnection, run_id: str, account_ids: list[str] | None
) -> list[dict[str, Any]]:
    return [
        {
            "account_id": r["account_id"],
            "path": r["path"],
            "kind": r["kind"],
            "sha256": r["sha256"],
            "bytes": r["bytes"],
        }
        for r in rows(con, "evidence_files", {"run_id": run_id, "account_ids": account_ids})
    ]
