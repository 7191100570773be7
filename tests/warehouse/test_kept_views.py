"""Views kept per run as tables (keyaudit.warehouse.kept): each table holds exactly its view's
rows for the demo run, loaded as a run is, and the report's whole-run controls read from the
kept rows equal the same definition computed over every account of the run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from keyaudit.report.controls import control_results
from keyaudit.warehouse.db import RUN_TABLES, connect
from keyaudit.warehouse.kept import KEPT
from tests.runs import DemoRun


@pytest.fixture(scope="module")
def demo_warehouse(demo_run: DemoRun) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(demo_run.warehouse, read_only=True)
    yield con
    con.close()


def _rows(con: duckdb.DuckDBPyConnection, relation: str, run_id: str) -> list[tuple[Any, ...]]:
    found = con.execute(f"select * from {relation} where run_id = ?", [run_id]).fetchall()
    return sorted(found, key=repr)


@pytest.mark.parametrize(("table", "view"), sorted(KEPT.items()))
def test_each_kept_table_holds_its_views_rows_for_the_demo_run(
    demo_warehouse, demo_run, table, view
):
    kept = _rows(demo_warehouse, table, demo_run.run_id)
    # the demo run resolves nothing (tests/lifecycle/test_lifecycle_views.py keeps resolved
    # findings of runs loaded in every order)
    assert kept or table == "run_findings_resolved", f"{table} is empty for the demo run"
    assert kept == _rows(demo_warehouse, view, demo_run.run_id)
    columns = [r[0] for r in demo_warehouse.execute(f"describe {table}").fetchall()]
    assert columns == [r[0] for r in demo_warehouse.execute(f"describe {view}").fetchall()]


def test_each_kept_table_is_a_run_table_replaced_when_the_run_is_loaded_again():
    assert set(KEPT) <= set(RUN_TABLES)


def test_the_whole_runs_controls_equal_the_definition_over_all_its_accounts(
    demo_warehouse, demo_run
):
    """The whole run reads the kept rows; a slice calls the macros: with every account of the
    run the slice is the whole run, and both say the same."""
    accounts = [
        a
        for (a,) in demo_warehouse.execute(
            "select account_id from accounts where run_id = ? order by 1", [demo_run.run_id]
        ).fetchall()
    ]
    whole = control_results(demo_warehouse, demo_run.run_id, account_ids=None)
    sliced = control_results(demo_warehouse, demo_run.run_id, account_ids=accounts)
    assert whole["rows"] and whole == sliced
