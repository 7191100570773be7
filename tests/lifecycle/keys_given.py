"""Given keys for runs: credential-report slots, with or without the API's key ids, loaded into
the marts and evaluated by real rules, so lifecycle tests see the finding ids evaluation makes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from lifecycle_given import A, History

from keyaudit.rules.catalogue import load_catalogue
from keyaudit.sources.credential_report import COLUMNS
from keyaudit.warehouse.db import insert_frame
from keyaudit.warehouse.findings import evaluate
from keyaudit.warehouse.marts import build_marts


@dataclass(frozen=True)
class Key:
    """An access key as a run sees it: in report slot `slot`, created at `created`."""

    user_name: str
    slot: int
    created: datetime
    key_id: str | None = None
    account_id: str = A
    active: bool = True


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _report_rows(keys: list[Key]) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for key in keys:
        row = rows.get((key.account_id, key.user_name))
        if row is None:
            root = key.user_name == "<root_account>"
            row = {column: "N/A" for column in COLUMNS}
            row.update(
                account_id=key.account_id,
                line_number=len(rows) + 2,
                user=key.user_name,
                arn=f"arn:aws:iam::{key.account_id}:"
                + ("root" if root else f"user/{key.user_name}"),
                user_creation_time="2020-01-01T00:00:00+00:00",
                password_enabled="not_supported" if root else "false",
                mfa_active="false",
                access_key_1_active="false",
                access_key_2_active="false",
                cert_1_active="false",
                cert_2_active="false",
            )
            rows[(key.account_id, key.user_name)] = row
        row[f"access_key_{key.slot}_active"] = str(key.active).lower()
        row[f"access_key_{key.slot}_last_rotated"] = _ts(key.created)
    return list(rows.values())


def audit(
    history: History,
    run_id: str,
    as_of: datetime,
    keys: list[Key],
    *,
    with_key_ids: bool = True,
    rule_ids: tuple[str, ...] = ("ACCESS_KEY_NOT_ROTATED", "ROOT_ACCESS_KEY_PRESENT"),
    **run: Any,
) -> str:
    """A finished run over `keys` as a files run leaves it: the credential report always, the
    access-keys file (ListAccessKeys: key ids) only `with_key_ids`; then the rules evaluated."""
    history.run(run_id, as_of, [], **run)
    api = [
        {
            "run_id": run_id,
            "account_id": key.account_id,
            "user_name": key.user_name,
            "access_key_id": key.key_id,
            "status": "Active" if key.active else "Inactive",
            "create_date": pd.Timestamp(key.created),
        }
        for key in keys
        if with_key_ids and key.key_id and key.user_name != "<root_account>"
    ]
    report = pd.DataFrame(_report_rows(keys))
    report.insert(0, "run_id", run_id)
    insert_frame(history.con, "credential_report", report)
    insert_frame(history.con, "access_keys", pd.DataFrame(api))
    build_marts(history.con, run_id)
    evaluate(history.con, run_id, as_of, [r for r in load_catalogue() if r.rule_id in rule_ids])
    return run_id
