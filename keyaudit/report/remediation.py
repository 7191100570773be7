"""The run's deactivation plan as the report shows it, as the files an approver signs off
(remediation-plan.csv, remediation-plan.json) and as the owner e-mails announce it.

The JSON is the document `keyaudit remediate --approved` takes back once an approver has added
their name and the date (docs/remediation.md, "The plan file"): its shape is defined here and
checked, strictly, by keyaudit.remediation.approval.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from keyaudit.evidence.store import write_private
from keyaudit.report.exports import csv_cell
from keyaudit.report.queries import rows

# Planned keys the report lists, earliest deactivation first; the plan files carry all. The
# per-account sections already list these keys' findings: 200 rows here cost the demo's PDF 4
# pages and ~1 s of layout. A 1,000-account plan has ~150,000 keys: all of them in report.html
# took 17 s of template and ~1.6 GB (and the context fetched them for the PDF's 25 as well).
PDF_PLAN_LIMIT = 25
HTML_PLAN_LIMIT = 500
PLAN_FORMAT = "keyaudit-remediation-plan/1"
PLAN_CSV = "remediation-plan.csv"
PLAN_JSON = "remediation-plan.json"
PLAN_FILES = (PLAN_CSV, PLAN_JSON)  # delivered with the run's report (keyaudit.delivery.plan)
CSV_COLUMNS = (
    "account_id",
    "user_name",
    "access_key_id",
    "deactivate_on",
    "warn_on",
    "rule_ids",
    "finding_ids",
    "first_seen_at",
    "key_status",
    "key_created_at",
    "key_last_used_at",
)


def _iso(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value


def plan_rows(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    account_ids: Sequence[str] | None = None,
    *,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The planned keys (ISO dates), earliest deactivation first; the first `limit` of them when
    given. Each row's planned_total counts the keys planned, whatever the limit."""
    params = {
        "run_id": run_id,
        "account_ids": list(account_ids) if account_ids else None,
        "row_limit": limit,
    }
    return [_iso_row(row) for row in rows(con, "remediation_plan", params)]


def _iso_row(row: dict[str, Any]) -> dict[str, Any]:
    """`_iso` of every value of a plan row, with a call only for the lists: a 1,000-account
    plan has some 150,000 rows of 12 values (2.7 million calls of `_iso` took most of the
    report context's time there)."""
    return {
        k: v.isoformat()
        if isinstance(v, date)  # datetime included
        else [_iso(x) for x in v]
        if isinstance(v, list)
        else v
        for k, v in row.items()
    }


def plan_section(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    account_ids: Sequence[str] | None,
) -> dict[str, Any]:
    """The report's "Deactivation plan" section: the first HTML_PLAN_LIMIT keys to be
    deactivated (the PDF shows PDF_PLAN_LIMIT of them) and how many are planned in all."""
    keys = plan_rows(con, run_id, account_ids, limit=HTML_PLAN_LIMIT)
    return {
        "plan_id": keys[0]["plan_id"] if keys else None,
        "planned": keys,
        "planned_total": keys[0]["planned_total"] if keys else 0,
        "pdf_limit": PDF_PLAN_LIMIT,
    }


def plan_document(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    """remediation-plan.json: what an approver reviews and signs off, key by key."""
    run = rows(con, "run", {"run_id": run_id})[0]
    settings = json.loads(run["config_json"] or "{}").get("remediation") or {}
    keys = plan_rows(con, run_id)
    return {
        "format": PLAN_FORMAT,
        "plan_id": f"plan-{run_id}",
        "run_id": run_id,
        "as_of": _iso(run["as_of"]),
        "warn_days": settings.get("warn_days"),
        "deactivate_after_days": settings.get("deactivate_after_days"),
        "keys": [
            {k: v for k, v in key.items() if k not in ("plan_id", "planned_total")} for key in keys
        ],
    }


def write_plan_files(con: duckdb.DuckDBPyConnection, run_id: str, out_dir: Path) -> list[Path]:
    """remediation-plan.csv and remediation-plan.json in the run's report folder (0600)."""
    document = plan_document(con, run_id)
    text = io.StringIO()
    writer = csv.writer(text, dialect="excel")
    writer.writerow(CSV_COLUMNS)
    for key in document["keys"]:
        writer.writerow(
            [csv_cell(" ".join(v) if isinstance(v := key[c], list) else v) for c in CSV_COLUMNS]
        )
    csv_path, json_path = Path(out_dir) / PLAN_CSV, Path(out_dir) / PLAN_JSON
    write_private(csv_path, text.getvalue().encode("utf-8"))
    write_private(json_path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
    return [csv_path, json_path]
