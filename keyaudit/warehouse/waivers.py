"""Applying waivers to a run in the warehouse: the run's waivers stored, the findings they cover
marked waived, and each waiver's status.

What a waiver is and how the file is read are the rules' (keyaudit.rules.waivers); the waiver file
as kept with the run is the evidence's (keyaudit.evidence.kept_waivers). This is the warehouse's
part, inside the load transaction; its SQL is in sql/findings/ (`mark_waived`, `waiver_status`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import pandas as pd

from keyaudit.rules.waivers import DEFAULT_REVIEW_DAYS, Waiver, WaiverFile
from keyaudit.warehouse.db import insert_frame
from keyaudit.warehouse.findings import findings_sql


@dataclass(frozen=True)
class WaiverOutcome:
    """What applying the waivers did to one run."""

    findings_waived: int
    active: int
    unused: int
    expired: int
    reopened: int = 0
    needs_review: int = 0


def waivers_frame(run_id: str, waivers: Iterable[Waiver]) -> pd.DataFrame:
    rows = [
        {
            "run_id": run_id,
            "waiver_id": w.waiver_id,
            "rule_id": w.rule_id,
            "account_id": w.account_id,
            "user_name": w.user_name,
            "access_key_id": w.access_key_id,
            "reason": w.reason,
            "approved_by": w.approved_by,
            "ticket": w.ticket,
            "expires_on": w.expires_on,
            "granted_on": w.granted_on,
            "line_number": w.line or position,
        }
        for position, w in enumerate(waivers, start=1)
    ]
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame["expires_on"] = pd.to_datetime(frame["expires_on"]).dt.date
        frame["granted_on"] = pd.to_datetime(frame["granted_on"]).dt.date.astype(object)
        frame.loc[frame["granted_on"].isna(), "granted_on"] = None
    return frame


def apply_waivers(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    waivers: WaiverFile | Iterable[Waiver] | None,
    *,
    review_days: int = DEFAULT_REVIEW_DAYS,
) -> WaiverOutcome:
    """Store the run's waivers and mark the findings they cover; call inside the load transaction,
    after the rules ran and the keys mart was built (the run's row gives the as_of date that
    decides expiry and review, the keys' creation times decide reopening)."""
    listed = waivers.waivers if isinstance(waivers, WaiverFile) else tuple(waivers or ())
    con.execute("delete from waivers where run_id = ?", [run_id])
    insert_frame(con, "waivers", waivers_frame(run_id, listed))
    if listed:
        con.execute(findings_sql("mark_waived"), {"run_id": run_id})
        con.execute(findings_sql("waiver_status"), {"run_id": run_id, "review_days": review_days})
    (waived,) = con.execute(
        "select count(*) from findings where run_id = ? and waived", [run_id]
    ).fetchone() or (0,)
    statuses = dict(
        con.execute(
            "select status, count(*) from waivers where run_id = ? group by status", [run_id]
        ).fetchall()
    )
    (review,) = con.execute(
        "select count(*) from waivers where run_id = ? and needs_review", [run_id]
    ).fetchone() or (0,)
    return WaiverOutcome(
        findings_waived=waived,
        active=statuses.get("active", 0),
        unused=statuses.get("unused", 0),
        expired=statuses.get("expired", 0),
        reopened=statuses.get("reopened", 0),
        needs_review=review,
    )
