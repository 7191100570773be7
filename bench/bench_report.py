"""Report benchmark: PDF, HTML and exports of a large organization (default 1,000 accounts, 250,000 keys).

Each output is rendered in its own child process, so its peak memory (VmHWM of the child's own address space) is
that output's alone, the way `keyaudit report --format pdf` would use it. Targets (issue 4):
PDF <= 15 s and <= 600 MB, HTML <= 5 s. The warehouse comes from bench/synth.py (synthetic
evidence loaded and evaluated like a real run) and is kept for re-runs with --db.

    .venv/bin/python bench/bench_report.py                      # build /tmp/keyaudit-bench, measure
    .venv/bin/python bench/bench_report.py --db /tmp/keyaudit-bench/bench.duckdb   # reuse
    .venv/bin/python bench/bench_report.py --db ... --tasks pdf,formats   # some of it

`formats` writes each export format on its own (CSV, JSON, OCSF, XLSX, tickets), each after
one report context, and prints beside it the time of writing as many bytes in one write: how
far each writer is from disk speed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import peak_rss_mb

TARGETS = {"pdf": (15.0, 600.0), "html": (5.0, None)}
AS_OF = datetime(2026, 1, 31, 6, 0, tzinfo=UTC)


def _child(task: str, db: Path, out: Path, formats: str | None = None) -> dict[str, Any]:
    """Render one output and say how long each step took (runs in the child process)."""
    import duckdb

    from keyaudit.report import build_report_context, render_html, render_pdf, write_report
    from keyaudit.rules.catalogue import load_catalogue

    rules = load_catalogue()
    con = duckdb.connect(str(db), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    (run_id,) = con.execute("select run_id from runs order by as_of desc limit 1").fetchone()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    cpu = time.process_time()
    figures: dict[str, Any] = {"import_cpu_s": cpu}
    if task == "pdf":
        context = build_report_context(con, run_id, rules=rules, with_explorer=False)
        figures["context_s"] = time.perf_counter() - started
        figures["context_cpu_s"] = time.process_time() - cpu
        mark = time.perf_counter()
        html = render_html(context, for_pdf=True)
        figures["template_s"] = time.perf_counter() - mark
        mark, cpu = time.perf_counter(), time.process_time()
        figures["pages"] = render_pdf(html, out / "report.pdf", base_url=out)
        figures["layout_s"] = time.perf_counter() - mark
        figures["layout_cpu_s"] = time.process_time() - cpu
        figures["bytes"] = (out / "report.pdf").stat().st_size
        figures["detail_rows"] = html.count('<tr class="finding')
    elif task == "html":
        context = build_report_context(con, run_id, rules=rules)
        figures["context_s"] = time.perf_counter() - started
        figures["context_cpu_s"] = time.process_time() - cpu
        mark = time.perf_counter()
        html = render_html(context)
        (out / "report.html").write_text(html, encoding="utf-8")
        figures["template_s"] = time.perf_counter() - mark
        figures["bytes"] = len(html.encode("utf-8"))
        figures["findings"] = context.summary.totals["total"]
        figures["dom_rows"] = html.count("<tr")
    elif task == "formats":
        figures["formats"] = _each_format(con, run_id, out, rules, formats)
        figures["bytes"] = sum(f["bytes"] for f in figures["formats"].values())
    else:  # the exports, as write_report writes them
        files = write_report(con, run_id, out, rules=rules, formats="csv,json,ocsf")
        figures["bytes"] = sum(p.stat().st_size for p in files.paths().values())
    figures["seconds"] = time.perf_counter() - started
    figures["work_cpu_s"] = time.process_time() - figures["import_cpu_s"]
    figures["peak_mb"] = peak_rss_mb()
    return figures


def _each_format(
    con: Any, run_id: str, out: Path, rules: Any, formats: str | None = None
) -> dict[str, dict[str, float]]:
    """Each export format written on its own, from one report context, as `keyaudit report
    --format <one>` writes it past the context (exports.write_run_exports), beside the time of writing as many bytes to the
    same folder in one write: how far each writer is from disk speed."""
    from keyaudit.report import build_report_context, exports

    context = build_report_context(con, run_id, rules=rules, with_explorer=False)
    figures: dict[str, dict[str, float]] = {}
    wanted = formats.split(",") if formats else exports.EXPORT_FORMATS
    for fmt in [f for f in exports.EXPORT_FORMATS if f in wanted]:
        path = out / f"only-{fmt}"
        started, cpu = time.perf_counter(), time.process_time()
        exports.write_run_exports(con, run_id, {fmt: path}, context, account_ids=None)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        size = path.stat().st_size
        path.unlink()
        reference = out / "disk-reference"
        block = b"x" * size
        mark = time.perf_counter()
        with reference.open("wb") as f:
            f.write(block)
        disk = time.perf_counter() - mark
        reference.unlink()
        del block
        figures[fmt] = {"seconds": seconds, "cpu_s": cpu, "bytes": size, "disk_s": disk}
    return figures


def _measure(task: str, db: Path, out: Path, formats: str | None = None) -> dict[str, Any]:
    """Run `task` in a child process; its own figures plus wall time and peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", task, "--db", str(db), "--out", str(out)]
        + (["--formats", formats] if formats else []),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"bench: the {task} child failed with exit code {process.returncode}")
    figures = json.loads(output.strip().splitlines()[-1])
    figures["wall_s"] = time.perf_counter() - started
    figures["cpu_s"] = usage.ru_utime + usage.ru_stime  # the whole child, imports included
    # The child's own peak (VmHWM); wait4's ru_maxrss would include this process's memory at
    # fork time (Linux carries it across exec), i.e. the warehouse this process just built.
    figures["parent_at_fork_mb"] = usage.ru_maxrss / 1024
    return figures


def _build(work: Path, accounts: int, keys: int) -> Path:
    from synth import make_warehouse

    db = work / "bench.duckdb"
    if db.exists():
        db.unlink()
    started = time.perf_counter()
    summary = make_warehouse(db, accounts, keys, AS_OF, evidence_root=work / "evidence")
    print(
        f"warehouse: {accounts:,} accounts, {keys:,} keys, "
        f"{sum(summary.findings_by_rule.values()):,} findings, built in "
        f"{time.perf_counter() - started:.0f} s ({db})"
    )
    return db


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--keys", type=int, default=250_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/keyaudit-bench"))
    parser.add_argument("--db", type=Path, help="reuse this warehouse instead of building one")
    parser.add_argument(
        "--tasks",
        default="pdf,html,exports,formats,browser",
        help="what to measure, of pdf,html,exports,formats,browser (default: all)",
    )
    parser.add_argument(
        "--formats", help="the export formats `formats` measures (default: every one)"
    )
    parser.add_argument(
        "--child", choices=("pdf", "html", "exports", "formats"), help=argparse.SUPPRESS
    )
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.db, args.out, args.formats)))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    db = args.db or _build(args.work, args.accounts, args.keys)
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    accounts, keys, findings = con.execute(
        "select (select count(*) from accounts), (select count(*) from keys), "
        "(select count(*) from findings)"
    ).fetchone()
    con.close()
    print(f"measuring on {accounts:,} accounts, {keys:,} keys, {findings:,} findings")
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (busy machines inflate the times)"
    )
    failed = False
    tasks = {t.strip() for t in args.tasks.split(",") if t.strip()}
    for task in [t for t in ("pdf", "html", "exports", "formats") if t in tasks]:
        f = _measure(task, db, args.work / f"out-{task}", args.formats)
        line = (
            f"{task:<8} {f['seconds']:6.1f} s (CPU {f['work_cpu_s']:.1f} s; {f['wall_s']:.1f} s with "
            f"Python's start and imports)  "
            f"peak {f['peak_mb']:5.0f} MB  {f['bytes'] / 1e6:6.1f} MB"
        )
        if task == "pdf":
            line += (
                f"  {f['pages']} pages, {f['detail_rows']} detail rows "
                f"(context {f['context_s']:.1f} s / CPU {f['context_cpu_s']:.1f} s, template "
                f"{f['template_s']:.1f} s, layout {f['layout_s']:.1f} s / CPU {f['layout_cpu_s']:.1f} s)"
            )
        elif task == "html":
            line += (
                f"  {f['findings']:,} findings in its explorer data, {f['dom_rows']:,} table rows "
                f"in the page (context {f['context_s']:.1f} s / CPU {f['context_cpu_s']:.1f} s, "
                f"template {f['template_s']:.1f} s)"
            )
        elif task == "formats":
            line = f"formats  each export on its own (its own pass over the findings; peak {f['peak_mb']:.0f} MB):"
            for fmt, g in f["formats"].items():
                line += (
                    f"\n  {fmt:<8} {g['seconds']:6.1f} s (CPU {g['cpu_s']:.1f} s)  "
                    f"{g['bytes'] / 1e6:7.1f} MB  {g['bytes'] / 1e6 / g['seconds']:6.1f} MB/s  "
                    f"(disk speed: the same bytes in one write {g['disk_s']:.2f} s)"
                )
        seconds, megabytes = TARGETS.get(task, (None, None))
        verdict = []
        if seconds is not None:
            verdict.append(f"time {'ok' if f['seconds'] <= seconds else 'OVER'} (≤ {seconds:g} s)")
            failed |= f["seconds"] > seconds
        if megabytes is not None:
            verdict.append(
                f"memory {'ok' if f['peak_mb'] <= megabytes else 'OVER'} (≤ {megabytes:g} MB)"
            )
            failed |= f["peak_mb"] > megabytes
        print(line + ("  — " + ", ".join(verdict) if verdict else ""))
    if "browser" in tasks:
        _measure_browser(args.work / "out-html" / "report.html")
    return 1 if failed else 0


CHROMIUM = Path("/usr/bin/chromium")
# As the browser test starts it: no sandbox as root, nothing that reaches for the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _measure_browser(report: Path) -> None:
    """What a reader of the big report.html waits for in headless Chromium: opening it (until
    the explorer shows its first page), a severity filter, a sort, a search."""
    if not CHROMIUM.exists() or not report.exists():
        print(f"browser  skipped ({CHROMIUM} or {report} is missing)")
        return
    from playwright.sync_api import sync_playwright

    def timed(action: Any) -> float:
        started = time.perf_counter()
        action()
        return time.perf_counter() - started

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        opened = timed(
            lambda: (
                page.goto(report.as_uri(), timeout=300_000),
                page.wait_for_selector("#fx-body tr", timeout=300_000),
            )
        )
        total = page.locator("#fx-count").inner_text()
        filtered = timed(lambda: page.select_option("#fx-severity", "critical"))
        page.select_option("#fx-severity", index=0)
        ordered = timed(lambda: page.click("th[data-sort=age_days] button"))
        before = page.locator("#fx-count").inner_text()
        searched = timed(
            lambda: (
                page.fill("#fx-search", "AKIA"),
                page.wait_for_function(
                    "before => document.querySelector('#fx-count').innerText !== before", arg=before
                ),
            )
        )
        browser.close()
    print(
        f"browser  open {opened:.1f} s ({total}); filter {filtered:.2f} s, sort {ordered:.2f} s, "
        f"search {searched:.2f} s (headless Chromium)"
    )


if __name__ == "__main__":
    sys.exit(main())
