"""Benchmark 2: collection concurrency with a per-call latency, against the ideal
`total calls × latency / concurrency`.

The simulated organization (moto) answers once, while every answer is recorded; then the same
collection runs again against the recording with a sleep of `--latency` seconds per call and no
simulator in the process (see bench/_replay.py: moto's own CPU would otherwise share the GIL with
the collector and measure moto). Collection runs twice: directly with
`keyaudit.sources.aws.collect.collect_account` in a ThreadPoolExecutor, and through Prefect (the audit flow's
`collect_task` on a ThreadPoolTaskRunner), to show Prefect's overhead. Within an account, calls
are made one after the other: at most one request per account is in flight.
Target: ≥ 80 % efficiency at concurrency 16 with 200 accounts.

    .venv/bin/python bench/concurrency.py [--accounts 200] [--concurrency 16] [--latency 0.05]
                                          [--users 14] [--no-prefect]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# No profile, no metadata service, no real endpoint: every request is answered in-process.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",  # moto's dummy credentials
    AWS_DEFAULT_REGION="us-east-1",
    AWS_CONFIG_FILE=os.devnull,
    AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    AWS_EC2_METADATA_DISABLED="true",
)
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

from _replay import Recorder, Replayer
from _support import Stopwatch, emit, quiet_logs, table

from keyaudit.config import DiscoveryConfig
from keyaudit.evidence.store import EvidenceStore
from keyaudit.model import AccountOutcome, Discovery, VirtualClock
from keyaudit.sources.aws.collect import CollectSettings, collect_account
from keyaudit.sources.aws.organizations import discover
from keyaudit.sources.aws.session import AccountSessions, SessionSettings
from keyaudit.sources.demo import simulated_organization

AS_OF = datetime(2026, 1, 31, 6, 0, tzinfo=UTC)
SETTINGS = SessionSettings(session_name="keyaudit-bench", region="us-east-1")


def record(accounts: int, users: int) -> tuple[Discovery, Recorder, dict[str, float], int]:
    """Build the organization, collect it once while recording; returns the setup times."""
    times = {}
    recorder = Recorder()
    started = time.perf_counter()
    with simulated_organization(AS_OF, members=accounts, users_per_account=users) as org:
        times["setup_s"] = time.perf_counter() - started
        sessions = AccountSessions(
            settings=SETTINGS, customizers=[recorder.customize, org.customize]
        )
        found = discover(sessions, DiscoveryConfig())
        with tempfile.TemporaryDirectory() as tmp, Stopwatch() as moto_run:
            outcomes = collect_all(found, sessions, Path(tmp), workers=1)
        times["moto_sequential_s"] = moto_run.wall
    assessed = sum(o.status in ("assessed", "partial") for o in outcomes)
    return found, recorder, times, assessed


def collect_all(
    found: Discovery, sessions: AccountSessions, folder: Path, *, workers: int
) -> list[AccountOutcome]:
    store = EvidenceStore(folder, "bench")
    store.prepare()
    clock = VirtualClock().as_clock()

    def one(account: Any) -> AccountOutcome:
        return collect_account(
            account,
            sessions=sessions,
            store=store,
            is_caller_account=account.account_id == found.caller_account_id,
            settings=CollectSettings(),
            clock=clock,
        )

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, found.in_scope))


def replay_direct(
    found: Discovery, recorder: Recorder, latency: float, workers: int
) -> dict[str, Any]:
    replayer = Replayer(recorder.answers, latency)
    sessions = AccountSessions(base=_base(), settings=SETTINGS, customizers=[replayer.customize])
    with tempfile.TemporaryDirectory() as tmp, Stopwatch() as watch:
        outcomes = collect_all(found, sessions, Path(tmp), workers=workers)
    return _figures("threads", watch, replayer.calls, latency, workers, outcomes)


def replay_prefect(
    found: Discovery, recorder: Recorder, latency: float, workers: int
) -> dict[str, Any]:
    """The audit flow's collection (PrefectSteps.collect: a task per account on a thread pool)."""
    for name, value in {
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_UI_ENABLED": "false",
    }.items():
        os.environ.setdefault(name, value)
    from prefect import flow

    from keyaudit.config import RunConfig
    from keyaudit.flows.audit import PrefectSteps
    from keyaudit.pipeline import CollectJob
    from keyaudit.sources.provider import Source

    replayer = Replayer(recorder.answers, latency)
    sessions = AccountSessions(base=_base(), settings=SETTINGS, customizers=[replayer.customize])
    inner: dict[str, Any] = {}

    @flow(name="bench-collect")
    def bench_flow(folder: str) -> None:
        store = EvidenceStore(Path(folder), "bench")
        store.prepare()
        job = CollectJob(
            store=store,
            source=Source("aws", lambda: sessions, VirtualClock().as_clock()),
            caller_account_id=found.caller_account_id,
            settings=CollectSettings(),
            concurrency=workers,
            run=RunConfig(),
        )
        with Stopwatch() as watch:
            inner["outcomes"] = PrefectSteps().collect(job, found.in_scope)
        inner["watch"] = watch

    with tempfile.TemporaryDirectory() as tmp, Stopwatch() as total:
        bench_flow(tmp)
    figures = _figures(
        "prefect", inner["watch"], replayer.calls, latency, workers, inner["outcomes"]
    )
    figures["flow_total_s"] = round(total.wall, 2)
    return figures


def _base() -> Any:
    import boto3

    return boto3.Session(region_name="us-east-1")


def _figures(
    how: str,
    watch: Stopwatch,
    calls: int,
    latency: float,
    workers: int,
    outcomes: list[AccountOutcome],
) -> dict[str, Any]:
    ideal = calls * latency / workers
    return {
        "runner": how,
        "concurrency": workers,
        "latency_s": latency,
        "calls": calls,
        "wall_s": round(watch.wall, 2),
        "cpu_s": round(watch.cpu, 2),
        "ideal_s": round(ideal, 2),
        "efficiency": round(ideal / watch.wall, 3) if latency else None,
        "cpu_ms_per_call": round(1000 * watch.cpu / max(calls, 1), 2),
        "assessed": sum(o.status in ("assessed", "partial") for o in outcomes),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=200, help="member accounts")
    parser.add_argument("--users", type=int, default=14, help="users per account")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per call")
    parser.add_argument("--no-prefect", action="store_true", help="skip the Prefect run")
    args = parser.parse_args()
    with quiet_logs():
        found, recorder, times, recorded_assessed = record(args.accounts, args.users)
        print(
            f"simulated organization: {args.accounts} members built in {times['setup_s']:.1f} s; "
            f"one sequential collection against moto (recording) {times['moto_sequential_s']:.1f} s; "
            f"{len(recorder.answers)} distinct calls recorded",
            flush=True,
        )
        runs = [replay_direct(found, recorder, 0.0, args.concurrency)]
        runs.append(replay_direct(found, recorder, args.latency, args.concurrency))
        if not args.no_prefect:
            runs.append(replay_prefect(found, recorder, args.latency, args.concurrency))
    rows = [
        [
            r["runner"],
            r["concurrency"],
            f"{r['latency_s'] * 1000:g} ms",
            r["calls"],
            r["wall_s"],
            r["ideal_s"],
            "—" if r["efficiency"] is None else f"{r['efficiency']:.0%}",
            r["cpu_ms_per_call"],
            f"{r['assessed']}/{len(found.in_scope)}",
        ]
        for r in runs
    ]
    print(
        table(
            rows,
            [
                "runner",
                "workers",
                "latency",
                "calls",
                "wall s",
                "ideal s",
                "efficiency",
                "cpu ms/call",
                "assessed",
            ],
        )
    )
    timed = [r for r in runs if r["efficiency"] is not None]
    same = all(r["assessed"] == recorded_assessed for r in runs)
    best = {r["runner"]: r["efficiency"] for r in timed}
    ok = best.get("threads", 0) >= 0.8 and same
    for r in timed:
        extra = (
            f"; flow total incl. Prefect start {r['flow_total_s']} s" if "flow_total_s" in r else ""
        )
        print(f"{r['runner']}: efficiency {r['efficiency']:.0%} (target ≥ 80 %){extra}")
    print(f"replayed outcomes match the recorded collection: {same}")
    print(f"machine load average: {[round(x, 2) for x in os.getloadavg()]}")
    emit(
        "concurrency",
        {
            "accounts": args.accounts,
            "users_per_account": args.users,
            **times,
            "runs": runs,
            "target_met": ok,
        },
    )
    print(
        f"target (≥ 80 % efficiency at concurrency {args.concurrency}): {'met' if ok else 'NOT met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
