"""`keyaudit query`: bound parameters, read-only warehouse, saved queries, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.warehouse.db import connect
from keyaudit.warehouse.saved_queries import QUERIES_DIR, list_saved

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    con = connect(path)
    con.execute(
        "insert into findings (run_id, finding_id, rule_id, severity, account_id, user_name, reason) "
        "values ('r1', 'f1', 'ACCESS_KEY_UNUSED', 'medium', '011122223333', 'alice', 'never used'), "
        "('r1', 'f2', 'ACCESS_KEY_NOT_ROTATED', 'high', '111122223333', 'bob|ops', 'old')"
    )
    con.close()
    return path


def query(db: Path, *args: str):
    return runner.invoke(app, ["query", "--db", str(db), *args])


def rows(result) -> list[dict]:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


# --- bound parameters ---------------------------------------------------------------------------


def test_parameter_is_bound_so_an_injection_attempt_stays_a_literal(db: Path):
    sql = "select count(*) as n from findings where user_name = $user"
    attack = "x' or '1'='1"
    assert rows(query(db, "--format", "json", "--param", f"user={attack}", sql)) == [{"n": 0}]
    assert rows(query(db, "--format", "json", "--param", "user=alice", sql)) == [{"n": 1}]


def test_injection_through_a_saved_query_parameter_stays_a_literal(db: Path):
    result = query(
        db, "--format", "json", "--file", "user_key_history", "--param", "user=' or 1=1 --"
    )
    assert rows(result) == []


def test_integers_stay_integers_and_account_ids_stay_text(db: Path):
    result = query(
        db,
        "--format",
        "json",
        "--param",
        "days=90",
        "--param",
        "account=011122223333",
        "--param",
        "other=111122223333",
        "--param",
        "ratio=0.5",
        "--param",
        "flag=true",
        "--param",
        "word=ap-south-1",
        "select typeof($days) d, typeof($account) a, typeof($other) o, typeof($ratio) r, "
        "typeof($flag) f, typeof($word) w",
    )
    [types] = rows(result)
    assert types["d"] in ("INTEGER", "BIGINT")
    assert (types["a"], types["o"], types["r"], types["f"], types["w"]) == (
        "VARCHAR",
        "VARCHAR",
        "DOUBLE",
        "BOOLEAN",
        "VARCHAR",
    )


def test_value_may_contain_an_equals_sign(db: Path):
    assert rows(query(db, "--format", "json", "--param", "v=a=b", "select $v as v")) == [
        {"v": "a=b"}
    ]


def test_missing_parameter_names_it_and_how_to_pass_it(db: Path):
    result = query(db, "select * from findings where severity = $severity")
    assert error(result) == (
        "keyaudit: error: query failed: the query needs parameter(s) $severity — "
        "pass --param severity=VALUE"
    )


def test_saved_query_missing_a_required_parameter_says_which_and_what_it_is(db: Path):
    assert error(query(db, "--file", "keys_used_in_region")) == (
        "keyaudit: error: saved query keys_used_in_region needs parameter region "
        "(the AWS region, e.g. ap-south-1) — pass it with --param region=VALUE"
    )


def test_parameter_the_query_does_not_have_is_refused(db: Path):
    assert error(query(db, "--param", "days=3", "select 1")) == (
        "keyaudit: error: query failed: the query has no $parameters — remove the --param options"
    )
    assert error(query(db, "--file", "never_used_keys", "--param", "dayz=3")) == (
        "keyaudit: error: --param dayz: saved query never_used_keys has no parameter dayz; "
        "its parameters are days, run_id"
    )


def test_parameter_of_the_wrong_type_is_refused_with_an_example(db: Path):
    assert error(query(db, "--file", "old_keys_by_account", "--param", "days=ninety")) == (
        "keyaudit: error: --param days='ninety': days is an integer, e.g. --param days=90"
    )


def test_run_parameter_naming_no_run_is_refused(db: Path):
    assert error(query(db, "--file", "old_keys_by_account", "--param", "run_id=2026-typo")) == (
        "keyaudit: error: --param run_id=2026-typo: no such run in the warehouse — "
        "`keyaudit runs` lists the runs"
    )


def test_malformed_param_is_refused(db: Path):
    assert error(query(db, "--param", "days", "select 1")) == (
        "keyaudit: error: --param 'days' is not NAME=VALUE — e.g. --param days=90"
    )


# --- read-only ----------------------------------------------------------------------------------


def test_delete_fails_with_a_clear_message_and_changes_nothing(db: Path):
    assert error(query(db, "delete from findings")) == (
        "keyaudit: error: query failed: DELETE is not allowed: the warehouse is opened "
        "read-only, so queries can only read"
    )
    assert rows(query(db, "--format", "json", "select count(*) n from findings")) == [{"n": 2}]


def test_queries_cannot_write_or_read_files(db: Path, tmp_path: Path):
    target = tmp_path / "out.csv"
    expected = (
        "keyaudit: error: query failed: queries cannot read or write files outside the "
        "warehouse — to keep a result, use --format csv or json and redirect the output to a file"
    )
    assert error(query(db, f"copy (select * from findings) to '{target}'")) == expected
    assert not target.exists()
    assert error(query(db, "select * from read_csv('/etc/hostname')")) == expected
    assert error(query(db, f"attach '{tmp_path / 'other.duckdb'}' as other")) == expected


def test_settings_cannot_be_unlocked(db: Path):
    message = error(query(db, "set enable_external_access = true"))
    assert message.startswith("keyaudit: error: query failed: Invalid Input Error: Cannot change")


# --- formats ------------------------------------------------------------------------------------


def test_markdown_is_a_table_whose_cells_cannot_break_it(db: Path):
    result = query(
        db,
        "--format",
        "markdown",
        "select user_name, severity from findings order by finding_id",
    )
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "| user_name | severity |",
        "| --- | --- |",
        "| alice | medium |",
        "| bob\\|ops | high |",
    ]


def test_csv_neutralises_formulas_in_saved_query_output(db: Path):
    result = query(db, "--format", "csv", "select '=1+1' as x, 7 as n")
    assert result.stdout.splitlines() == ["x,n", "'=1+1,7"]


# --- saved queries ------------------------------------------------------------------------------


def test_list_shows_every_saved_query_with_its_question_and_parameters():
    result = runner.invoke(app, ["query", "--list", "--format", "json"])
    listed = {r["name"]: r for r in json.loads(result.stdout)}
    assert len(listed) >= 10
    assert listed["old_keys_by_account"]["question"] == (
        "Which active access keys are older than N days, by account?"
    )
    assert listed["old_keys_by_account"]["parameters"] == (
        "days (integer, default 90): the age limit in days (a key older than this is listed); "
        "run_id (run, optional): the run to look at; default the latest run"
    )


def test_every_saved_query_has_a_question_and_declares_every_parameter_it_uses():
    import re

    for saved in list_saved():
        body = "\n".join(
            line for line in saved.sql.splitlines() if not line.lstrip().startswith("--")
        )
        used = set(re.findall(r"\$([a-z_][a-z0-9_]*)", body))
        assert saved.question.endswith("?"), saved.name
        assert used == {p.name for p in saved.params}, saved.name


def test_file_takes_a_path_to_any_sql_file_with_a_header(db: Path, tmp_path: Path):
    path = tmp_path / "mine.sql"
    path.write_text(
        "-- question: Which findings have a given severity?\n"
        "-- param severity (text, default high): the severity\n"
        "select user_name from findings where severity = $severity\n"
    )
    assert rows(query(db, "--format", "json", "--file", str(path))) == [{"user_name": "bob|ops"}]
    assert rows(
        query(db, "--format", "json", "--file", str(path), "--param", "severity=medium")
    ) == [{"user_name": "alice"}]


def test_unknown_saved_query_points_to_the_list(db: Path):
    assert error(query(db, "--file", "old_keys")) == (
        "keyaudit: error: --file old_keys: no such file and no saved query of that name — "
        "`keyaudit query --list` shows the saved queries"
    )


def test_sql_and_file_together_or_neither_are_refused(db: Path):
    assert error(query(db, "--file", "runs", "select 1")) == (
        "keyaudit: error: give either the SQL to run or --file NAME, not both"
    )
    assert error(query(db)) == (
        "keyaudit: error: give the SQL to run, or --file NAME (`keyaudit query --list` shows "
        "saved queries)"
    )


def test_saved_queries_live_in_sql_queries():
    assert QUERIES_DIR.name == "queries" and QUERIES_DIR.parent.name == "sql"
