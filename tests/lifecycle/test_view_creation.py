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


def test_each_view_is_created_once_after_what_it_reads(tmp_path, monkeypatch):
    """Files come in dependency order (a macro file before the views that call its macros, a
    name in a comment ignored), so no view fails to bind and is tried again: each binding of a
    deep view costs DuckDB a planning pass."""
    monkeypatch.setattr(
        keyaudit.warehouse.db,
        "SQL_DIR",
        sql_dir(
            tmp_path,
            {
                "a_top": "-- reads z_last through the macro, not a_top\n"
                "select n from scaled_for(3)",
                "_macros": "-- a_top calls it\n"
                "create or replace macro scaled_for(k) as table select n * k as n from z_last",
                "z_last": "-- not a_top\nselect 7 as n",
            },
        ),
    )
    created: list[str] = []
    real = duckdb.DuckDBPyConnection.execute
    con = duckdb.connect()

    class Counting:
        def execute(self, query: str, *args: object) -> object:
            created.append(query.split("\n", 1)[0])
            return real(con, query, *args)

    create_views(Counting())  # type: ignore[arg-type]
    assert created == [
        "create or replace view z_last as",
        "-- a_top calls it",
        "create or replace view a_top as",
    ]
    assert con.execute("select n from a_top").fetchall() == [(21,)]


def test_the_auditor_views_are_ordered_after_every_view_and_macro_they_read():
    from keyaudit.warehouse.db import _dependency_order, _sql_files

    for folder in keyaudit.warehouse.db.VIEW_FOLDERS:
        files = _sql_files(folder)
        ordered = _dependency_order(files)
        assert sorted(ordered) == sorted(files)
        position = {path.stem: i for i, path in enumerate(ordered)}
        for path in ordered:
            text = path.read_text(encoding="utf-8")
            for other, i in position.items():
                if not other.startswith("_") and f"from {other}\n" in text and other != path.stem:
                    assert i < position[path.stem], f"{path.name} reads {other} before it exists"


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
