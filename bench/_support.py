"""What the benchmarks share: the machine, timers, peak memory, run metadata, AWS call logs.

Each benchmark prints its figures; with BENCH_RESULTS_DIR set (as `make bench` does) it also
writes them as JSON there, and bench/run_all.py turns them into bench/results.md.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import boto3

import keyaudit
from keyaudit.config import Config
from keyaudit.evidence.run_record import write_run_file
from keyaudit.evidence.store import EvidenceStore
from keyaudit.model import Account
from keyaudit.rules.catalogue import Rule, parameters_in_force

BENCH_DIR = Path(__file__).resolve().parent
PACKAGES = ("duckdb", "pandas", "pyarrow", "boto3", "moto", "prefect")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_gb, 1),
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "packages": {name: version(name) for name in PACKAGES},
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process's own program so far.

    Read from VmHWM in /proc/self/status, not getrusage's ru_maxrss: on Linux a child's
    ru_maxrss starts at its parent's peak at fork time (kept across exec), so a benchmark child
    forked by a big parent would report the parent's memory. VmHWM belongs to the address space
    that exec created, so it is the child's alone."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Stopwatch:
    """Wall and CPU seconds of a block: `with Stopwatch() as t: ...; t.wall, t.cpu`."""

    wall: float = 0.0
    cpu: float = 0.0

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: Any) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def emit(name: str, figures: dict[str, Any]) -> None:
    """Hand the figures to bench/run_all.py (when it runs us) as JSON."""
    folder = os.environ.get("BENCH_RESULTS_DIR")
    if folder:
        path = Path(folder) / f"{name}.json"
        path.write_text(json.dumps(figures, indent=2, default=str) + "\n", encoding="utf-8")


def run_meta(
    run_id: str,
    *,
    as_of: datetime,
    accounts: list[Account],
    rules: list[Rule],
    source: str = "demo",
    scope: str = "organization",
    config: Config | None = None,
    caller_arn: str | None = None,
    organization_id: str | None = None,
    skipped: list[Account] | None = None,
) -> dict[str, Any]:
    """The run.json that keyaudit.warehouse.load.load_run reads, as the audit flow writes it."""
    config = config or Config()
    return {
        "run_id": run_id,
        "source": source,
        "started_at": as_of.isoformat(),
        "as_of": as_of.isoformat(),
        "scope": scope,
        "scope_note": "",
        "organization_id": organization_id,
        "management_account_id": next((a.account_id for a in accounts if a.is_management), None),
        "caller_arn": caller_arn,
        "caller_account_id": None,
        "tool_version": keyaudit.__version__,
        "config_digest": config.digest(),
        "config": config.model_dump(mode="json"),
        "parameters": parameters_in_force(rules),
        "accounts": [a.to_dict() for a in accounts],
        "skipped": [a.to_dict() for a in (skipped or [])],
        "unknown": [],
    }


def write_run(store: EvidenceStore, meta: dict[str, Any]) -> str:
    """run.json and the run manifest; returns the manifest's SHA-256."""
    write_run_file(store, meta)
    sha, _ = store.write_run_manifest()
    return sha


@dataclass
class CallLog:
    """A session customizer recording every AWS API call, attributed to an account.

    Registered on `before-parameter-build`, which botocore emits once per API call (retries
    are attempts of the same call), before any hook can answer in place of the service.
    AssumeRole goes through the caller's base session; it is counted for the account named in
    its RoleArn. Other calls of the base session (who am I, Organizations) are discovery.
    """

    calls: list[tuple[str, str, str]] = field(default_factory=list)  # account, operation, params
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def customize(self, account_id: str, session: boto3.Session) -> None:
        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            owner = account_id
            if account_id == "base":
                arn = params.get("RoleArn", "") if model.name == "AssumeRole" else ""
                owner = arn.split(":")[4] if arn.count(":") >= 5 else "discovery"
            call = (owner, model.name, json.dumps(params, sort_keys=True, default=str))
            with self._lock:
                self.calls.append(call)

        session.events.register("before-parameter-build", record)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def by_account(self) -> dict[str, Counter[str]]:
        out: dict[str, Counter[str]] = {}
        for owner, operation, _ in self.calls:
            out.setdefault(owner, Counter())[operation] += 1
        return out

    def repeated(self) -> list[tuple[tuple[str, str, str], int]]:
        """Calls made more than once with the same parameters in the same account."""
        return [(call, n) for call, n in Counter(self.calls).items() if n > 1]


@contextmanager
def quiet_logs() -> Iterator[None]:
    """Benchmarks print figures, not per-account progress."""
    import logging

    logger = logging.getLogger("keyaudit")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def table(rows: list[list[Any]], header: list[str]) -> str:
    """A small markdown table, also readable on a terminal."""
    cells = [[str(c) for c in header], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
