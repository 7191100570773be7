"""The command line as a user meets it: help, exit codes, one-line errors, query formats."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.warehouse.db import connect

runner = CliRunner()


@pytest.fixture
def small_warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    con = connect(path)
    con.execute(
        "insert into findings (run_id, finding_id, rule_id, severity, account_id, user_name, reason) "
        "values ('r1', 'f1', 'ACCESS_KEY_UNUSED', 'medium', '011122223333', '=cmd|calc', 'never used')"
    )
    con.close()
    return path


def registered_commands() -> list[tuple[str, ...]]:
    """Every command of the Typer app, as the words that call it (sub-commands included)."""
    import typer

    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        subcommands = getattr(command, "commands", None)  # a group
        if not subcommands:
            yield path
            return
        for name, sub in subcommands.items():
            if not sub.hidden:
                yield from walk(sub, (*path, name))

    return list(walk(typer.main.get_command(app), ()))


def test_the_command_list_is_the_documented_one():
    assert {c[0] for c in registered_commands()} >= {
        "demo",
        "run",
        "deliver",
        "query",
        "report",
        "rules",
        "runs",
        "serve",
        "verify",
    }


@pytest.mark.parametrize("command", registered_commands(), ids=" ".join)
def test_every_command_has_help_with_an_example(command: tuple[str, ...]):
    import typer

    click_command = typer.main.get_command(app)
    for word in command:
        click_command = click_command.commands[word]
    help_text = " ".join((click_command.help or "").split())
    assert len(help_text) > 20, f"keyaudit {' '.join(command)} has no help text"
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.replace("│", " ").split())  # as read, without the boxes
    assert f"Usage: keyaudit {' '.join(command)} " in shown
    assert help_text.split(". ")[0][:60] in shown
    assert re.search(rf"Example: (\S+=\S+ )*keyaudit {' '.join(command)}\b", shown), (
        f"keyaudit {' '.join(command)} --help shows no example"
    )


def test_query_json_prints_only_a_json_array(small_warehouse: Path):
    result = runner.invoke(
        app,
        [
            "query",
            "--db",
            str(small_warehouse),
            "--format",
            "json",
            "select rule_id, account_id from findings",
        ],
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {"rule_id": "ACCESS_KEY_UNUSED", "account_id": "011122223333"}
    ]


def test_query_csv_neutralises_formulas(small_warehouse: Path):
    result = runner.invoke(
        app,
        [
            "query",
            "--db",
            str(small_warehouse),
            "--format",
            "csv",
            "select user_name from findings",
        ],
    )
    assert result.stdout.splitlines() == ["user_name", "'=cmd|calc"]


def test_query_cannot_change_the_warehouse(small_warehouse: Path):
    result = runner.invoke(app, ["query", "--db", str(small_warehouse), "delete from findings"])
    assert result.exit_code == 2
    assert result.stderr.startswith("keyaudit: error: query failed:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_query_on_missing_warehouse_says_how_to_make_one(tmp_path: Path):
    result = runner.invoke(app, ["query", "--db", str(tmp_path / "none.duckdb"), "select 1"])
    assert result.exit_code == 2
    assert "run `keyaudit demo` or `keyaudit run` first" in result.stderr


def test_bad_as_of_is_refused_before_anything_runs(tmp_path: Path):
    result = runner.invoke(
        app, ["demo", "--as-of", "last tuesday", "--db", str(tmp_path / "w.duckdb")]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "keyaudit: error: --as-of 'last tuesday' is not an ISO 8601 time; e.g. 2026-12-01T06:00:00Z"
    )


def test_bad_config_value_is_refused_with_key_and_allowed_values(tmp_path: Path):
    config = tmp_path / "keyaudit.toml"
    config.write_text('[aws]\nretry_mode = "yolo"\n')
    result = runner.invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"keyaudit: error: {config}: aws.retry_mode = 'yolo' is not allowed; use one of 'adaptive' or 'standard'"
    )


def test_unknown_rule_override_is_refused(tmp_path: Path):
    config = tmp_path / "keyaudit.toml"
    config.write_text("[rules.ACCESS_KEY_TOO_OLD]\nmax_key_age_days = 10\n")
    result = runner.invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2
    assert "rules.ACCESS_KEY_TOO_OLD: no such rule" in result.stderr
