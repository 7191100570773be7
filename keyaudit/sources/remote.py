"""Collection in another process or on another machine (Dask workers): what crosses the wire.

Out: the account (a small record), a `WorkerSessions` recipe — session settings, an optional
picklable customizer, which clock to use; never credentials, never a live boto3 session — the
evidence folder's path and the collection settings. Back: the AccountOutcome (status, counts,
error, evidence folder). The evidence itself is written by the worker straight into the shared
evidence folder, which must be the same path on the workers and on the flow's machine; the
flow checks that it arrived before the single warehouse writer loads it.

A worker builds its AccountSessions from its own standard AWS configuration (instance role,
AWS_PROFILE, environment), once per run and process, so assumed-role credentials are reused
across the accounts it collects.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from keyaudit.evidence.store import EvidenceStore
from keyaudit.model import Account, AccountOutcome, Clock, VirtualClock
from keyaudit.sources.aws.collect import CollectSettings, collect_account
from keyaudit.sources.aws.session import AccountSessions, SessionCustomizer, SessionSettings

_KEEP_RUNS = 4  # a long-lived worker serves run after run: keep only the latest sessions


@dataclass(frozen=True)
class WorkerSessions:
    """How a worker makes the run's sessions. The customizer must pickle (a module-level
    function or a frozen dataclass with `__call__`), not a bound method of live state."""

    run_id: str
    settings: SessionSettings
    customizer: SessionCustomizer | None = None
    virtual_clock: bool = False  # the simulated organization answers at once: never wait

    def sessions(self) -> AccountSessions:
        return _cached(self)

    def clock(self) -> Clock:
        if self.virtual_clock:
            return VirtualClock().as_clock()
        return Clock()


_lock = threading.Lock()
_by_run: OrderedDict[str, AccountSessions] = OrderedDict()


def _cached(recipe: WorkerSessions) -> AccountSessions:
    with _lock:
        found = _by_run.get(recipe.run_id)
        if found is None:
            customizers = [recipe.customizer] if recipe.customizer is not None else []
            found = AccountSessions(settings=recipe.settings, customizers=customizers)
            _by_run[recipe.run_id] = found
            while len(_by_run) > _KEEP_RUNS:
                _by_run.popitem(last=False)
        return found


def collect_on_worker(
    account: Account,
    recipe: WorkerSessions,
    evidence_root: str,
    is_caller_account: bool,
    settings: CollectSettings,
) -> AccountOutcome:
    """Collect one account where this runs; the evidence goes to the shared folder."""
    return collect_account(
        account,
        sessions=recipe.sessions(),
        store=EvidenceStore(Path(evidence_root), recipe.run_id),
        is_caller_account=is_caller_account,
        settings=settings,
        clock=recipe.clock(),
    )


def missing_evidence(evidence_root: Path, run_id: str, outcomes: list[AccountOutcome]) -> list[str]:
    """Accounts a worker reported on whose outcome file this machine cannot see."""
    store = EvidenceStore(evidence_root, run_id)
    return [
        o.account_id
        for o in outcomes
        if not (store.run_dir / o.account_id / "collection.json").is_file()
    ]
