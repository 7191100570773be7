"""Given rows for lifecycle, waiver and control tests: runs, accounts and findings written
directly, so these tests do not depend on what the rules find."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from keyaudit.rules.waivers import Waiver
from keyaudit.warehouse.db import insert_frame
from keyaudit.warehouse.kept import HISTORY, keep_views

ORG = "o-example1"
A, B, C = "111111111111", "222222222222", "333333333333"


def finding(
    rule_id: str,
    account_id: str = A,
    user_name: str | None = None,
    access_key_id: str | None = None,
    *,
    severity: str = "high",
    key_slot: int | None = None,
    waived: bool = False,
    waiver_id: str | None = None,
) -> dict[str, Any]:
    """A finding row with a readable id: rule|account|user|key."""
    return {
        "finding_id": f"{rule_id}|{account_id}|{user_name or ''}|{access_key_id or ''}",
        "rule_id": rule_id,
        "severity": severity,
        "account_id": account_id,
        "user_name": user_name,
        "access_key_id": access_key_id,
        "key_slot": key_slot,
        "reason": f"{rule_id} on {user_name or account_id}",
        "waived": waived,
        "waiver_id": waiver_id,
    }


def waiver(waiver_id: str, rule_id: str = "ACCESS_KEY_NOT_ROTATED", **scope: Any) -> Waiver:
    """A waiver of `rule_id` in account A until 2027-01-31, narrowed by `scope` (Waiver fields)."""
    return Waiver(
        waiver_id=waiver_id,
        rule_id=rule_id,
        account_id=scope.pop("account_id", A),
        reason="accepted",
        approved_by="jane.doe@example.com",
        ticket="RISK-1",
        expires_on=scope.pop("expires_on", date(2027, 1, 31)),
        **scope,
    )


@dataclass
class History:
    """Writes runs with their accounts and findings, as load_run would have left them (with
    the kept rows of the views that compare runs, keyaudit.warehouse.kept.HISTORY)."""

    con: Any

    def run(
        self,
        run_id: str,
        as_of: datetime,
        findings: list[dict[str, Any]] = (),  # type: ignore[assignment]
        *,
        accounts: dict[str, str] | None = None,
        source: str = "demo",
        scope: str = "organization",
        organization_id: str | None = ORG,
        status: str = "finished",
        started_at: datetime | None = None,
    ) -> str:
        accounts = {A: "assessed", B: "assessed"} if accounts is None else accounts
        statuses = list(accounts.values())
        self.con.execute(
            """insert into runs (run_id, started_at, finished_at, as_of, source, scope,
                config_digest, config_json, parameters_json, tool_version, status,
                organization_id, accounts_in_scope, accounts_assessed, accounts_not_assessed,
                accounts_skipped)
               values (?, ?, ?, ?, ?, ?, 'digest', '{}', '{}', 'test', ?, ?, ?, ?, ?, ?)""",
            [
                run_id,
                started_at or as_of + timedelta(minutes=5),
                as_of + timedelta(minutes=10),
                as_of,
                source,
                scope,
                status,
                organization_id,
                sum(s != "skipped" for s in statuses),
                sum(s in ("assessed", "partial") for s in statuses),
                statuses.count("not_assessed"),
                statuses.count("skipped"),
            ],
        )
        frame = pd.DataFrame(
            [
                {"run_id": run_id, "account_id": a, "status": s, "tags": json.dumps({})}
                for a, s in accounts.items()
            ]
        )
        insert_frame(self.con, "accounts", frame)
        rows = pd.DataFrame([{"run_id": run_id, **f} for f in findings])
        if not rows.empty:
            rows["key_slot"] = rows["key_slot"].astype("Int64")
        insert_frame(self.con, "findings", rows)
        # as loading does last: the rows of the views that compare runs, kept for this run and
        # again for the runs after it
        keep_views(self.con, run_id, tables=HISTORY)
        return run_id

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        return [tuple(r) for r in self.con.execute(sql, list(params)).fetchall()]
