"""Where `build_report_context` spends its time: each query it runs, planning against running.

Almost all of the report context is SQL. This runs the context once on a warehouse and times
every statement it sends, then times `EXPLAIN` of the same statement (planning only: binding the
views, optimizing, no execution) so the two can be told apart. Repeats take the best of N.

    .venv/bin/python bench/context_queries.py --db data/keyaudit.duckdb [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb

from keyaudit.paths import SQL_DIR
from keyaudit.report import build_report_context
from keyaudit.rules.catalogue import load_catalogue


def _names() -> dict[str, str]:
    """The report's query texts by their file name, to name each statement sent."""
    return {p.read_text(encoding="utf-8"): p.stem for p in (SQL_DIR / "report").glob("*.sql")}


class _Timed:
    """A connection that times each statement and, once per statement, its EXPLAIN."""

    def __init__(self, con: duckdb.DuckDBPyConnection, explain: bool) -> None:
        self._con = con
        self._explain = explain
        self._names = _names()
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.planning: dict[str, list[float]] = defaultdict(list)

    def execute(self, query: str, params: Any = None) -> Any:
        name = self._names.get(query, query.strip().splitlines()[0][:40])
        if self._explain and params is not None:  # a file of settings takes no parameters
            mark = time.perf_counter()
            try:
                self._con.execute(f"explain {query}", params)
                self.planning[name].append(time.perf_counter() - mark)
            except duckdb.Error:  # not one plannable statement
                pass
        mark = time.perf_counter()
        result = (
            self._con.execute(query, params) if params is not None else self._con.execute(query)
        )
        self.seconds[name].append(time.perf_counter() - mark)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("data/keyaudit.duckdb"))
    parser.add_argument("--run-id")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-queries", action="store_true", help="time the whole context only (large warehouses)"
    )
    args = parser.parse_args()
    rules = load_catalogue()
    con = duckdb.connect(str(args.db), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    run_id = (
        args.run_id
        or con.execute("select run_id from runs order by as_of desc limit 1").fetchone()[0]
    )
    whole, cpu = [], []
    for _ in range(args.repeat):  # the context alone, as the report builds it
        mark, used = time.perf_counter(), time.process_time()
        build_report_context(con, run_id, rules=rules)
        whole.append(time.perf_counter() - mark)
        cpu.append(time.process_time() - used)
    if args.no_queries:
        print(
            f"build_report_context of {run_id}: best {min(whole):.3f} s wall, "
            f"{min(cpu):.3f} s CPU (all threads) of {args.repeat}"
        )
        return
    timed = _Timed(con, explain=True)
    for _ in range(args.repeat):
        build_report_context(timed, run_id, rules=rules)  # type: ignore[arg-type]
    print(
        f"build_report_context of {run_id}: best {min(whole):.3f} s wall, "
        f"{min(cpu):.3f} s CPU (all threads) of {args.repeat}"
    )
    total_run = sum(min(v) for v in timed.seconds.values())
    total_plan = sum(min(v) for v in timed.planning.values())
    # EXPLAIN renders the plan as text too: at this size it can cost more than running the query
    print(f"{'query':32} {'calls':>5} {'run s':>8} {'explain s':>9}")
    for name, times in sorted(timed.seconds.items(), key=lambda kv: -min(kv[1])):
        calls = len(times) // args.repeat
        plan = timed.planning.get(name)
        run = min(times) * calls
        print(f"{name:32} {calls:5} {run:8.3f} {min(plan) * calls if plan else float('nan'):9.3f}")
    print(f"{'sum (best of each)':32} {'':5} {total_run:8.3f} {total_plan:9.3f}")


if __name__ == "__main__":
    main()
