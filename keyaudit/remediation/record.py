"""What `keyaudit remediate --apply` did, kept twice: one new file per invocation under the run's
evidence folder (remediation/<time>.json, never overwritten) and one warehouse row per key in
remediation_actions, which also holds the file's SHA-256 so `keyaudit verify` can check it.

Both are append-only: nothing here updates or deletes a record. The file is written first, so an
action taken in AWS is on disk even if the warehouse cannot be written afterwards (verify then
reports the file as not recorded).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from keyaudit.evidence.store import REMEDIATION_DIR
from keyaudit.remediation.act import KeyOutcome
from keyaudit.remediation.approval import Approved
from keyaudit.safefile import create_new, make_private_dir
from keyaudit.warehouse.db import insert_frame, transaction

RECORD_FORMAT = "keyaudit-remediation-record/1"


def record_outcomes(
    con: duckdb.DuckDBPyConnection,
    run_dir: Path,
    approved: Approved,
    outcomes: Sequence[KeyOutcome],
    acted_at: datetime,
) -> str:
    """Write the record file and the warehouse rows; returns the file's run-relative path."""
    plan = approved.plan
    document = {
        "format": RECORD_FORMAT,
        "run_id": plan.run_id,
        "plan_id": plan.plan_id,
        "acted_at": acted_at.isoformat(),
        "approved_by": plan.approval.approved_by,
        "approved_on": plan.approval.approved_on.isoformat(),
        "approved_plan_sha256": approved.sha256,
        "actions": [o.to_dict() for o in outcomes],
    }
    data = (json.dumps(document, indent=2) + "\n").encode("utf-8")
    folder = make_private_dir(run_dir / REMEDIATION_DIR)
    relative = _write_new(folder, acted_at, data)
    digest = hashlib.sha256(data).hexdigest()
    rows = pd.DataFrame(
        [
            {
                "run_id": plan.run_id,
                "plan_id": plan.plan_id,
                "acted_at": acted_at,
                "approved_by": plan.approval.approved_by,
                "approved_on": plan.approval.approved_on,
                **o.to_dict(),
                "record_path": relative,
                "record_sha256": digest,
            }
            for o in outcomes
        ]
    )
    with transaction(con):
        insert_frame(con, "remediation_actions", rows)  # in bulk, never row by row
    return relative


def _write_new(folder: Path, acted_at: datetime, data: bytes) -> str:
    """A new file named for the time; a second invocation in the same second gets -2, -3…"""
    stem = acted_at.strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 1000):
        name = f"{stem}.json" if n == 1 else f"{stem}-{n}.json"
        try:
            fd = create_new(folder / name)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        return f"{REMEDIATION_DIR}/{name}"
    raise FileExistsError(f"{folder}: 999 remediation records for {stem} already")
