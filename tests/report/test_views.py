"""A view of a run (`keyaudit report --framework`, `--account`) never replaces the run's report:
it is written under its own names, the run's files keep their bytes, `keyaudit verify` still
passes, and `keyaudit deliver` sends a view only when asked. `keyaudit report` without --run
renders the latest run."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from report_rows import RUN_ID, open_copy
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.frameworks import FRAMEWORKS
from keyaudit.report import FILE_NAMES, file_names, view_name
from keyaudit.report.file_names import slug
from keyaudit.warehouse.db import RUN_TABLES
from tests.runs import DemoRun, copy_run, stub_pdf

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

runner = CliRunner()
A, B = "111122223333", "444455556666"


def hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --------------------------------------------------------------------------- names


def test_a_view_is_named_after_its_framework_its_accounts_or_both():
    assert view_name("PCI DSS v4.0.1", None) == "pci-dss-v4.0.1"
    assert view_name(None, [A]) == "account-111122223333"
    assert view_name(None, [B, A, A]) == "accounts-111122223333-444455556666"
    assert view_name("PCI DSS v4.0.1", [A]) == "pci-dss-v4.0.1-account-111122223333"
    assert view_name(None, None) is None and view_name(None, []) is None
    assert file_names("pci-dss-v4.0.1") == {
        "html": "report-pci-dss-v4.0.1.html",
        "pdf": "report-pci-dss-v4.0.1.pdf",
        "csv": "findings-pci-dss-v4.0.1.csv",
        "json": "findings-pci-dss-v4.0.1.json",
        "ocsf": "findings-pci-dss-v4.0.1.ocsf.jsonl",
        "xlsx": "findings-pci-dss-v4.0.1.xlsx",
        "tickets": "findings-pci-dss-v4.0.1.tickets.csv",
    }
    assert file_names(None) == FILE_NAMES


def test_every_framework_gives_a_safe_name_of_its_own():
    names = [view_name(f.name, None) for f in FRAMEWORKS]
    assert len(set(names)) == len(names)
    for name in names:
        assert name and all(c.isalnum() or c in ".-" for c in name), name
    assert view_name("ISO/IEC 27001:2022", None) == "iso-iec-27001-2022"
    assert view_name("NIST SP 800-53 Rev. 5", None) == "nist-sp-800-53-rev-5"


def test_a_name_holds_no_path_and_stays_short():
    for hostile in ("../../etc/passwd", "a/b\\c", "..", ".hidden", "x" * 500, "\n\x00/"):
        name = slug(hostile)
        assert "/" not in name and "\\" not in name and not name.startswith(".")
        assert ".." not in name and len(name) <= 40
    many = [f"{n:012d}" for n in range(1, 200)]
    name = view_name("PCI DSS v4.0.1", many)
    assert name is not None and len(name) <= 100
    assert name.startswith("pci-dss-v4.0.1-199-accounts-")
    assert name != view_name("PCI DSS v4.0.1", many[:-1])  # other accounts, another name


# --------------------------------------------------------------------------- on a run


@pytest.fixture
def run(demo_run: DemoRun, tmp_path: Path) -> DemoRun:
    return copy_run(demo_run, tmp_path)


def report(run: DemoRun, *args: str):
    with stub_pdf():
        return runner.invoke(
            app,
            ["report", "--config", str(run.warehouse.parent / "keyaudit.toml"), *args],
        )


def test_views_never_change_the_runs_own_files(run: DemoRun):
    before = hashes(run.report_dir)
    assert {"report.pdf", "report.html", "findings.xlsx"} <= set(before)
    framework = report(
        run, "--run", run.run_id, "--framework", "PCI DSS v4.0.1", "--format", "html,pdf,xlsx"
    )
    account = report(run, "--run", run.run_id, "--account", "123456789012", "--format", "pdf,csv")
    both = report(
        run, "--run", run.run_id, "--framework", "soc 2", "--account", "123456789012",
        "--format", "html",
    )  # fmt: skip
    for result in (framework, account, both):
        assert result.exit_code == 0, result.output
    after = hashes(run.report_dir)
    assert {name: after[name] for name in before} == before
    assert sorted(set(after) - set(before)) == [
        "findings-account-123456789012.csv",
        "findings-pci-dss-v4.0.1.xlsx",
        "report-account-123456789012.pdf",
        "report-pci-dss-v4.0.1.html",
        "report-pci-dss-v4.0.1.pdf",
        "report-soc-2-account-123456789012.html",
    ]
    assert "  view         pci-dss-v4.0.1 (its own files; the run's report is unchanged)" in (
        framework.stdout.splitlines()
    )


def test_rendering_the_run_again_keeps_the_files_it_wrote(run: DemoRun):
    before = hashes(run.report_dir)
    (run.report_dir / "findings.csv").unlink()
    result = report(run, "--run", run.run_id, "--format", "html,csv")
    assert result.exit_code == 0, result.output
    assert hashes(run.report_dir) == before  # the missing file is written again, the same
    assert result.stdout.splitlines() == [
        f"  CSV export   {run.report_dir / 'findings.csv'}",
        f"  HTML report  {run.report_dir / 'report.html'}  (kept: already there; to render it "
        "again, choose another --out)",
    ]


def test_verify_passes_after_views_are_rendered(run: DemoRun):
    result = report(run, "--run", run.run_id, "--framework", "SOC 2", "--format", "html,pdf")
    assert result.exit_code == 0, result.output
    verified = runner.invoke(
        app,
        ["verify", run.run_id, "--db", str(run.warehouse),
         "--evidence", str(run.evidence_run_dir.parent)],
    )  # fmt: skip
    assert verified.exit_code == 0, verified.output
    assert "evidence verified" in verified.stdout


def deliver(run: DemoRun, *args: str):
    return runner.invoke(
        app,
        ["deliver", "--run", run.run_id, "--config", str(run.warehouse.parent / "keyaudit.toml"),
         *args],
    )  # fmt: skip


def test_deliver_sends_the_runs_report_and_a_view_only_when_named(run: DemoRun):
    own = deliver(run)
    assert own.exit_code == 0, own.output
    result = report(run, "--run", run.run_id, "--framework", "PCI DSS v4.0.1")
    assert result.exit_code == 0, result.output
    plain = deliver(run)
    assert plain.exit_code == 0, plain.output
    assert plain.stdout.splitlines()[0] == own.stdout.splitlines()[0]  # the same files
    named = deliver(run, "--view", "pci-dss-v4.0.1")
    assert named.exit_code == 0, named.output
    count = len(list(run.report_dir.glob("*")))
    assert named.stdout.splitlines()[0] == f"  folder  {run.report_dir} ({count} files)"


def test_deliver_refuses_a_view_that_is_not_there_in_one_line(run: DemoRun):
    for view in ("soc-2", "../report"):
        result = deliver(run, "--view", view)
        assert result.exit_code == 2, result.output
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith(f"keyaudit: error: --view {view!r}: no such view in ")
        assert "keyaudit report --run" in line


# --------------------------------------------------------------------------- the latest run


def add_later_run(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """A copy of the given run, one day later, under a run id that sorts first."""
    for table in RUN_TABLES:
        con.execute(
            f"insert into {table} select * replace (? as run_id) from {table} where run_id = ?",
            [run_id, RUN_ID],
        )
    con.execute(
        "update runs set as_of = as_of + ?, started_at = started_at + ?, "
        "finished_at = finished_at + ? where run_id = ?",
        [timedelta(days=1)] * 3 + [run_id],
    )


def test_report_without_run_renders_the_latest(warehouse_file: Path, tmp_path: Path):
    con = open_copy(warehouse_file, tmp_path)
    later = "0-later-run"  # the latest by as_of, though its id sorts before the other
    add_later_run(con, later)
    con.close()
    db = tmp_path / "report.duckdb"  # where open_copy put it
    result = runner.invoke(
        app, ["report", "--db", str(db), "--out", str(tmp_path / "out"), "--format", "html"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"  run          {later} (the latest in the warehouse)"
    assert later in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_report_without_run_on_a_warehouse_with_none_is_one_line(
    migrated_template: Path, tmp_path: Path
):
    result = runner.invoke(
        app, ["report", "--db", str(migrated_template), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"keyaudit: error: warehouse {migrated_template} holds no run yet — run `keyaudit demo` "
        "or `keyaudit run` first"
    ]
    assert not (tmp_path / "out").exists()
