"""Given rows → expected findings: a tiny builder that writes warehouse rows directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from keyaudit.rules.catalogue import load_catalogue
from keyaudit.sources.credential_report import COLUMNS
from keyaudit.warehouse.db import insert_frame
from keyaudit.warehouse.findings import evaluate
from keyaudit.warehouse.marts import build_marts

AS_OF = datetime.fromisoformat("2026-12-01T06:00:00+00:00")
ACCOUNT = "111122223333"


def ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def days_ago(days: float) -> datetime:
    return AS_OF - timedelta(days=days)


def cell(value: str | datetime) -> str:
    return ts(value) if isinstance(value, datetime) else value


@dataclass
class Given:
    con: Any
    run_id: str = "run-1"
    report: list[dict[str, Any]] = field(default_factory=list)
    keys: list[dict[str, Any]] = field(default_factory=list)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    credentials: list[dict[str, Any]] = field(default_factory=list)  # iam_credentials rows

    def account(self, account_id: str = ACCOUNT, **values: Any) -> Given:
        self.accounts[account_id] = {"account_id": account_id, "status": "assessed", **values}
        return self

    def user(
        self,
        name: str,
        *,
        account_id: str = ACCOUNT,
        created: datetime | None = None,
        password: bool = False,
        password_last_used: str | datetime = "N/A",
        password_last_changed: str | datetime | None = None,
        mfa: bool = False,
        key1: dict[str, Any] | None = None,
        key2: dict[str, Any] | None = None,
        cert1: dict[str, Any] | None = None,
        cert2: dict[str, Any] | None = None,
    ) -> Given:
        """A credential-report row; key dicts take active, created, last_used (datetime or None).

        Timestamps may be given as a datetime or as the cell text (a sentinel such as N/A);
        password_last_changed defaults to not_supported for root and N/A for IAM users.
        """
        self.accounts.setdefault(account_id, {"account_id": account_id, "status": "assessed"})
        root = name == "<root_account>"
        row = {column: "N/A" for column in COLUMNS}
        row.update(
            user=name,
            arn=f"arn:aws:iam::{account_id}:root"
            if root
            else f"arn:aws:iam::{account_id}:user/{name}",
            user_creation_time=ts(created or days_ago(400)),
            password_enabled="not_supported" if root else str(password).lower(),
            password_last_used=cell(password_last_used),
            password_last_changed=cell(password_last_changed)
            if password_last_changed is not None
            else ("not_supported" if root else "N/A"),
            password_next_rotation="not_supported" if root else "N/A",
            mfa_active=str(mfa).lower(),
            access_key_1_active="false",
            access_key_2_active="false",
            cert_1_active="false",
            cert_2_active="false",
        )
        for slot, key in ((1, key1), (2, key2)):
            if key is None:
                continue
            row[f"access_key_{slot}_active"] = str(key.get("active", True)).lower()
            row[f"access_key_{slot}_last_rotated"] = ts(key["created"])
            if key.get("last_used") is not None:
                row[f"access_key_{slot}_last_used_date"] = ts(key["last_used"])
                row[f"access_key_{slot}_last_used_region"] = "us-east-1"
                row[f"access_key_{slot}_last_used_service"] = "s3"
            if key.get("id") and not root:
                self.keys.append(
                    {
                        "account_id": account_id,
                        "user_name": name,
                        "access_key_id": key["id"],
                        "status": "Active" if key.get("active", True) else "Inactive",
                        "create_date": key["created"],
                        "last_used_date": key.get("last_used"),
                        "last_used_service": "s3" if key.get("last_used") else "N/A",
                        "last_used_region": "us-east-1" if key.get("last_used") else "N/A",
                    }
                )
        for slot, cert in ((1, cert1), (2, cert2)):  # the report's certificate columns
            if cert is not None:
                row[f"cert_{slot}_active"] = str(cert.get("active", True)).lower()
                row[f"cert_{slot}_last_rotated"] = ts(cert["created"])
        row["line_number"] = len(self.report) + 2
        row["account_id"] = account_id
        self.report.append(row)
        return self

    def credential(
        self,
        user: str,
        kind: str,
        credential_id: str,
        *,
        created: datetime,
        active: bool = True,
        service: str | None = None,
        expires: datetime | None = None,
        account_id: str = ACCOUNT,
    ) -> Given:
        """A listed SSH public key, service-specific credential or signing certificate; the
        account's listing is then collected (accounts.credentials_status)."""
        self.accounts.setdefault(account_id, {"account_id": account_id, "status": "assessed"})
        self.accounts[account_id]["credentials_status"] = "collected"
        self.credentials.append(
            {
                "account_id": account_id,
                "user_name": user,
                "credential_kind": kind,
                "credential_id": credential_id,
                "service_name": service,
                "status": "Active" if active else "Inactive",
                "created_at": created,
                "expires_at": expires,
            }
        )
        return self

    loaded: bool = False

    def findings(
        self, rule_id: str | None = None, *, as_of: datetime = AS_OF, overrides: dict | None = None
    ) -> list[tuple]:
        run = self.run_id
        if not self.loaded:
            self._insert()
            self.loaded = True
        rules = load_catalogue(overrides)
        if rule_id:
            rules = [r for r in rules if r.rule_id == rule_id]
        self.con.execute("delete from findings where run_id = ?", [run])
        evaluate(self.con, run, as_of, rules)
        return [
            tuple(r)
            for r in self.con.execute(
                "select rule_id, account_id, user_name, key_slot, access_key_id, reason from findings "
                "where run_id = ? order by all",
                [run],
            ).fetchall()
        ]

    def _insert(self) -> None:
        run = self.run_id
        for table, rows in (
            ("accounts", list(self.accounts.values())),
            ("credential_report", self.report),
            ("access_keys", self.keys),
            ("iam_credentials", self.credentials),
        ):
            frame = pd.DataFrame(rows)
            if not frame.empty:
                frame.insert(0, "run_id", run)
                if table == "accounts" and "tags" not in frame:
                    frame["tags"] = "{}"
                for column in (
                    "create_date",
                    "last_used_date",
                    "report_generated_at",
                    "created_at",
                    "expires_at",
                ):
                    if column in frame:
                        frame[column] = pd.to_datetime(frame[column], utc=True)
            insert_frame(self.con, table, frame)
        build_marts(self.con, run)  # as loading a run does
