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
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from keyaudit.config import Config
from keyaudit.evidence.runlock import check_run_id
from keyaudit.evidence.store import EvidenceStore
from keyaudit.model import Account, KeyauditError, SourceName
from keyaudit.sources.aws.organizations import Discovery
from keyaudit.warehouse.load import RUN_FILE

OUTCOME_FILE = "collection.json"
COLLECTING_SOURCES = ("aws", "demo")  # sources that collect account by account


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
        meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
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
    )
