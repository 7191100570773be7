"""The auditor commands as a user meets them: help with examples, and `run --source files`
refusing a wrong folder in one line before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from keyaudit.cli import app

runner = CliRunner()


@pytest.mark.parametrize("command", ["run", "query", "runs", "verify"])
def test_auditor_commands_have_help_with_an_example(command: str):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_run_help_shows_the_files_source():
    result = runner.invoke(app, ["run", "--help"])
    assert "--source" in result.output and "--files" in result.output


def one_line_error(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_source_files_without_a_folder_is_refused():
    assert one_line_error(["run", "--source", "files"]) == (
        "keyaudit: error: --source files needs --files DIR, the folder of credential reports"
    )


def test_files_without_source_files_is_refused(tmp_path: Path):
    assert one_line_error(["run", "--files", str(tmp_path)]) == (
        "keyaudit: error: --files is read only with --source files — add --source files"
    )


def test_missing_folder_is_refused_before_anything_runs(tmp_path: Path):
    missing = tmp_path / "nope"
    assert one_line_error(
        ["run", "--source", "files", "--files", str(missing), "--db", str(tmp_path / "w.duckdb")]
    ) == (
        f"keyaudit: error: credential report folder {missing} does not exist — give the folder "
        "holding the reports (<account id>.csv)"
    )
    assert not (tmp_path / "w.duckdb").exists()


def test_folder_without_reports_is_refused(tmp_path: Path):
    (tmp_path / "readme.txt").write_text("x")
    assert one_line_error(["run", "--source", "files", "--files", str(tmp_path)]) == (
        f"keyaudit: error: credential report folder {tmp_path} holds no credential report "
        "(*.csv) — put one <12-digit account id>.csv per account in it"
    )


def test_unknown_source_is_refused_by_the_option_itself():
    result = runner.invoke(app, ["run", "--source", "s3"])
    assert result.exit_code == 2
    assert "'s3' is not one of" in " ".join(result.output.split())
