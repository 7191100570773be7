"""Run every benchmark, one after the other, each in its own process, and write bench/results.md.

Why one after the other: the figures are wall times on a small machine; two benchmarks at once
would measure each other. Each benchmark prints its own figures (kept verbatim in results.md)
and, with BENCH_RESULTS_DIR set, hands them over as JSON (kept as a details block).

    .venv/bin/python bench/run_all.py [--quick] [--only NAME ...] [--results bench/results.md]

`--quick` runs every benchmark at a small size (a smoke test of the benchmarks themselves, in
about a minute); its results are written to a temporary file, never over bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from _support import machine

# name → (script and arguments at full size, arguments for --quick, what it measures)
BENCHMARKS: dict[str, tuple[list[str], list[str], str]] = {
    "api_calls": (
        ["api_calls.py"],
        ["api_calls.py", "--members", "3", "--users", "6"],
        "AWS calls per account against the minimum, in both last-use modes (issue 8.1)",
    ),
    "concurrency": (
        ["concurrency.py"],
        ["concurrency.py", "--accounts", "20", "--concurrency", "4", "--no-prefect"],
        "collection wall time against total calls × latency / concurrency (issue 8.2)",
    ),
    "load_evaluate": (
        ["load_evaluate.py"],
        ["load_evaluate.py", "--sizes", "20:2000,200:20000"],
        "bulk load and rule evaluation, 500 → 5,000 accounts (issue 8.3)",
    ),
    "parse_report": (
        ["parse_report.py"],
        ["parse_report.py"],
        "parse a 100,000-row credential report",
    ),
    "report": (
        ["bench_report.py"],
        ["bench_report.py", "--accounts", "50", "--keys", "5000", "--work", "/tmp/kab-quick"],
        "PDF and HTML of 1,000 accounts / 250,000 keys (issue 4)",
    ),
    "history": (
        ["history.py"],
        [
            "history.py",
            "--accounts",
            "30",
            "--keys",
            "3000",
            "--months",
            "4",
            "--work",
            "/tmp/kab-history-quick",
        ],
        "a report after 12 monthly runs: comparing with earlier runs from the views and the kept rows (issue 23.5)",
    ),
    "cli": (
        ["cli_startup.py"],
        ["cli_startup.py", "--repeat", "1", "--no-prefect"],
        "ad-hoc commands: demo in-process vs an empty Prefect flow, query, help (issue 12.3)",
    ),
    "privilege_eval": (
        ["privilege_eval.py"],
        ["privilege_eval.py", "--accounts", "20", "--users", "50"],
        "effective-privilege evaluation of 5,000 accounts / 500,000 users (issue 19)",
    ),
    "query_memory": (
        ["query_memory.py"],
        ["query_memory.py", "--rows", "100000"],
        "peak memory of `keyaudit query` on a 509 MB result, streamed vs held whole (issue 13.12)",
    ),
}


def run_one(argv: list[str], results_dir: Path) -> tuple[str, float]:
    started = time.perf_counter()
    env = {**os.environ, "BENCH_RESULTS_DIR": str(results_dir)}
    done = subprocess.run(
        [sys.executable, str(BENCH / argv[0]), *argv[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    out = done.stdout
    if done.returncode != 0:
        out += f"\n(exit {done.returncode})\n{done.stderr[-2000:]}"
    return out, time.perf_counter() - started


def _merge(previous: str, fresh: dict[str, str]) -> list[str]:
    """The sections of an earlier results.md, with those just measured put in their place."""
    kept: dict[str, str] = {}
    for chunk in previous.split("\n## ")[1:]:
        name = chunk.split("\n", 1)[0].strip()
        kept[name] = "## " + chunk.rstrip()
    kept.update(fresh)
    return [kept[name] for name in BENCHMARKS if name in kept]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, results not kept")
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), default=None)
    parser.add_argument("--results", type=Path, default=BENCH / "results.md")
    args = parser.parse_args()
    names = args.only or list(BENCHMARKS)
    results = args.results
    if args.quick and results == BENCH / "results.md":
        results = Path(tempfile.gettempdir()) / "keyaudit-bench-quick.md"

    host = machine()
    sections: list[str] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="keyaudit-bench-") as tmp:
        results_dir = Path(tmp) / "json"
        results_dir.mkdir()
        for name in names:
            full, quick, what = BENCHMARKS[name]
            argv = quick if args.quick else full
            print(f"== {name}: {what}", flush=True)
            out, wall = run_one(argv, results_dir)
            print(out, flush=True)
            if "(exit " in out:
                failed.append(name)
            figures = results_dir / f"{name}.json"
            block = [f"## {name}", "", what + f" — `bench/{argv[0]}`"]
            block += ["", f"Benchmark wall time {wall:.0f} s.", "", "```text", out.rstrip(), "```"]
            if figures.exists():
                data = json.loads(figures.read_text(encoding="utf-8"))
                block += [
                    "",
                    "<details><summary>figures (JSON)</summary>",
                    "",
                    "```json",
                    json.dumps(data, indent=2)[:20000],
                    "```",
                    "",
                    "</details>",
                ]
            sections.append("\n".join(block))

    head = [
        "# keyaudit benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make bench`"
        + (" (--quick: small sizes)" if args.quick else "")
        + ".",
        "",
        f"- machine: {host['cpu']}, {host['cores']} cores, {host['memory_gb']} GB, {host['os']}",
        f"- Python {host['python']}; " + ", ".join(f"{k} {v}" for k, v in host["packages"].items()),
        f"- load average at the start: {host['load_average']}",
        *(["- re-measured this time: " + ", ".join(names)] if args.only else []),
        "",
        "Reproduce: `make bench` (all, ≈ 15 minutes) or `.venv/bin/python bench/<name>.py`.",
    ]
    if args.only and results.exists():  # keep the other benchmarks' last figures
        sections = _merge(
            results.read_text(encoding="utf-8"), dict(zip(names, sections, strict=True))
        )
    results.write_text("\n".join(head) + "\n\n" + "\n\n".join(sections) + "\n", encoding="utf-8")
    print(f"results written to {results}")
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
