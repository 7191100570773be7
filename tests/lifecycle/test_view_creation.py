"""Views are created whatever the order of their file names; a view that cannot be created is
named with its file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import keyaudit.warehouse.db
from keyaudit.warehouse.db import WarehouseError, create_views


def sql_dir(tmp_path: Path, views: dict[str, str]) -> Path:
    for folder in keyaudit.warehouse.db.VIEW_FOLDERS:
        (tmp_path / folder).mkdir()
    for name, body in views.items():
        (tmp_path / "views" / f"{name}.sql").write_text(body)
    return tmp_path


def test_a_view_may_read_a_view_whose_file_sorts_after_it(tmp_path, monkeypatch):
    monkeypatch.setattr(
        keyaudit.warehouse.db,
        "SQL_DIR",
        sql_dir(
            tmp_path,
            {
                "a_top": "with b_middle as (select * from b_middle) select n + 1 as n from b_middle",
                "b_middle": "select n * 10 as n from c_base",
                "c_base": "select 4 as n",
            },
        ),
    )
    con = duckdb.connect()
    create_views(con)
    assert con.execute("select n from a_top").fetchall() == [(41,)]


def test_a_view_that_cannot_be_created_is_named_with_its_file(tmp_path, monkeypatch):
    monkeypatch.setattr(
        keyaudit.warehouse.db,
        "SQL_DIR",
        sql_dir(tmp_path, {"good": "select 1 as n", "broken": "select * from no_such_table"}),
    )
    with pytest.raises(
        WarehouseError, match=r"^views/broken\.sql: Catalog Error: Table with name no_such_table"
    ):
        create_views(duckdb.connect())


def test_a_writer_keeps_views_made_from_the_same_sql_and_remakes_a_dropped_one(
    tmp_path, monkeypatch
):
    made: list[tuple[str, ...]] = []
    real = keyaudit.warehouse.db.create_views
    monkeypatch.setattr(
        keyaudit.warehouse.db,
        "create_views",
        lambda con, folders: made.append(folders) or real(con, folders),
    )
    path = tmp_path / "w" / "keyaudit.duckdb"
    keyaudit.warehouse.db.connect(path).close()
    assert made == [("staging",), ("views",)]

    made.clear()
    keyaudit.warehouse.db.connect(path).close()
    assert made == []  # same SQL, every view there: nothing is bound again

    con = keyaudit.warehouse.db.connect(path)
    con.execute("drop view findings_open")
    con.close()
    made.clear()
    con = keyaudit.warehouse.db.connect(path)
    assert made == [("staging",), ("views",)]
    assert con.execute("select count(*) from findings_open").fetchone() == (0,)
    con.close()


def test_a_writer_remakes_the_views_when_their_sql_changed(tmp_path, monkeypatch):
    path = tmp_path / "w" / "keyaudit.duckdb"
    keyaudit.warehouse.db.connect(path).close()
    monkeypatch.setattr(keyaudit.warehouse.db, "sql_sha256", lambda folders: "changed")
    made: list[tuple[str, ...]] = []
    real = keyaudit.warehouse.db.create_views
    monkeypatch.setattr(
        keyaudit.warehouse.db,
        "create_views",
        lambda con, folders: made.append(folders) or real(con, folders),
    )
    con = keyaudit.warehouse.db.connect(path)
    assert made == [("staging",), ("views",)]
    assert con.execute("select sql_sha256 from view_builds").fetchall() == [("changed",)]
    con.close()
