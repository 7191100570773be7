"""One writing run per warehouse and one process per run's evidence, refused with a clear message.

A run holds two advisory locks (`flock`) from before its first AWS call until its load is done:
its evidence folder's (`.<run_id>.lock` beside the run folder, outside it so the manifest never
lists it) and the warehouse's (`.<file name>.run-lock` beside the warehouse). The operating
system drops them when the process ends, however it ends, so a killed run leaves no stale lock
and can be resumed at once. DuckDB's own file lock stays the last line of defence against other
writers (a SQL tool holding the file open), see `keyaudit.warehouse.db.connect`.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from keyaudit.evidence.store import EvidenceStore
from keyaudit.model import KeyauditError
from keyaudit.safefile import make_private_dir, open_lock

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class RunLockedError(KeyauditError, RuntimeError):
    """Another keyaudit process is writing the same warehouse or run; the message says which."""


class RunIdError(KeyauditError, ValueError):
    """A run id that cannot name a folder safely."""


def check_run_id(run_id: str) -> str:
    """Run ids name folders, so only letters, digits, '.', '_' and '-' (no '..', no '/')."""
    if not _RUN_ID.fullmatch(run_id) or ".." in run_id:
        raise RunIdError(
            f"run id {run_id!r} is not valid — use letters, digits, '.', '_' and '-' "
            "(up to 64), e.g. 20261201T060000Z-3f9a1c"
        )
    return run_id


def _holder(run_id: str, started_at: datetime) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started_at": started_at.isoformat(timespec="seconds"),
    }


def _who(holder: dict[str, Any]) -> str:
    if not holder:
        return "a run that has not said which yet"
    return (
        f"run {holder.get('run_id')}, pid {holder.get('pid')} on {holder.get('host')}, "
        f"started {holder.get('started_at')}"
    )


def _acquire(path: Path, holder: dict[str, Any]) -> tuple[IO[str] | None, dict[str, Any]]:
    """The locked file, or None and what the current holder wrote into it. A link at the
    lock's name is refused (keyaudit.safefile.open_lock): a run as root would write through it."""
    make_private_dir(path.parent)
    handle = open_lock(path)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        try:
            other = json.loads(handle.read() or "{}")
        except ValueError:  # the holder is writing it right now
            other = {}
        handle.close()
        return None, other
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(holder))
    handle.flush()
    return handle, holder


def evidence_lock_path(store: EvidenceStore) -> Path:
    return store.root / f".{store.run_id}.lock"


def warehouse_lock_path(warehouse: Path) -> Path:
    return warehouse.parent / f".{warehouse.name}.run-lock"


@contextmanager
def exclusive_run(warehouse: Path, store: EvidenceStore, started_at: datetime) -> Iterator[None]:
    """Hold the run's evidence lock and the warehouse's writer lock, or refuse at once."""
    check_run_id(store.run_id)
    holder = _holder(store.run_id, started_at)
    with ExitStack() as stack:
        handle, other = _acquire(evidence_lock_path(store), holder)
        if handle is None:
            raise RunLockedError(
                f"run {store.run_id} is in use by another keyaudit process ({_who(other)}) — "
                "wait for it to finish before running or resuming it again"
            )
        stack.callback(handle.close)
        handle, other = _acquire(warehouse_lock_path(Path(warehouse)), holder)
        if handle is None:
            raise RunLockedError(
                f"warehouse {warehouse} is being written by another keyaudit run ({_who(other)}) "
                "— wait for it to finish, or use another --db"
            )
        stack.callback(handle.close)
        yield
