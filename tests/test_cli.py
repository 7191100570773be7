"""The command line as a user meets it: help, exit codes, one-line errors, query formats."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.exits import INTERRUPTED
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


# --- a CLI that feels finished: version, readable help, plain counts, tables that fit ----------

PYTHON_TYPE_METAVAR = re.compile(
    r"<(bool|str|int|float|path|file|dir|datetime|uuid|list\[[^>]*\]|[\w-]+(\|[\w-]+)+)>"
)


def test_version_prints_the_installed_version():
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"keyaudit {version('keyaudit')}\n"


def test_the_command_starts_without_heavy_imports():
    import subprocess
    import sys

    heavy = ["duckdb", "pandas", "pydantic", "jinja2", "weasyprint", "prefect", "boto3"]
    heavy += ["email_validator", "importlib.metadata"]  # ~80 ms: only when --version asks
    code = f"import sys, keyaudit.cli; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("command", [(), *registered_commands()], ids=lambda c: " ".join(c) or "-")
def test_help_names_values_plainly_and_flags_take_none(command: tuple[str, ...], monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert PYTHON_TYPE_METAVAR.findall(result.output) == []
    assert not re.search(r"--help\s+\S+\s+Show", result.output)  # `--help  Show this …`


def test_every_option_that_takes_a_value_names_it_in_capitals():
    import typer

    group = typer.main.get_command(app)
    unnamed = []
    for name, command in [("", group), *group.commands.items()]:
        for param in command.params:  # --help is checked in the rendered help above
            takes_value = not getattr(param, "is_flag", False)
            if takes_value and not re.fullmatch(r"[A-Z][A-Z_=]*", param.metavar or ""):
                unnamed.append(f"keyaudit {name} {param.opts[0]}")
    assert unnamed == []


@pytest.mark.parametrize("command", ["run", "demo"])
def test_run_help_lists_every_exit_status_from_its_definition(command: str, monkeypatch):
    from keyaudit import exits

    monkeypatch.setenv("COLUMNS", "100")
    shown = " ".join(runner.invoke(app, [command, "--help"]).output.split())
    assert "Exit status:" in shown
    for code, text in exits.RUN_EXIT_CODES:
        assert f"{code}: {text.replace('`', '')[:40]}" in shown
    assert [c for c, _ in exits.RUN_EXIT_CODES] == [0, 1, 2, 3, 4, 130]


def test_verify_and_report_print_counts_in_words():
    from keyaudit.words import counted, plural

    assert [counted(n, "account") for n in (0, 1, 2, 1204)] == [
        "0 accounts",
        "1 account",
        "2 accounts",
        "1,204 accounts",
    ]
    assert plural("is", 1) == "is" and plural("is", 3) == "are"
    assert plural("matches", 2, "match") == "match"


def test_no_counted_word_in_the_cli_is_written_with_a_parenthesised_plural():
    folder = Path(__file__).parent.parent / "keyaudit" / "cli"
    found = [
        f"{path.name}:{n}"
        for path in sorted(folder.glob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"[a-z]\(s\)[ \"']", line)
    ]
    assert found == []


def widest_line(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def test_query_list_fits_100_columns_with_its_text_wrapped(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    result = runner.invoke(app, ["query", "--list"])
    assert result.exit_code == 0, result.output
    assert widest_line(result.stdout) <= 100
    from keyaudit.warehouse.saved_queries import list_saved

    saved = list_saved()
    lines = result.stdout.splitlines()
    assert lines[-1] == f"({len(saved)} rows)"
    starts = [line.split()[0] for line in lines[2:-1] if line and not line.startswith(" ")]
    assert starts == [q.name for q in saved]  # one entry per query, its text wrapped beside it
    question = [line[27:63].strip() for line in lines[2:7]]  # the first entry's question column
    assert " ".join(question).startswith(saved[0].question)


def test_runs_table_fits_100_columns(tmp_path: Path, monkeypatch):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    con.execute(
        """insert into runs (run_id, started_at, finished_at, as_of, source, scope, config_digest,
            config_json, parameters_json, tool_version, status, accounts_in_scope,
            accounts_assessed, accounts_not_assessed, accounts_skipped)
           values ('20261201T060000Z-3f9a1c', '2026-12-01 06:00:00Z', '2026-12-01 06:40:00Z',
            '2026-12-01 06:00:00Z', 'files', 'organization', 'd', '{}', '{}', '0.1.0',
            'finished', 1200, 1187, 13, 40)"""
    )
    con.execute(
        "insert into findings (run_id, finding_id, rule_id, severity, account_id, reason) "
        "select '20261201T060000Z-3f9a1c', 'f' || i, 'ACCESS_KEY_UNUSED', 'medium', "
        "'011122223333', 'never used' from range(12345) t(i)"
    )
    con.close()
    monkeypatch.setenv("COLUMNS", "100")
    result = runner.invoke(app, ["runs", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert widest_line(result.stdout) <= 100
    header, _, row, count = result.stdout.splitlines()
    assert header.split() == [
        "run_id",
        "as_of",
        "source",
        "status",
        "assessed",
        "crit",
        "high",
        "med",
        "low",
    ]
    assert row.split() == [
        "20261201T060000Z-3f9a1c",
        "2026-12-01",
        "06:00",
        "files",
        "finished",
        "1187/1200",
        "0",
        "0",
        "12345",
        "0",
    ]
    assert count == "(1 row)"


def test_the_run_summary_lists_its_files_with_the_paths_in_one_column(tmp_path):
    from keyaudit.cli.audit import _file_lines
    from keyaudit.outcome import AuditResult
    from keyaudit.warehouse.load import RunSummary

    lines = _file_lines(
        AuditResult(
            summary=RunSummary("r1", "2026-01-01", 1, 1, 0, 0, 0),
            min_coverage=1.0,
            html=str(tmp_path / "report.html"),
            pdf=str(tmp_path / "report.pdf"),
            pdf_pages=1,
            outputs={
                "csv": str(tmp_path / "findings.csv"),
                "plan json": str(tmp_path / "plan.json"),
            },
            report_dir=str(tmp_path),
            warehouse=str(tmp_path / "keyaudit.duckdb"),
            evidence=str(tmp_path / "evidence"),
        )
    )
    assert lines[0] == f"  HTML report       {tmp_path / 'report.html'}"
    assert lines[1] == f"  PDF report        {tmp_path / 'report.pdf'}  (1 page)"
    assert {line.index(str(tmp_path)) for line in lines} == {20}
    assert [line.split(str(tmp_path))[0].strip() for line in lines] == [
        "HTML report",
        "PDF report",
        "CSV export",
        "PLAN JSON export",
        "warehouse",
        "evidence",
    ]


# --------------------------------------------------------------------------- configuration read once


@contextmanager
def opens_of(path: Path) -> Iterator[list[str]]:
    """Every open of `path` inside the block, however it is opened (open, Path.read_text,
    os.open): Python's `open` audit event. A hook cannot be removed, so it is added once and
    records only while a block is active."""
    if not _OPEN_WATCHES.hooked:
        sys.addaudithook(_record_open)
        _OPEN_WATCHES.hooked = True
    target = os.path.realpath(path)
    opened: list[str] = []
    _OPEN_WATCHES.append((target, opened))
    try:
        yield opened
    finally:
        _OPEN_WATCHES.remove((target, opened))


class _Watches(list[tuple[str, list[str]]]):
    hooked = False


_OPEN_WATCHES = _Watches()


def _record_open(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or not _OPEN_WATCHES or not isinstance(args[0], (str, Path)):
        return
    where = os.path.realpath(args[0])
    for target, opened in _OPEN_WATCHES:
        if where == target:
            opened.append(where)


def stop_at(monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    """The in-process run ends at the pipeline function `step`, in one line (exit 1)."""
    from keyaudit import pipeline
    from keyaudit.model import KeyauditError

    def stop(*args: Any) -> None:
        raise KeyauditError(f"stopped at {step}")

    name = pipeline.STEPS.get(getattr(pipeline, step))
    if name is not None:  # a step run through Steps.run: the stand-in takes its name
        monkeypatch.setitem(pipeline.STEPS, stop, name)
    monkeypatch.setattr(pipeline, step, stop)


@pytest.mark.parametrize(
    ("command", "step"),
    [
        (["run", "--source", "files"], "load_and_evaluate"),  # checked, planned and collected
        (["demo"], "refuse_existing_evidence"),  # reviewed (its previous month), checked, planned
    ],
)
def test_a_run_from_the_command_line_reads_its_configuration_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], step: str
):
    """The check before the run, the choice of in-process or Prefect and the run's plan all use
    one reading of keyaudit.toml: a file changed between them cannot split the run. (The steps
    after collection get the configuration from the plan.)"""
    from tests.auditor.given import folder_of, report
    from tests.runs import write_config

    config = write_config(tmp_path / "keyaudit.toml", {}, data_dir=tmp_path / "data")
    if command[0] == "run":
        files = folder_of(tmp_path, {"111122223333.csv": report("111122223333")})
        command = [*command, "--files", str(files)]
    stop_at(monkeypatch, step)
    with opens_of(config) as opened:
        result = runner.invoke(app, [*command, "--config", str(config)])
    assert result.stderr.splitlines()[-1] == f"keyaudit: error: stopped at {step}"
    assert len(opened) == 1


@pytest.mark.parametrize("ctrl_c", [KeyboardInterrupt(), RuntimeError("Query interrupted")])
def test_ctrl_c_during_a_duckdb_query_ends_the_command_as_ctrl_c_does(
    small_warehouse: Path, monkeypatch, ctrl_c: BaseException
):
    """DuckDB turns the KeyboardInterrupt of a Ctrl-C that arrives mid-query into
    RuntimeError("Query interrupted"): the command ends the same way either way, no traceback."""
    import keyaudit.cli.query

    def interrupted(*args: object, **kwargs: object) -> None:
        raise ctrl_c

    monkeypatch.setattr(keyaudit.cli.query, "execute", interrupted)
    result = runner.invoke(app, ["query", "--db", str(small_warehouse), "select 1"])
    assert result.exit_code == INTERRUPTED and isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "Query interrupted" not in result.output


def test_a_runtime_error_that_is_not_an_interruption_stays_what_it_is(
    small_warehouse: Path, monkeypatch
):
    import keyaudit.cli.query

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something else")

    monkeypatch.setattr(keyaudit.cli.query, "execute", broken)
    result = runner.invoke(app, ["query", "--db", str(small_warehouse), "select 1"])
    assert isinstance(result.exception, RuntimeError) and str(result.exception) == "something else"
