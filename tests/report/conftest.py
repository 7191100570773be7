"""Report test fixtures: a fresh small warehouse per test (rows in report_rows.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from report_rows import make_warehouse


@pytest.fixture
def report_db(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = make_warehouse(tmp_path / "report.duckdb")
    yield con
    con.close()
