"""Benchmark 3: load a run's evidence into the warehouse and evaluate every rule, at scale.

Synthetic evidence (bench/synth.py, no moto) for 500 accounts / 50,000 keys and 5,000 accounts /
500,000 keys is loaded by `keyaudit.warehouse.load.load_run` (rules left out, so the load is timed alone),
then `keyaudit.warehouse.findings.evaluate` runs the whole catalogue. Each size is measured in a fresh process,
so its peak memory (RSS) is its own. Targets at 5,000 accounts on a 2-core machine: load ≤ 30 s,
evaluate ≤ 10 s, peak ≤ 2 GB, and 10× the data within 12× the time.

    .venv/bin/python bench/load_evaluate.py [--sizes 500:50000,5000:500000] [--workdir DIR]

Generated evidence is kept in the work folder and reused by later runs with the same sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import Stopwatch, emit, peak_rss_mb, table

AS_OF = datetime(2026, 1, 31, 6, 0, tzinfo=UTC)
RUN_ID = "synthetic"
TARGETS = {"load_s": 30.0, "evaluate_s": 10.0, "peak_mb": 2048.0, "growth": 12.0}


def evidence_for(
    workdir: Path, accounts: int, keys: int, seed: int = 7
) -> tuple[Path, float | None]:
    """The evidence root for a size, generated unless a finished one is there already."""
    from synth import make_evidence

    root = workdir / f"evidence-{accounts}-{keys}-{seed}"
    done = root / ".complete"
    if done.exists():
        return root, None
    shutil.rmtree(root, ignore_errors=True)
    with Stopwatch() as watch:
        make_evidence(root, RUN_ID, accounts, keys, AS_OF, seed)
    done.write_text("ok\n")
    return root, watch.wall


def measure(root: Path) -> dict[str, Any]:
    """Load then evaluate one run into a fresh warehouse (called in a child process)."""
    from synth import manifest_sha256

    from keyaudit.evidence.store import EvidenceStore
    from keyaudit.rules.catalogue import load_catalogue
    from keyaudit.warehouse.db import connect
    from keyaudit.warehouse.findings import evaluate
    from keyaudit.warehouse.load import load_run

    rules = load_catalogue()
    store = EvidenceStore(root, RUN_ID)
    with tempfile.TemporaryDirectory() as tmp:
        con = connect(Path(tmp) / "bench.duckdb")
        try:
            with Stopwatch() as load:
                load_run(
                    con,
                    store,
                    rules=[],
                    finished_at=AS_OF,
                    manifest_sha256=manifest_sha256(store),
                )
            with Stopwatch() as evaluation:
                counts = evaluate(con, RUN_ID, AS_OF, rules)
            keys = con.execute("select count(*) from access_keys").fetchone()[0]
            lines = con.execute("select count(*) from credential_report").fetchone()[0]
        finally:
            con.close()
    return {
        "load_s": round(load.wall, 2),
        "load_cpu_s": round(load.cpu, 2),
        "evaluate_s": round(evaluation.wall, 2),
        "evaluate_cpu_s": round(evaluation.cpu, 2),
        "peak_mb": round(peak_rss_mb()),
        "access_keys": keys,
        "report_lines": lines,
        "findings": sum(counts.values()),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="500:50000,5000:500000", help="accounts:keys,...")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "keyaudit-bench"
    )
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # child process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    sizes = [tuple(int(x) for x in size.split(":")) for size in args.sizes.split(",")]
    results = []
    for accounts, keys in sizes:
        root, generated = evidence_for(args.workdir, accounts, keys)
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, __file__, "--measure", str(root)],
            check=True,
            capture_output=True,
            text=True,
        )
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        figures.update(
            accounts=accounts,
            keys=keys,
            generate_s=None if generated is None else round(generated, 1),
            process_s=round(time.perf_counter() - started, 1),
        )
        results.append(figures)
        print(
            f"{accounts} accounts / {keys} keys: load {figures['load_s']} s, "
            f"evaluate {figures['evaluate_s']} s, peak {figures['peak_mb']} MB",
            flush=True,
        )
    rows = [
        [
            f"{r['accounts']:,}",
            f"{r['access_keys']:,}",
            f"{r['report_lines']:,}",
            f"{r['findings']:,}",
            f"{r['load_s']} ({r['load_cpu_s']} cpu)",
            f"{r['evaluate_s']} ({r['evaluate_cpu_s']} cpu)",
            r["peak_mb"],
            "reused" if r["generate_s"] is None else r["generate_s"],
        ]
        for r in results
    ]
    header = [
        "accounts",
        "keys",
        "report lines",
        "findings",
        "load s",
        "evaluate s",
        "peak MB",
        "generate s",
    ]
    print()
    print(table(rows, header))
    big = results[-1]
    checks = {
        "load ≤ 30 s": big["load_s"] <= TARGETS["load_s"],
        "evaluate ≤ 10 s": big["evaluate_s"] <= TARGETS["evaluate_s"],
        "peak ≤ 2 GB": big["peak_mb"] <= TARGETS["peak_mb"],
    }
    growth = {}
    if len(results) > 1:
        small = results[0]
        scale = big["keys"] / small["keys"]
        for name in ("load_s", "evaluate_s"):
            growth[name] = round(big[name] / max(small[name], 1e-9), 2)
        checks[f"growth within 12× for {scale:g}× the data"] = all(
            g <= TARGETS["growth"] for g in growth.values()
        )
        print(
            f"growth for {scale:g}× the data: load ×{growth['load_s']}, "
            f"evaluate ×{growth['evaluate_s']}"
        )
    for name, ok in checks.items():
        print(f"target {name}: {'met' if ok else 'NOT met'}")
    print(f"machine load average during the largest run: {big['load_average']}")
    emit("load_evaluate", {"sizes": results, "growth": growth, "checks": checks})
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
