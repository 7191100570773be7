"""Evidence added after a run: the review files imported for it and its sign-offs.

A run's own files never change once its manifest is written and its hash stored (and maybe
signed). What happens later to the run (a reviewer's decisions, a sign-off) is kept beside them,
in the run folder's `review/`, which the run manifest never lists; the warehouse records each of
these files' SHA-256 with the import or the sign-off (review_imports, sign_offs), and
`keyaudit verify` checks them against those rows, as it checks the run's own files against the
manifest.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from keyaudit.evidence.store import REVIEW_DIR, write_private
from keyaudit.model import KeyauditError
from keyaudit.safefile import make_private_dir

if TYPE_CHECKING:
    import duckdb


class AfterRunError(KeyauditError, OSError):
    """The run's evidence folder is not here to add to; the message names it and the fix."""


def add_after_run(
    run_dir: Path, stem: str, suffix: str, data: bytes, at: datetime
) -> tuple[str, str]:
    """Write `data` as review/<stem>-<time>-<hash><suffix> in the run's evidence folder, never
    over another file; return its run-relative path and SHA-256."""
    if not run_dir.is_dir():
        raise AfterRunError(
            f"run {run_dir.name}: no evidence folder {run_dir} — pass --evidence DIR, the folder "
            "that holds the run's evidence (data/evidence by default)"
        )
    digest = hashlib.sha256(data).hexdigest()
    name = f"{stem}-{at.strftime('%Y%m%dT%H%M%SZ')}-{digest[:12]}{suffix}"
    folder = make_private_dir(run_dir / REVIEW_DIR)
    write_private(folder / name, data)
    return f"{REVIEW_DIR}/{name}", digest


def recorded_after_run(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, str]:
    """Run-relative path -> SHA-256 of every file the warehouse recorded as added after the run
    (none in a warehouse from before reviews)."""
    found = con.execute(
        "select count(*) from information_schema.tables where table_name in "
        "('review_imports', 'sign_offs') and table_schema = current_schema()"
    ).fetchone()
    if not found or found[0] < 2:
        return {}
    listed = con.execute(
        "select evidence_path, file_sha256 from review_imports where run_id = $run_id "
        "union all "
        "select evidence_path, evidence_sha256 from sign_offs where run_id = $run_id",
        {"run_id": run_id},
    ).fetchall()
    return dict(listed)
