"""The long-term credential footprint: IAM-user access keys by run, and the share of accounts
free of them; with the other long-term credentials counted by kind (SSH public keys,
service-specific credentials, signing certificates). AWS advises temporary credentials, so
fewer is better, run after run."""

from __future__ import annotations

from typing import Any

import duckdb
from markupsafe import Markup

from keyaudit.report.chart import FootprintPoint, footprint_svg
from keyaudit.report.formatting import ts
from keyaudit.report.history import chart_labels
from keyaudit.report.queries import rows


def footprint(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    account_ids: list[str] | None,
    trend_runs: list[dict[str, Any]],
) -> dict[str, Any]:
    """This run's footprint and its trend over `trend_runs` (history.trend's runs, oldest first),
    among `account_ids` (all when None); not available when the run has no footprint row there
    (none of its accounts in the slice)."""
    found = {
        r["run_id"]: r
        for r in rows(
            con,
            "footprint_by_run",
            {"run_ids": [r["run_id"] for r in trend_runs], "account_ids": account_ids},
        )
    }
    recent = [found[r["run_id"]] for r in trend_runs if r["run_id"] in found]
    if not recent or recent[-1]["run_id"] != run_id:
        return {"available": False}
    runs = [_run(r, is_current=r["run_id"] == run_id) for r in recent]
    points = [
        FootprintPoint(
            label,
            {
                "active": r["active_keys"],
                "old": r["old_keys"],
                "admin": r["admin_keys"],
            },
            r["is_current"],
        )
        for label, r in zip(chart_labels(recent), runs, strict=True)
    ]
    return {
        "available": True,
        "current": runs[-1],
        "share": share(runs[-1]),
        "credentials": credentials_by_kind(con, run_id, account_ids),
        "runs": runs,
        "chart_svg": Markup(footprint_svg(points)),  # noqa: S704 — built from counts and dates only
    }


def _run(row: dict[str, Any], *, is_current: bool) -> dict[str, Any]:
    return {
        "run_id": row["run_id"],
        "as_of": ts(row["as_of"]),
        "is_current": is_current,
        "accounts": row["count_accounts"],
        "assessed": row["count_accounts_assessed"],
        "not_assessed": row["count_accounts_not_assessed"],
        "free": row["count_accounts_without_user_keys"],
        "free_with_root_key": row["count_accounts_without_user_keys_with_root_key"],
        "iam_users": row["count_iam_users"],
        "users_with_keys": row["count_users_with_active_keys"],
        "active_keys": row["count_active_keys"],
        "old_keys": row["count_active_keys_older_than_365_days"],
        # a sum over the accounts whose privilege is known; unknown when none is
        "admin_keys": row["count_active_keys_on_admin_users"],
        "admin_unknown_accounts": row["count_accounts_admin_unknown"],
    }


def credentials_by_kind(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    account_ids: list[str] | None,
) -> dict[str, Any]:
    """The run's other long-term credentials by kind (a count is None where no account's is
    known)."""
    found = rows(con, "credential_footprint", {"run_id": run_id, "account_ids": account_ids})
    row = found[0] if found else {}
    return {
        "ssh_public_keys": row.get("count_active_ssh_public_keys"),
        "service_credentials": row.get("count_active_service_credentials"),
        "signing_certificates": row.get("count_active_signing_certificates"),
        "unknown_accounts": row.get("count_accounts_credentials_unknown") or 0,
    }


def share(run: dict[str, Any]) -> dict[str, Any]:
    """Accounts free of active IAM-user keys among the accounts in scope: an account not
    assessed counts in the whole but never as free, so the share is never overstated."""
    whole = run["accounts"]
    free = run["free"]
    percent = round(100 * free / whole) if whole else None
    if percent == 100 and free < whole:  # 199 of 200 is not "100%"
        percent = 99
    if percent == 0 and free:  # 1 of 300 is not "0%"
        percent = 1
    return {
        "free": free,
        "accounts": whole,
        "percent": percent,
        "not_assessed": run["not_assessed"],
        "free_with_root_key": run["free_with_root_key"],
    }
