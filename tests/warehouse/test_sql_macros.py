"""The SQL macros of sql/staging/_macros.sql that saved queries, report queries and table macros
share: which run a question is about, and which accounts."""

from __future__ import annotations

from typing import Any

import pytest

from keyaudit.warehouse.db import connect
from keyaudit.warehouse.saved_queries import bind, find_query

OLD, NEW, SAME_TIME = (
    "20261101T060000Z-aaaaaa",
    "20261201T060000Z-aaaaaa",
    "20261201T060000Z-bbbbbb",
)


def add_run(con: Any, run_id: str, as_of: str) -> None:
    con.execute(
        """insert into runs (run_id, started_at, as_of, source, scope, config_digest, config_json,
            parameters_json, tool_version, status, accounts_in_scope, accounts_assessed,
            accounts_not_assessed, accounts_skipped)
           values (?, ?, ?, 'demo', 'organization', 'd', '{}', '{}', 'test', 'finished', 0, 0, 0, 0)""",
        [run_id, as_of, as_of],
    )


@pytest.fixture
def runs(warehouse: Any) -> Any:
    add_run(warehouse, OLD, "2026-11-01 06:00:00Z")
    add_run(warehouse, NEW, "2026-12-01 06:00:00Z")
    return warehouse


def test_no_run_asked_for_means_the_latest(runs: Any):
    assert runs.execute("select run_id from ka_run(?)", [None]).fetchall() == [(NEW,)]
    assert runs.execute("select ka_run_id(?)", [None]).fetchall() == [(NEW,)]


def test_of_two_runs_as_of_the_same_time_the_greater_run_id_is_the_latest(runs: Any):
    add_run(runs, SAME_TIME, "2026-12-01 06:00:00Z")
    assert runs.execute("select run_id from ka_run(null)").fetchall() == [(SAME_TIME,)]


def test_a_run_asked_for_is_that_run_and_an_unknown_one_is_none(runs: Any):
    assert runs.execute("select run_id, as_of from ka_run(?)", [OLD]).fetchone()[0] == OLD
    assert runs.execute("select * from ka_run('no such run')").fetchall() == []


def test_an_empty_warehouse_has_no_latest_run(warehouse: Any):
    assert warehouse.execute("select * from ka_run(null)").fetchall() == []


ACCOUNTS = "(values ('111111111111'), ('222222222222'), ('333333333333')) as t(account_id)"


@pytest.mark.parametrize(
    ("wanted", "kept"),
    [
        (None, ["111111111111", "222222222222", "333333333333"]),  # the whole run
        (["222222222222"], ["222222222222"]),  # a per-owner slice
        ([], []),  # an owner without accounts sees none, never all
    ],
)
def test_the_account_filter_keeps_the_accounts_asked_for(warehouse: Any, wanted, kept):
    found = warehouse.execute(
        f"select account_id from {ACCOUNTS} where ka_in_accounts(account_id, $ids) order by 1",
        {"ids": wanted},
    ).fetchall()
    assert [a for (a,) in found] == kept


def test_the_account_filter_binds_as_one_condition_beside_others(warehouse: Any):
    """A macro is an expression, not pasted text: `x and ka_in_accounts(…)` never reads as
    `(x and ids is null) or …`."""
    found = warehouse.execute(
        f"select count(*) from {ACCOUNTS} where false and ka_in_accounts(account_id, $ids)",
        {"ids": None},
    ).fetchone()
    assert found == (0,)


def test_a_slice_of_evidence_keeps_the_run_level_files_and_its_own_accounts(demo_run):
    con = connect(demo_run.warehouse, read_only=True)
    every = con.execute("select account_id, path from evidence_files_for(null, null)").fetchall()
    account = next(a for a, _ in every if a is not None)
    sliced = con.execute(
        "select account_id, path from evidence_files_for(?, ?)", [demo_run.run_id, [account]]
    ).fetchall()
    assert {a for a, _ in sliced} == {None, account}
    assert sorted(sliced, key=str) == sorted(
        [(a, p) for a, p in every if a in (None, account)], key=str
    )
    saved = find_query("evidence_files")
    listed = con.execute(saved.sql, bind(saved, {})).fetchall()
    assert [(a, p) for a, p, *_ in listed] == sorted(every, key=lambda row: row[1])
    con.close()


def test_a_slice_of_input_files_keeps_the_files_no_account_was_found_for(warehouse: Any):
    add_run(warehouse, NEW, "2026-12-01 06:00:00Z")
    warehouse.execute(
        """insert into input_files (run_id, file_name, kind, status, account_id)
           values (?, 'a.csv', 'credential_report', 'assessed', '111111111111'),
                  (?, 'b.csv', 'credential_report', 'assessed', '222222222222'),
                  (?, 'notes.txt', 'ignored', 'ignored', null)""",
        [NEW, NEW, NEW],
    )
    files = "select file_name from input_files_for(null, ?) order by 1"
    assert warehouse.execute(files, [["222222222222"]]).fetchall() == [("b.csv",), ("notes.txt",)]
    assert len(warehouse.execute(files, [None]).fetchall()) == 3
