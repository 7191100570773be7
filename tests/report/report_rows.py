"""Given rows for report tests: one run, three accounts, hostile values, ten findings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

SCHEMA = Path(__file__).resolve().parents[2] / "sql" / "schema" / "0001_init.sql"

RUN_ID = "2026-12-01T0600Z-r1"
AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
GENERATED_AT = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)

ASSESSED = "012345678901"  # a leading zero: account ids are strings
NOT_ASSESSED = "111122223333"
SUSPENDED = "444455556666"

HOSTILE = "<script>alert(1)</script>\"'"
LONG_NAME = "x" * 300
FAILURE = (
    f"account {NOT_ASSESSED}: AccessDenied assuming "
    f"arn:aws:iam::{NOT_ASSESSED}:role/OrganizationAccountAccessRole — "
    "check the role's trust policy"
)
HOSTILE_REASON = "created 212 days ago; limit 90 <img src=x onerror=alert(2)>"


@dataclass(frozen=True)
class FakeRule:
    rule_id: str
    title: str
    severity: str
    remediation: str
    command: str = ""


RULES = [
    FakeRule(
        "ROOT_ACCESS_KEY_PRESENT",
        "Root user has an active access key",
        "critical",
        "Delete the root user's access keys.",
        "aws iam delete-access-key --access-key-id <KEY_ID>",
    ),
    FakeRule(
        "ACCESS_KEY_NOT_ROTATED",
        "Active access key not rotated within the limit",
        "high",
        "Create a second key, move the workload, deactivate the old key, then delete it.",
    ),
    FakeRule("CONSOLE_USER_WITHOUT_MFA", "Console user without MFA", "high", "Enable MFA."),
    FakeRule(
        "ACCOUNT_NOT_ASSESSED",
        "An account in scope could not be collected",
        "high",
        "Fix the audit role in the account, then run again.",
    ),
    FakeRule(
        "ACCESS_KEY_UNUSED",
        "Active access key not used within the limit",
        "medium",
        "Deactivate the key, then delete it.",
    ),
    FakeRule("MULTIPLE_ACTIVE_KEYS", "User has two active access keys", "medium", "Keep one key."),
    FakeRule("INACTIVE_KEY_NOT_REMOVED", "Inactive key kept too long", "low", "Delete the key."),
]

# severity, rule, user, key id, key slot, reason, waived
# fmt: off
FINDINGS = [
    ("critical", "ROOT_ACCESS_KEY_PRESENT", "<root_account>", None, 1, "root key 1 active", False),
    ("high", "ACCESS_KEY_NOT_ROTATED", "alice", "AKIAALICE00000000001", 1, HOSTILE_REASON, False),
    ("high", "ACCESS_KEY_NOT_ROTATED", "bob", "AKIABOB0000000000001", 1, "95 d; limit 90", False),
    ("high", "ACCESS_KEY_NOT_ROTATED", "carol", "AKIACAROL00000000001", 1, "400 d; limit 90", True),
    ("high", "CONSOLE_USER_WITHOUT_MFA", "alice", None, None, "password enabled, no MFA", False),
    ("medium", "ACCESS_KEY_UNUSED", "bob", "AKIABOB0000000000002", 2, "60 d; limit 45", False),
    ("medium", "ACCESS_KEY_UNUSED", "dave", None, 2, "never used, 50 d; limit 45", False),
    ("medium", "MULTIPLE_ACTIVE_KEYS", "bob", None, None, "2 active keys", False),
    ("low", "INACTIVE_KEY_NOT_REMOVED", "erin", "AKIAERIN000000000001", 1, "31 d; limit 30", False),
]
# fmt: on


def make_warehouse(path: Path, *, extra_findings: int = 0) -> duckdb.DuckDBPyConnection:
    """The schema from sql/schema, one run with three accounts, and its findings."""
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")
    con.execute(SCHEMA.read_text(encoding="utf-8"))
    con.execute(
        """insert into runs values ($run_id, $started, $finished, $as_of, 'aws', 'organization',
           'digest', '{}', '{}', '0.1.0', 'finished', $caller, 'o-abc123def4', 2, 1, 1, 1, $sha)""",
        {
            "run_id": RUN_ID,
            "started": AS_OF,
            "finished": AS_OF + timedelta(minutes=4),
            "as_of": AS_OF,
            "caller": "arn:aws:sts::999988887777:assumed-role/KeyAuditRunner/keyaudit",
            "sha": "ab" * 32,
        },
    )
    accounts = [
        (ASSESSED, HOSTILE, "Root/Workloads/" + HOSTILE, "ACTIVE", "assessed", None,
         AS_OF - timedelta(minutes=3)),
        (NOT_ASSESSED, LONG_NAME, "Root/Sandbox", "ACTIVE", "not_assessed", FAILURE, None),
        (SUSPENDED, "old-team", "Root/Suspended", "SUSPENDED", "skipped",
         "account state is SUSPENDED; only ACTIVE accounts are audited", None),
    ]  # fmt: skip
    con.executemany(
        """insert into accounts (run_id, account_id, name, email, state, ou_path, tags, status,
           error, report_generated_at) values (?, ?, ?, 'a@example.com', ?, ?, ?, ?, ?, ?)""",
        [
            [RUN_ID, a, name, state, ou, json.dumps({"team": HOSTILE}), status, error, generated]
            for a, name, ou, state, status, error, generated in accounts
        ],
    )
    rows = [(ASSESSED, *f) for f in FINDINGS]
    rows.append((NOT_ASSESSED, "high", "ACCOUNT_NOT_ASSESSED", None, None, None, FAILURE, False))
    cycle = [(r.severity, r.rule_id) for r in RULES if r.rule_id != "ACCOUNT_NOT_ASSESSED"]
    rows += [
        (ASSESSED, *cycle[i % len(cycle)], f"svc-{i:04d}", f"AKIASVC{i:013d}", 1 + i % 2,
         f"observed {46 + i} days; limit 45", False)
        for i in range(extra_findings)
    ]  # fmt: skip
    con.executemany(
        """insert into findings (run_id, finding_id, rule_id, severity, account_id, user_name,
           access_key_id, key_slot, reason, waived, waiver_id)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            [RUN_ID, f"f{n:05d}", rule, sev, acct, user, key, slot, reason, waived,
             "W-7" if waived else None]
            for n, (acct, sev, rule, user, key, slot, reason, waived) in enumerate(rows)
        ],
    )  # fmt: skip
    con.execute(
        "insert into run_notes values (?, ?, 'credential_report', ?)",
        [RUN_ID, ASSESSED, "report line 7 repeats user bob; the first line was kept"],
    )
    return con
