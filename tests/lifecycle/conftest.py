"""Fixtures for waiver, lifecycle and control tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from lifecycle_given import History

from keyaudit.rules.catalogue import Rule, load_catalogue


@pytest.fixture(scope="session")
def catalogue() -> list[Rule]:
    return load_catalogue()


@pytest.fixture
def fresh_warehouse(migrated_template: Path, tmp_path: Path) -> Iterator[Any]:
    path = tmp_path / "keyaudit.duckdb"
    shutil.copyfile(migrated_template, path)
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")
    yield con
    con.close()


@pytest.fixture
def history(fresh_warehouse: Any) -> History:
    return History(fresh_warehouse)


@pytest.fixture
def waiver_file(tmp_path: Path):
    """Write a waiver file and return its path: waiver_file("- id: W-1\\n  ...")."""

    def write(text: str, name: str = "waivers.yml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
