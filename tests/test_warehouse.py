"""The warehouse migrates once, opens read-only for readers, and refuses a second writer."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from keyaudit.warehouse.db import WarehouseError, connect, delete_run, migrate


def test_migrations_apply_once(tmp_path: Path):
    from keyaudit.paths import SQL_DIR

    files = sorted((SQL_DIR / "schema").glob("*.sql"))
    con = connect(tmp_path / "w.duckdb")
    assert migrate(con) == int(files[-1].name.split("_")[0])
    assert con.execute("select count(*) from schema_migrations").fetchone()[0] == len(files)
    con.close()
    connect(tmp_path / "w.duckdb").close()  # reopening applies nothing twice


def test_every_table_carries_run_id(warehouse):
    tables = [
        r[0]
        for r in warehouse.execute(
            "select table_name from information_schema.tables where table_type = 'BASE TABLE' "
            "and table_name != 'schema_migrations'"
        ).fetchall()
    ]
    for table in tables:
        columns = [r[0] for r in warehouse.execute(f"describe {table}").fetchall()]
        assert "run_id" in columns, table
    delete_run(warehouse, "nothing")  # every run table is known to delete_run


def test_reader_cannot_change_the_warehouse(tmp_path: Path):
    connect(tmp_path / "w.duckdb").close()
    reader = connect(tmp_path / "w.duckdb", read_only=True)
    with pytest.raises(duckdb.Error):
        reader.execute("delete from findings")
    reader.close()


def test_missing_warehouse_for_reading_says_how_to_make_one(tmp_path: Path):
    with pytest.raises(
        WarehouseError, match="does not exist — run `keyaudit demo` or `keyaudit run` first"
    ):
        connect(tmp_path / "absent.duckdb", read_only=True)


def test_warehouse_file_is_private(tmp_path: Path):
    connect(tmp_path / "w.duckdb").close()
    assert (tmp_path / "w.duckdb").stat().st_mode & 0o077 == 0
