"""Peak memory of `keyaudit query` on a big result, streamed against held whole (issue 13.12).

Each format runs in a fresh process on an empty warehouse, for
`select repeat('x', 500) as x, range from range(N)` (N = 1,000,000: a 509 MB CSV). "held whole"
is the way `keyaudit query` printed before issue 13.12, replayed here: fetchall(), then the whole
output built in memory and written at once. "streamed" is the real `keyaudit query`. The output
goes through a pipe into this process, which only counts the bytes.

Peak memory is the child's ru_maxrss from wait4. On Linux that figure includes the peak of the
process that started it (it is kept across fork and exec), so this script imports nothing heavy
before measuring (its own peak is printed as the floor).

Measured with the old CLI itself at N = 1,000,000, before the change: csv 1,774 MB, json
1,925 MB, table 923 MB (the issue's 629 MB CSV needed 2.47 GB).

    .venv/bin/python bench/query_memory.py [--rows 1000000] [--formats csv json table]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYAUDIT = ROOT / ".venv" / "bin" / "keyaudit"
SQL = "select repeat('x', 500) as x, range from range({rows})"

# The print path of `keyaudit query` before issue 13.12 (fetchall, then one big write).
HELD_WHOLE = """
import csv, io, json, sys
from datetime import date, datetime
import duckdb
from keyaudit.textsafe import safe_cell
db, sql, fmt = sys.argv[1:]
con = duckdb.connect(db, read_only=True)
cursor = con.execute(sql)
columns = [d[0] for d in cursor.description]
rows = cursor.fetchall()
def cell(v):
    return v.isoformat() if isinstance(v, datetime | date) else v
if fmt == "json":
    sys.stdout.write(json.dumps([dict(zip(columns, map(cell, r))) for r in rows], default=str))
elif fmt == "csv":
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows([[safe_cell(cell(v)) for v in row] for row in rows])
    sys.stdout.write(buffer.getvalue())
else:
    text = [[("" if v is None else str(cell(v))) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in text)]) for i, c in enumerate(columns)]
    for r in text:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))
"""


def measure(argv: list[str]) -> dict[str, float]:
    """Run `argv`, count the bytes it prints, and give its peak memory, wall time and size."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, cwd=ROOT)
    assert child.stdout is not None
    size = 0
    while chunk := child.stdout.read(1 << 20):
        size += len(chunk)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} exited {child.returncode}")
    return {
        "peak_mb": usage.ru_maxrss / 1024,
        "wall_s": time.perf_counter() - started,
        "output_mb": size / 1e6,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", nargs="*", default=["csv", "json", "table"])
    args = parser.parse_args()
    sql = SQL.format(rows=args.rows)
    figures: dict[str, dict[str, float] | float] = {}
    with tempfile.TemporaryDirectory(prefix="keyaudit-query-memory-") as tmp:
        db = str(Path(tmp) / "w.duckdb")
        make = f"from keyaudit.warehouse.db import connect; connect({db!r}).close()"
        subprocess.run([sys.executable, "-c", make], check=True, cwd=ROOT)
        for fmt in args.formats:
            figures[f"{fmt}_held_whole"] = measure([sys.executable, "-c", HELD_WHOLE, db, sql, fmt])
            figures[f"{fmt}_streamed"] = measure(
                [str(KEYAUDIT), "query", "--db", db, "--format", fmt, sql]
            )
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["floor_mb"] = floor
    lines = [
        f"{sql}  (this script's own peak, the floor: {floor:.0f} MB)",
        f"{'format':<8} {'output':>9} {'held whole':>16} {'streamed':>16}",
    ]
    for fmt in args.formats:
        held, streamed = figures[f"{fmt}_held_whole"], figures[f"{fmt}_streamed"]
        assert isinstance(held, dict) and isinstance(streamed, dict)
        lines.append(
            f"{fmt:<8} {streamed['output_mb']:>6.0f} MB "
            f"{held['peak_mb']:>6.0f} MB {held['wall_s']:>5.1f} s "
            f"{streamed['peak_mb']:>6.0f} MB {streamed['wall_s']:>5.1f} s"
        )
    print("\n".join(lines))
    sys.path.insert(0, str(ROOT / "bench"))
    from _support import emit  # after measuring: it imports boto3 and keyaudit

    emit("query_memory", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
