"""The demo's access review: in its second month, `keyaudit demo` reviews and signs off the first
month's run before auditing again, so a newcomer sees the whole loop in the second report.

The decisions are filled here by rule, as a reviewer who knows the keys might decide, and the
file goes through the same export, import and sign-off as a real one. The rule: a key never used
or unused is deactivated, a key not rotated is rotated (each with a ticket), an admin or
escalation key with no finding but its privilege is kept with a justification, anything else is deferred to
the key's owner for two weeks; the last key is left undecided, so the report lists one.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from keyaudit.extras import require_extra

# Part of `keyaudit demo`: without the demo extra, importing this is the one-line
# MissingExtraError, before anything is reviewed (as when it lived in keyaudit.sources.demo).
require_extra("demo")

# ruff: noqa: E402

from keyaudit.review.records import import_review, sign_off_run
from keyaudit.review.sheet import COLUMNS, ReviewKey, population
from keyaudit.review.sheet import write_review as write_review_files
from keyaudit.safefile import atomic_file, make_private_dirs

if TYPE_CHECKING:
    import duckdb

    from keyaudit.config import Config

REVIEWER = "Dana Reviewer <dana.reviewer@example.com>"
STATEMENT = (
    "I reviewed every access key of this run listed in its review; the decisions are recorded "
    "(demo: filled by keyaudit)"
)
DEMO_USER = "keyaudit demo"
_DEACTIVATE = ("ACCESS_KEY_NEVER_USED", "ACCESS_KEY_UNUSED")
_KEEP = {"ACCESS_KEY_ON_PRIVILEGED_USER"}  # privileged, in use, rotated: a reason to keep it


@dataclass(frozen=True)
class DemoReview:
    run_id: str
    decided: int
    undecided: int
    review_file: Path
    signed_off: Path


def decide(key: ReviewKey, number: int, as_of: datetime) -> dict[str, str]:
    """The demo reviewer's decision on one key, as the decision columns of its row."""
    ticket = ", ".join(key.tickets) or f"DEMO-{100 + number}"
    if any(rule in key.rule_ids for rule in _DEACTIVATE):
        return {"decision": "deactivate", "ticket": ticket, "reviewer": REVIEWER}
    if "ACCESS_KEY_NOT_ROTATED" in key.rule_ids:
        return {"decision": "rotate", "ticket": ticket, "reviewer": REVIEWER}
    if set(key.rule_ids) <= _KEEP:
        return {
            "decision": "keep",
            "justification": "administrator key of the deploy pipeline, in daily use",
            "reviewer": REVIEWER,
        }
    return {
        "decision": "defer",
        "defer_owner": key.owner or "security@example.com",
        "defer_until": (as_of + timedelta(days=14)).date().isoformat(),
        "reviewer": REVIEWER,
    }


def fill(keys: Sequence[ReviewKey], as_of: datetime, path: Path) -> None:
    """The review as CSV with the demo reviewer's decisions; the last key left undecided."""
    with atomic_file(path, text=True, encoding="utf-8", newline="") as handle:
        table = csv.writer(handle)
        table.writerow(COLUMNS)
        for number, key in enumerate(keys):
            row = {**key.row(), **(decide(key, number, as_of) if number < len(keys) - 1 else {})}
            table.writerow(["" if row.get(c) is None else row[c] for c in COLUMNS])


def review_first_month(
    con: duckdb.DuckDBPyConnection, config: Config, as_of: datetime, now: datetime
) -> DemoReview | None:
    """Review and sign off the warehouse's first run when it is the only one, has no review
    yet, its report is where the demo wrote it and `as_of` is later; else do nothing."""
    found = con.execute("select run_id, as_of from runs order by as_of").fetchall()
    if len(found) != 1 or found[0][1] >= as_of:
        return None
    run_id, run_as_of = found[0]
    reviewed = con.execute("select 1 from review_imports where run_id = ?", [run_id]).fetchone()
    report = config.paths.reports_dir / run_id / "report.pdf"
    if reviewed or not report.is_file():
        return None
    keys = population(con, run_id)
    folder = config.paths.reports_dir.parent / "reviews" / run_id
    make_private_dirs(folder)
    write_review_files(keys, folder)  # what a reviewer is handed
    filled = folder / "review.filled-by-demo.csv"
    fill(keys, run_as_of, filled)
    evidence = config.paths.evidence_dir
    done = import_review(con, filled, evidence, now=now, user=DEMO_USER)
    _, signed = sign_off_run(
        con,
        run_id,
        reviewer=REVIEWER,
        statement=STATEMENT,
        report=report,
        evidence_root=evidence,
        now=now,
        user=DEMO_USER,
    )
    return DemoReview(
        run_id, len(done.checked.decisions), done.checked.undecided, filled, Path(signed)
    )
