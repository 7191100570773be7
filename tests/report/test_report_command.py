"""`keyaudit report`: re-render a past run from the warehouse, the same bytes every time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from report_rows import OTHER, RUN_ID
from typer.testing import CliRunner

from keyaudit.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["report", *args])


def test_help_has_an_example():
    result = invoke("--help")
    assert result.exit_code == 0
    assert "Example: keyaudit report --run" in result.output


@pytest.mark.slow  # renders the demo report twice: make test-slow
def test_rerendering_a_run_gives_the_same_html_bytes(warehouse_file: Path, tmp_path: Path):
    before = os.stat(warehouse_file).st_mtime_ns
    first = invoke(
        "--run", RUN_ID, "--db", str(warehouse_file), "--out", str(tmp_path / "a"),
        "--format", "ocsf,json,csv,html",
    )  # fmt: skip
    second = invoke(
        "--run", RUN_ID, "--db", str(warehouse_file), "--out", str(tmp_path / "b"),
        "--format", "html,csv",
    )  # fmt: skip
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert [line.split()[0] for line in first.stdout.splitlines()] == [
        "HTML",
        "CSV",
        "JSON",
        "OCSF",
    ]
    assert (tmp_path / "a" / "report.html").read_bytes() == (
        tmp_path / "b" / "report.html"
    ).read_bytes()
    assert (tmp_path / "a" / "findings.csv").read_bytes() == (
        tmp_path / "b" / "findings.csv"
    ).read_bytes()
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["findings.csv", "report.html"]
    assert os.stat(warehouse_file).st_mtime_ns == before  # opened read-only


def test_account_option_renders_a_slice(warehouse_file: Path, tmp_path: Path):
    result = invoke(
        "--run", RUN_ID, "--db", str(warehouse_file), "--out", str(tmp_path), "--format", "csv",
        "--account", OTHER,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = (tmp_path / f"findings-account-{OTHER}.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and OTHER in lines[1]
    assert not (tmp_path / "findings.csv").exists()  # a slice never takes the run's names


def one_line_error(*args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_unknown_run_is_one_line(warehouse_file: Path, tmp_path: Path):
    assert one_line_error(
        "--run", "nope", "--db", str(warehouse_file), "--out", str(tmp_path / "x")
    ) == (
        f"keyaudit: error: run 'nope' is not in the warehouse '{warehouse_file}' — check the run id; "
        "`keyaudit runs` lists the runs"
    )
    assert not (tmp_path / "x").exists()


def test_unknown_format_is_one_line(warehouse_file: Path):
    assert one_line_error(
        "--run", RUN_ID, "--db", str(warehouse_file), "--format", "html,docx"
    ) == (
        "keyaudit: error: --format: format 'docx' is not supported; use one or more of "
        "html,pdf,csv,json,ocsf,xlsx,tickets"
    )


def test_bad_account_id_is_one_line(warehouse_file: Path, tmp_path: Path):
    assert (
        one_line_error(
            "--run", RUN_ID, "--db", str(warehouse_file), "--out", str(tmp_path), "--account", "123"
        )
        == "keyaudit: error: account_ids: '123' is not a 12-digit account id (pass it as a string)"
    )


def test_missing_warehouse_says_how_to_make_one(tmp_path: Path):
    message = one_line_error("--run", RUN_ID, "--db", str(tmp_path / "none.duckdb"))
    assert message.endswith("run `keyaudit demo` or `keyaudit run` first")


def test_unwritable_output_folder_is_one_line(warehouse_file: Path, tmp_path: Path):
    # a file where a folder should be: refused for root too (CI runs as root)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    message = one_line_error(
        "--run",
        RUN_ID,
        "--db",
        str(warehouse_file),
        "--out",
        str(blocker / "out"),
        "--format",
        "csv",
    )
    assert message == (
        f"keyaudit: error: cannot write the report into {blocker / 'out'}: Not a directory"
    )


def test_an_account_the_run_lacks_exits_2_with_one_line_and_writes_nothing(
    warehouse_file: Path, tmp_path: Path
):
    result = invoke(
        "--run", RUN_ID, "--db", str(warehouse_file), "--out", str(tmp_path / "out"),
        "--account", "999999999999",
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"keyaudit: error: account 999999999999 is not in run {RUN_ID} — check the id; "
        f"`keyaudit query --file run_accounts --param run_id={RUN_ID}` lists the run's accounts"
    ]
    assert not (tmp_path / "out").exists()
