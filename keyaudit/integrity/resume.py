"""Resume a run from its evidence: `keyaudit run --resume RUN_ID`.

A run writes `run.json` (scope, as_of, configuration, rule parameters) before it collects, and a
`collection.json` per account as soon as that account is done; both survive a killed process.
Resuming reuses what was recorded — it never rediscovers accounts or reads the clock for as_of —
so loading gives exactly the findings an uninterrupted run would have given.

What is collected again: only in-scope accounts without a `collection.json` (the process died
while collecting them); they need AWS. When every account has one, resuming makes no AWS call at
all: it loads the evidence and writes the report. An account recorded as not assessed stays so
(that was the honest answer at the time); start a new run to try it again. A files run has
nothing to collect: an account it lacks stays not assessed.

What is checked first: every saved file against its account manifest, the run manifest and the
hashes the warehouse recorded when the run was loaded (`check_evidence`, before collecting and
again right before loading). Any difference refuses the resume: loading would replace the
warehouse's record with the changed files and `keyaudit verify` would then pass. Only a new run
can be trusted then. The run manifest a resume writes keeps every entry it had (store.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from keyaudit.config import Config
from keyaudit.evidence.kept_waivers import WAIVER_EVIDENCE
from keyaudit.evidence.run_record import RUN_FILE, kept_files, read_run_file
from keyaudit.evidence.runlock import check_run_id
from keyaudit.evidence.scps import SCP_FILE
from keyaudit.evidence.store import MANIFEST, EvidenceStore
from keyaudit.integrity.verify import Difference, Recorded, recorded_run, verify_before_resume
from keyaudit.model import Account, Discovery, KeyauditError, SourceName
from keyaudit.words import counted

OUTCOME_FILE = "collection.json"
COLLECTING_SOURCES = ("aws", "demo")  # sources that collect account by account
WRITTEN_BEFORE_LOAD = (RUN_FILE, SCP_FILE, WAIVER_EVIDENCE)  # run-level files of a run not loaded


class ResumeError(KeyauditError, ValueError):
    """The run cannot be resumed; the message names the run and what to do."""


@dataclass(frozen=True)
class ResumePlan:
    """A recorded run, and the accounts it still has to collect."""

    run_id: str
    source: SourceName
    as_of: datetime
    config: Config  # as recorded by the run, with the current paths
    discovery: Discovery
    pending: list[Account] = field(default_factory=list)


def plan_resume(current: Config, run_id: str) -> ResumePlan:
    """Read the run's `run.json` from the current evidence folder and list what is left."""
    store = EvidenceStore(current.paths.evidence_dir, check_run_id(run_id))
    if not store.run_dir.is_dir():
        raise ResumeError(
            f"run {run_id}: no evidence folder {store.run_dir} — check the run id and "
            "paths.evidence_dir (--config)"
        )
    path = store.run_dir / RUN_FILE
    try:
        meta = read_run_file(store)
        config = Config.model_validate(
            {**meta["config"], "paths": current.paths.model_dump(mode="json")}
        )
        plan = ResumePlan(
            run_id=run_id,
            source=meta["source"],
            as_of=datetime.fromisoformat(meta["as_of"]),
            config=config,
            discovery=_discovery(meta),
        )
    except FileNotFoundError:
        raise ResumeError(
            f"run {run_id}: {path} is missing — the run stopped before it started collecting; "
            "start a new run"
        ) from None
    except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
        raise ResumeError(
            f"run {run_id}: {path} cannot be read ({type(exc).__name__}: {exc}) — start a new run"
        ) from None
    if plan.source not in COLLECTING_SOURCES:
        return plan
    pending = [
        account
        for account in plan.discovery.in_scope
        if not (store.run_dir / account.account_id / OUTCOME_FILE).exists()
    ]
    return replace(plan, pending=pending)


def check_evidence(current: Config, plan: ResumePlan) -> None:
    """Refuse, in one line naming the first difference, a resume whose saved evidence is not
    what was collected: against the account manifests, the run manifest and the warehouse's
    record of the run (`current`'s warehouse, when the run was loaded into it). The folders of
    the accounts still to collect are not evidence yet."""
    store = EvidenceStore(current.paths.evidence_dir, plan.run_id)
    result = verify_before_resume(
        store.run_dir,
        plan.run_id,
        _recorded(current.paths.warehouse, plan.run_id),
        collecting={a.account_id for a in plan.pending},
        written_before_load=WRITTEN_BEFORE_LOAD,
        listed_by_run_file=kept_files(read_run_file(store)),
    )
    if not result.ok:
        raise ResumeError(refusal(plan.run_id, result.differences))


def _recorded(warehouse: Path, run_id: str) -> Recorded | None:
    """The warehouse's record of the run; None when the run was never loaded into it."""
    from keyaudit.warehouse.db import EmptyWarehouse, OutdatedWarehouse, connect

    if not warehouse.exists():
        return None
    try:
        con = connect(warehouse, read_only=True)
    except EmptyWarehouse:
        return None
    except OutdatedWarehouse:  # the resumed run writes to it anyway: migrate it now
        con = connect(warehouse)
    try:
        return recorded_run(con, run_id)
    finally:
        con.close()


_CHANGED = {
    "altered": "was changed after it was collected",
    "missing": "is gone",
    "extra": "was added after the run was collected",
    "unlisted": "is missing from a listing",
    "manifest": "cannot be proven unchanged",
}


def refusal(run_id: str, differences: Sequence[Difference]) -> str:
    """One line: the first difference (an evidence file's before a manifest's, which only
    lists them), how many more, and what to do."""
    first = next((d for d in differences if not d.path.endswith(MANIFEST)), differences[0])
    more = len(differences) - 1
    also = f" and {counted(more, 'more difference')}" if more else ""
    return (
        f"run {run_id}: {first.path} {_CHANGED[first.kind]} ({first.detail}){also} — a resume "
        "loads evidence only as it was collected; start a new run"
    )


def _discovery(meta: dict[str, Any]) -> Discovery:
    return Discovery(
        scope=meta["scope"],
        caller_account_id=meta["caller_account_id"],
        caller_arn=meta["caller_arn"],
        organization_id=meta.get("organization_id"),
        management_account_id=meta.get("management_account_id"),
        in_scope=[Account.from_dict(a) for a in meta["accounts"]],
        skipped=[Account.from_dict(a) for a in meta.get("skipped", [])],
        unknown=list(meta.get("unknown", [])),
        note=meta.get("scope_note", ""),
        listed=meta.get("accounts_listed"),
        filtered_out=list(meta.get("filtered_out", [])),
    )
