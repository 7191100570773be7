"""The run's deactivation plan, built when the run is loaded (sql/remediation/plan.sql).

The plan is what an approver signs off and `keyaudit remediate` acts on (docs/remediation.md);
building it with the findings, in the same transaction, means a run never has findings without
the plan that follows from them.
"""

from __future__ import annotations

import duckdb

from keyaudit.config import RemediationConfig
from keyaudit.paths import SQL_DIR

PLAN_SQL = SQL_DIR / "remediation" / "plan.sql"


def plan_id(run_id: str) -> str:
    """The id an approved plan file names: one plan per run."""
    return f"plan-{run_id}"


def build_plan(
    con: duckdb.DuckDBPyConnection, run_id: str, settings: RemediationConfig | None = None
) -> int:
    """Replace the run's plan with what its findings, keys and the previous plan give; returns
    the number of keys planned."""
    settings = settings or RemediationConfig()
    con.execute("delete from remediation_plan where run_id = ?", [run_id])
    con.execute(
        "insert into remediation_plan by name\n" + PLAN_SQL.read_text(encoding="utf-8"),
        {
            "run_id": run_id,
            "warn_days": settings.warn_days,
            "deactivate_after_days": settings.deactivate_after_days,
            "lead_days": settings.lead_days,
        },
    )
    found = con.execute(
        "select count(*) from remediation_plan where run_id = ?", [run_id]
    ).fetchone()
    return int(found[0]) if found else 0
