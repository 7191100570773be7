"""The SQL macros of sql/staging/_macros.sql that saved queries, report queries and table macros
share: which run a question is about, and which accounts."""

from __future__ import annotations

from typing import Any

import pytest

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
