"""The Fix first list: the keys to fix first, in the order sql/views/fix_first.sql defines
(privilege, then severity, then days idle, then age). The report's summary, the owner e-mails
and `keyaudit query --file fix_first` all read that one view; this only shapes its rows."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import duckdb

from keyaudit.report.formatting import account_filter, owner_label, severity_class
from keyaudit.report.queries import rows

# How many keys the report's summary and an owner's e-mail list.
FIX_FIRST_LIMIT = 5


def fix_first(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    account_ids: Collection[str] | None = None,
    limit: int = FIX_FIRST_LIMIT,
) -> list[dict[str, Any]]:
    """The first `limit` keys of the run's Fix first list (of the given accounts only, in the
    run-wide order)."""
    params = {"run_id": run_id, "account_ids": account_filter(account_ids), "limit": limit}
    return [
        {
            **row,
            "css": severity_class(row["severity"]),
            "key": row["access_key_id"] or f"key {row['key_slot']} (id not listed)",
            "rules": ", ".join(row["rule_ids"] or ()),
            "owner_label": owner_label(row["owner"], row["owner_source"]),
        }
        for row in rows(con, "fix_first", params)
    ]
