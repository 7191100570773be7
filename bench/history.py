"""A report in a warehouse with months of history: what comparing a run with the runs before it
costs, read from the views (every query makes `finding_history` again) and from the rows
loading keeps (keyaudit.warehouse.kept.HISTORY).

The warehouse of one synthetic run (bench_report's, or --db) is copied and given --months - 1
earlier monthly runs of the same organization: the same accounts, each month with about 90 % of
the run's findings (a finding absent one month and back the next is resolved, then new again).
Every month's rows are kept, as loading each month would have. Then, on the latest run:

- what loading now adds: keeping its lifecycle and resolved findings;
- the console summary's new and resolved counts from the views (what loading paid before) and
  from the kept rows (what it pays now);
- one finding lifecycle from the view: what each export, the explorer and the PDF's detail
  paid before, each of them;
- the report context (`build_report_context`) and the exports' finding rows, reading the kept
  rows.

    .venv/bin/python bench/history.py [--db bench.duckdb] [--months 12]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from _support import Stopwatch, emit, machine, table

from keyaudit.paths import SQL_DIR


def add_months(db: Path, months: int) -> tuple[str, int]:
    """Give the warehouse's one run `months - 1` earlier monthly runs; returns its run id and
    how many findings the warehouse then holds."""
    import duckdb

    con = duckdb.connect(str(db))
    (run_id,) = con.execute("select run_id from runs order by as_of desc limit 1").fetchone()
    for back in range(1, months):
        earlier = f"{run_id}-m{back:02d}"
        con.execute(
            "insert into runs select * replace ($earlier as run_id,"
            " as_of - to_months($back) as as_of, started_at - to_months($back) as started_at,"
            " finished_at - to_months($back) as finished_at) from runs where run_id = $run_id",
            {"earlier": earlier, "back": back, "run_id": run_id},
        )
        for table_name in ("accounts", "findings"):
            keep = "" if table_name == "accounts" else " and hash(finding_id || $earlier) % 10 <> 0"
            con.execute(
                f"insert into {table_name} select * replace ($earlier as run_id)"
                f" from {table_name} where run_id = $run_id{keep}",
                {"earlier": earlier, "run_id": run_id},
            )
    (findings,) = con.execute("select count(*) from findings").fetchone()
    con.close()
    return run_id, findings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a warehouse of one run (else bench_report's)")
    parser.add_argument("--accounts", type=int, default=1000, help="when building one")
    parser.add_argument("--keys", type=int, default=250_000, help="when building one")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--work", type=Path, default=Path("/tmp/keyaudit-bench-history"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.db is None:
        from bench_report import _build

        args.db = _build(args.work, args.accounts, args.keys)
    db = args.work / "history.duckdb"
    shutil.copyfile(args.db, db)
    run_id, findings = add_months(db, args.months)

    from keyaudit.report import build_report_context
    from keyaudit.report.queries import execute
    from keyaudit.report.records import _params
    from keyaudit.rules.catalogue import load_catalogue
    from keyaudit.warehouse.db import connect, transaction
    from keyaudit.warehouse.kept import HISTORY, keep_views

    con = connect(db)  # migrates a warehouse of an older version
    with Stopwatch() as every, transaction(con):
        keep_views(con, tables=HISTORY)  # every month's, as loading each month kept them
    with Stopwatch() as kept, transaction(con):
        keep_views(con, run_id, tables=HISTORY)
    con.close()

    con = connect(db, read_only=True)
    changes_now = (SQL_DIR / "summary" / "run_changes.sql").read_text(encoding="utf-8")
    figures: dict[str, float | int | str] = {"months": args.months, "findings": findings}
    rows = []
    with Stopwatch() as t:
        (_, *now) = con.execute(changes_now, {"run_id": run_id}).fetchone()
    rows.append(["summary's new and resolved, kept rows", f"{t.wall:.2f}"])
    figures["summary_kept_s"] = round(t.wall, 2)
    with Stopwatch() as t:  # the same counts from the views, as loading read them before
        before = con.execute(
            "select (select count(*) from findings_new where run_id = $run_id),"
            " (select count(*) from findings_resolved where run_id = $run_id)",
            {"run_id": run_id},
        ).fetchone()
    if list(before) != now:
        raise SystemExit(f"history: the kept rows say new, resolved = {now}, the views {before}")
    rows.append(["summary's new and resolved, views (before)", f"{t.wall:.2f}"])
    figures["summary_views_s"] = round(t.wall, 2)
    with Stopwatch() as t:
        con.execute("select count(*) from finding_lifecycle where run_id = ?", [run_id]).fetchall()
    rows.append(["one run's lifecycle from the view (each reader, before)", f"{t.wall:.2f}"])
    figures["lifecycle_view_s"] = round(t.wall, 2)
    with Stopwatch() as t:
        build_report_context(con, run_id, rules=load_catalogue())
    rows.append(["report context, kept rows", f"{t.wall:.2f}"])
    figures["context_s"] = round(t.wall, 2)
    execute(con, "finding_keys")
    params = {**_params(run_id, None, True), "account_order": [], "per_account": None}
    with Stopwatch() as t:
        cursor = execute(con, "finding_rows", {**params, "total": None})
        while cursor.fetchmany(20_000):
            pass
    rows.append(["the exports' finding rows with their lifecycle, kept rows", f"{t.wall:.2f}"])
    figures["finding_rows_s"] = round(t.wall, 2)
    con.close()
    rows[:0] = [
        ["keep every month's comparisons (in one statement)", f"{every.wall:.2f}"],
        ["keep the latest run's comparisons (loading adds)", f"{kept.wall:.2f}"],
    ]
    figures.update(keep_every_s=round(every.wall, 2), keep_s=round(kept.wall, 2))
    print(f"{machine()['cores']} cores; {args.months} monthly runs, {findings:,} findings")
    print(table(rows, ["step (wall seconds)", "s"]))
    emit("history", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
