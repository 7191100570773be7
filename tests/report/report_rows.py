"""Given rows for report tests: two runs a month apart, four accounts (one hostile, one not
assessed, one suspended, one clean-ish), findings, keys, waivers, evidence and notes.

The warehouse is made by `keyaudit.warehouse.db.connect`, so every migration and view is the real one.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from keyaudit.model import address_in
from keyaudit.warehouse.db import connect
from keyaudit.warehouse.kept import HISTORY, keep_views
from keyaudit.warehouse.marts import build_marts
from keyaudit.warehouse.remediation_plan import build_plan

RUN_ID = "20261201T060000Z-r1"
PREV_RUN_ID = "20261101T060000Z-r0"
AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
PREV_AS_OF = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
FINISHED_AT = AS_OF + timedelta(minutes=4)
GENERATED_AT = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
ORG = "o-abc123def4"
CALLER = "arn:aws:sts::999988887777:assumed-role/KeyAuditRunner/keyaudit"

ASSESSED = "012345678901"  # a leading zero: account ids are strings
NOT_ASSESSED = "111122223333"
SUSPENDED = "444455556666"
OTHER = "222233334444"

HOSTILE = "<script>alert(1)</script>\"'"
# The runs' [delivery.email] owner_tag: an account's owner is this tag's address, nothing else.
OWNER_TAG = "owner-email"
LONG_NAME = "x" * 300
FAILURE = (
    f"account {NOT_ASSESSED}: AccessDenied assuming "
    f"arn:aws:iam::{NOT_ASSESSED}:role/OrganizationAccountAccessRole — "
    "check the role's trust policy"
)
HOSTILE_REASON = "created 212 days ago; limit 90 <img src=x onerror=alert(2)>"
FORMULA_USER = '=HYPERLINK("http://evil","x")'


@dataclass(frozen=True)
class FakeRule:
    rule_id: str
    title: str
    severity: str
    remediation: str
    command: str = ""
    scope: str = "key"
    rationale: str = "Why the rule matters, in a sentence or two."
    controls: dict[str, Any] = field(default_factory=dict)


RULES = [
    FakeRule(
        "ROOT_ACCESS_KEY_PRESENT",
        "Root user has an active access key",
        "critical",
        "Delete the root user's access keys.",
        "aws iam delete-access-key --access-key-id <KEY_ID>",
        "account",
        controls={"cis_v1_4_to_v4_0": "1.4", "security_hub": ["IAM.4"]},
    ),
    FakeRule(
        "ACCESS_KEY_NOT_ROTATED",
        "Active access key not rotated within the limit",
        "high",
        "Create a second key, move the workload, deactivate the old key, then delete it.",
        "aws iam update-access-key --user-name <USER> --access-key-id <KEY_ID> --status Inactive",
        controls={"cis_v1_4_to_v4_0": "1.14", "cis_v5_0": "1.13", "security_hub": ["IAM.3"]},
    ),
    FakeRule(
        "CONSOLE_USER_WITHOUT_MFA",
        "Console user without MFA",
        "high",
        "Enable MFA.",
        scope="user",
        controls={"cis_v1_4_to_v4_0": "1.10", "security_hub": ["IAM.5"]},
    ),
    FakeRule(
        "ACCOUNT_NOT_ASSESSED",
        "An account in scope could not be collected",
        "high",
        "Fix the audit role in the account, then run again.",
        scope="account",
        controls={"keyaudit": "KA-1"},
    ),
    FakeRule(
        "ACCESS_KEY_UNUSED",
        "Active access key not used within the limit",
        "medium",
        "Deactivate the key, then delete it.",
        controls={"cis_v1_4_to_v4_0": "1.12", "security_hub": ["IAM.22"]},
    ),
    FakeRule(
        "MULTIPLE_ACTIVE_KEYS",
        "User has two active access keys",
        "medium",
        "Keep one key.",
        scope="user",
        controls={"cis_v1_4_to_v4_0": "1.13"},
    ),
    FakeRule(
        "INACTIVE_KEY_NOT_REMOVED",
        "Inactive key kept too long",
        "low",
        "Delete the key.",
        controls={"keyaudit": "KA-3"},
    ),
]
PARAMETERS = {
    "ACCESS_KEY_NOT_ROTATED": {"max_key_age_days": 90},
    "ACCESS_KEY_UNUSED": {"max_unused_days": 45},
}

# finding id, severity, rule, account, user, key id, key slot, reason, waived
# fmt: off
FINDINGS = [
    ("f-root", "critical", "ROOT_ACCESS_KEY_PRESENT", ASSESSED, "<root_account>", None, 1, "root key 1 active", False),
    ("f-alice", "high", "ACCESS_KEY_NOT_ROTATED", ASSESSED, "alice", "AKIAALICE00000000001", 1, HOSTILE_REASON, False),
    ("f-bob1", "high", "ACCESS_KEY_NOT_ROTATED", ASSESSED, "bob", "AKIABOB0000000000001", 1, "95 d; limit 90", False),
    ("f-carol", "high", "ACCESS_KEY_NOT_ROTATED", ASSESSED, "carol", "AKIACAROL00000000001", 1, "400 d; limit 90", True),
    ("f-alice-mfa", "high", "CONSOLE_USER_WITHOUT_MFA", ASSESSED, "alice", None, None, "password enabled, no MFA", False),
    ("f-bob2", "medium", "ACCESS_KEY_UNUSED", ASSESSED, "bob", "AKIABOB0000000000002", 2, "60 d; limit 45", False),
    ("f-dave", "medium", "ACCESS_KEY_UNUSED", ASSESSED, "dave", None, 2, "never used, 50 d; limit 45", False),
    ("f-bob-multi", "medium", "MULTIPLE_ACTIVE_KEYS", ASSESSED, "bob", None, None, "2 active keys", False),
    ("f-erin", "low", "INACTIVE_KEY_NOT_REMOVED", ASSESSED, "erin", "AKIAERIN000000000001", 1, "31 d; limit 30", False),
    ("f-formula", "medium", "ACCESS_KEY_UNUSED", OTHER, FORMULA_USER, "AKIAOTHER00000000001", 1, "-46 days? +1 @SUM(A1)", False),
    ("f-na", "high", "ACCOUNT_NOT_ASSESSED", NOT_ASSESSED, None, None, None, FAILURE, False),
]
# The previous run: alice's and bob's keys were already open; frank's key was fixed since.
PREVIOUS = [
    ("f-alice", "high", "ACCESS_KEY_NOT_ROTATED", ASSESSED, "alice", "AKIAALICE00000000001", 1, "182 d; limit 90", False),
    ("f-bob1", "high", "ACCESS_KEY_NOT_ROTATED", ASSESSED, "bob", "AKIABOB0000000000001", 1, "65 d; limit 90", False),
    ("f-frank", "high", "ACCESS_KEY_NOT_ROTATED", ASSESSED, "frank", "AKIAFRANK00000000001", 1, "100 d; limit 90", False),
    ("f-root", "critical", "ROOT_ACCESS_KEY_PRESENT", ASSESSED, "<root_account>", None, 1, "root key 1 active", False),
]
# user, key id, status, created, last used (None: never), service, region
KEYS = [
    ("alice", "AKIAALICE00000000001", "Active", AS_OF - timedelta(days=212), AS_OF - timedelta(days=3), "s3", "eu-west-1"),
    ("bob", "AKIABOB0000000000001", "Active", AS_OF - timedelta(days=95), AS_OF - timedelta(days=1), "sts", None),
    ("bob", "AKIABOB0000000000002", "Active", AS_OF - timedelta(days=70), AS_OF - timedelta(days=60), "iam", "us-east-1"),
    ("carol", "AKIACAROL00000000001", "Active", AS_OF - timedelta(days=400), None, None, None),
    ("erin", "AKIAERIN000000000001", "Inactive", AS_OF - timedelta(days=300), None, None, None),
]
# fmt: on
ROOT_KEY_CREATED = AS_OF - timedelta(days=689)
EVIDENCE = [
    (None, "run.json", "run", "11" * 32, 900),
    (None, "manifest.json", "manifest", "22" * 32, 2000),
    (ASSESSED, f"{ASSESSED}/credential_report.csv", "credential_report", "33" * 32, 3000),
    (ASSESSED, f"{ASSESSED}/access_keys.json", "access_keys", "44" * 32, 1500),
    (OTHER, f"{OTHER}/credential_report.csv", "credential_report", "55" * 32, 800),
    (NOT_ASSESSED, f"{NOT_ASSESSED}/collection.json", "collection_outcome", "66" * 32, 200),
]
WAIVERS = [
    # id, rule, account, user, reason, approver, ticket, expires, status
    ("W-7", "ACCESS_KEY_NOT_ROTATED", ASSESSED, "carol", "vendor appliance", "jane@example.com",
     "RISK-7", date(2027, 3, 31), "active"),
    ("W-8", "ACCESS_KEY_UNUSED", ASSESSED, "bob", "old exception", "joe@example.com",
     "RISK-8", date(2026, 10, 31), "expired"),
    ("W-9", "MULTIPLE_ACTIVE_KEYS", OTHER, "svc-*", HOSTILE, "ann@example.com",
     None, date(2027, 1, 31), "unused"),
]  # fmt: skip


def _insert(con: duckdb.DuckDBPyConnection, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(f'"{c}"' for c in row)
    marks = ", ".join(f"${c}" for c in row)
    con.execute(f"insert into {table} ({columns}) values ({marks})", row)


def _run(con: duckdb.DuckDBPyConnection, run_id: str, as_of: datetime, counts: tuple) -> None:
    _insert(
        con,
        "runs",
        {
            "run_id": run_id,
            "started_at": as_of,
            "finished_at": as_of + timedelta(minutes=4),
            "as_of": as_of,
            "source": "aws",
            "scope": "organization",
            "config_digest": "digest",
            "config_json": json.dumps(
                {
                    "report": {"title": "AWS access key audit"},
                    "delivery": {"email": {"owner_tag": OWNER_TAG}},
                }
            ),
            "parameters_json": json.dumps(
                {
                    r.rule_id: {
                        "severity": r.severity,
                        "enabled": True,
                        **PARAMETERS.get(r.rule_id, {}),
                    }
                    for r in RULES
                }
            ),
            "tool_version": "0.1.0",
            "status": "finished",
            "caller_arn": CALLER,
            "organization_id": ORG,
            "accounts_in_scope": counts[0],
            "accounts_assessed": counts[1],
            "accounts_not_assessed": counts[2],
            "accounts_skipped": counts[3],
            "manifest_sha256": "ab" * 32,
        },
    )


def _accounts(con: duckdb.DuckDBPyConnection, run_id: str, as_of: datetime) -> None:
    # fmt: off
    accounts = [
        (ASSESSED, HOSTILE, "Root/Workloads/" + HOSTILE, "ACTIVE", "assessed", None,
         as_of - timedelta(minutes=3), {"owner": HOSTILE, "team": "payments", "cost-center": "CC-1"}),
        (OTHER, "payments-prod", "Root/Workloads/Prod", "ACTIVE", "assessed", None,
         as_of - timedelta(hours=3), {"Owner-Email": "pay@example.com"}),
        (NOT_ASSESSED, LONG_NAME, "Root/Sandbox", "ACTIVE", "not_assessed", FAILURE, None, {}),
        (SUSPENDED, "old-team", "Root/Suspended", "SUSPENDED", "skipped",
         "account state is SUSPENDED; only ACTIVE accounts are audited", None, {}),
    ]
    # fmt: on
    for account_id, name, ou, state, status, error, generated, tags in accounts:
        _insert(
            con,
            "accounts",
            {
                "run_id": run_id,
                "account_id": account_id,
                "name": name,
                "email": "a@example.com",
                "state": state,
                "ou_path": ou,
                "tags": json.dumps(tags),
                "status": status,
                "error": error,
                "report_generated_at": generated,
            },
        )
        for key, value in tags.items():  # as the load writes them (keyaudit.warehouse.load)
            _insert(
                con,
                "owner_tags",
                {
                    "run_id": run_id,
                    "account_id": account_id,
                    "user_name": None,
                    "tag_key": key,
                    "tag_value": value,
                    "address": address_in(value),
                },
            )


def _findings(con: duckdb.DuckDBPyConnection, run_id: str, rows: list[tuple]) -> None:
    for finding_id, severity, rule, account, user, key, slot, reason, waived in rows:
        _insert(
            con,
            "findings",
            {
                "run_id": run_id,
                "finding_id": finding_id,
                "rule_id": rule,
                "severity": severity,
                "account_id": account,
                "user_name": user,
                "access_key_id": key,
                "key_slot": slot,
                "reason": reason,
                "waived": waived,
                "waiver_id": "W-7" if waived else None,
            },
        )


def _keys(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    for user, key, status, created, used, service, region in KEYS:
        _insert(
            con,
            "access_keys",
            {
                "run_id": run_id,
                "account_id": ASSESSED,
                "user_name": user,
                "access_key_id": key,
                "status": status,
                "create_date": created,
                "last_used_date": used,
                "last_used_service": service,
                "last_used_region": region,
            },
        )
    na = "N/A"
    report_row = {
        "run_id": run_id,
        "account_id": ASSESSED,
        "line_number": 1,
        "user": "<root_account>",
        "arn": f"arn:aws:iam::{ASSESSED}:root",
        "user_creation_time": "2020-01-01T00:00:00+00:00",
        "password_enabled": "not_supported",
        "password_last_used": "2026-11-30T10:00:00+00:00",
        "password_last_changed": "not_supported",
        "password_next_rotation": "not_supported",
        "mfa_active": "true",
        "access_key_1_active": "true",
        "access_key_1_last_rotated": ROOT_KEY_CREATED.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "access_key_1_last_used_date": "2026-11-24T08:15:00+00:00",
        "access_key_1_last_used_region": "us-east-1",
        "access_key_1_last_used_service": "s3",
        "access_key_2_active": "false",
        "access_key_2_last_rotated": na,
        "access_key_2_last_used_date": na,
        "access_key_2_last_used_region": na,
        "access_key_2_last_used_service": na,
        "cert_1_active": "false",
        "cert_1_last_rotated": na,
        "cert_2_active": "false",
        "cert_2_last_rotated": na,
    }
    _insert(con, "credential_report", report_row)


def _run_rules(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    for r in RULES:
        _insert(
            con,
            "run_rules",
            {
                "run_id": run_id,
                "rule_id": r.rule_id,
                "title": r.title,
                "severity": r.severity,
                "scope": r.scope,
                "enabled": True,
                "controls": json.dumps(r.controls),
                "parameters": json.dumps(PARAMETERS.get(r.rule_id, {})),
                "rationale": r.rationale,
                "remediation": r.remediation,
                "command": r.command or None,
            },
        )


def make_warehouse(path: Path, *, extra_findings: int = 0) -> duckdb.DuckDBPyConnection:
    """Both runs with their accounts, findings, keys, waivers, evidence and notes."""
    con = connect(path)
    _run(con, PREV_RUN_ID, PREV_AS_OF, (3, 2, 1, 1))
    _accounts(con, PREV_RUN_ID, PREV_AS_OF)
    _findings(con, PREV_RUN_ID, PREVIOUS)
    _run_rules(con, PREV_RUN_ID)
    _run(con, RUN_ID, AS_OF, (3, 2, 1, 1))
    _accounts(con, RUN_ID, AS_OF)
    cycle = [(r.severity, r.rule_id) for r in RULES if r.rule_id != "ACCOUNT_NOT_ASSESSED"]
    extra = [
        (f"x{i:05d}", *cycle[i % len(cycle)], ASSESSED, f"svc-{i:04d}", f"AKIASVC{i:013d}",
         1 + i % 2, f"observed {46 + i} days; limit 45", False)
        for i in range(extra_findings)
    ]  # fmt: skip
    _findings(con, RUN_ID, FINDINGS + extra)
    _keys(con, RUN_ID)
    for run_id in (PREV_RUN_ID, RUN_ID):
        build_marts(con, run_id)  # as loading a run does
        keep_views(con, run_id, tables=HISTORY)  # as loading does: the plan reads the lifecycle
        build_plan(con, run_id)  # as loading a run does, after the waivers (none here yet)
    _run_rules(con, RUN_ID)
    for waiver_id, rule, account, user, reason, approver, ticket, expires, status in WAIVERS:
        _insert(
            con,
            "waivers",
            {
                "run_id": RUN_ID,
                "waiver_id": waiver_id,
                "rule_id": rule,
                "account_id": account,
                "user_name": user,
                "reason": reason,
                "approved_by": approver,
                "ticket": ticket,
                "expires_on": expires,
                "status": status,
                "count_matched": 1 if status != "unused" else 0,
            },
        )
    for account, path_, kind, sha, size in EVIDENCE:
        _insert(
            con,
            "evidence",
            {
                "run_id": RUN_ID,
                "account_id": account,
                "path": path_,
                "kind": kind,
                "sha256": sha,
                "bytes": size,
            },
        )
    _insert(
        con,
        "run_notes",
        {
            "run_id": RUN_ID,
            "account_id": ASSESSED,
            "kind": "credential_report",
            "message": "report line 7 repeats user bob; the first line was kept",
        },
    )
    keep_as_loading_does(con)
    return con


def keep_as_loading_does(con: duckdb.DuckDBPyConnection) -> None:
    """Keep both runs' reconciliation and control results (keyaudit.warehouse.kept), as loading
    does after the last write: a test that changes what they read calls it again, as the run
    would be loaded again."""
    for run_id in (PREV_RUN_ID, RUN_ID):
        keep_views(con, run_id)


def open_copy(template: Path, folder: Path) -> duckdb.DuckDBPyConnection:
    """A writable copy of the warehouse file `template` in `folder`, in UTC."""
    target = folder / "report.duckdb"
    shutil.copyfile(template, target)
    con = duckdb.connect(str(target))
    con.execute("set TimeZone = 'UTC'")
    return con


def count(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> int:
    return con.execute(sql, list(params)).fetchone()[0]
