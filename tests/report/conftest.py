"""Report test fixtures. The given warehouse (report_rows.py) is built once per session; each
test that changes it gets its own copy, and read-only tests share one rendered context."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from report_rows import RULES, RUN_ID, make_warehouse, open_copy

from keyaudit.report import ReportContext, build_report_context, render_html


@pytest.fixture(scope="session")
def warehouse_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report-template") / "report.duckdb"
    make_warehouse(path).close()
    return path


@pytest.fixture(scope="session")
def big_warehouse_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The given warehouse with 230 more findings in one account: past every page and limit."""
    path = tmp_path_factory.mktemp("report-big") / "report.duckdb"
    make_warehouse(path, extra_findings=230).close()
    return path


@pytest.fixture
def report_db(warehouse_file: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A private copy of the given warehouse: the test may change it."""
    con = open_copy(warehouse_file, tmp_path)
    yield con
    con.close()


@pytest.fixture(scope="module")
def shared_db(
    warehouse_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A copy shared by a module's tests: never change it."""
    con = open_copy(warehouse_file, tmp_path_factory.mktemp("report-shared"))
    yield con
    con.close()


@pytest.fixture(scope="module")
def shared_context(shared_db: duckdb.DuckDBPyConnection) -> ReportContext:
    return build_report_context(shared_db, RUN_ID, rules=RULES)


@pytest.fixture(scope="module")
def shared_html(shared_context: ReportContext) -> str:
    return render_html(shared_context)
