"""The warehouse migrates once, opens read-only for readers, and refuses a second writer."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import duckdb
import pytest

import keyaudit.warehouse.marts
from keyaudit.config import Config, ConfigError, load_config
from keyaudit.paths import SQL_DIR
from keyaudit.warehouse.db import (
    WarehouseError,
    check_warehouse,
    connect,
    delete_run,
    migrate,
    storage_version,
)
from keyaudit.warehouse.marts import build_marts
from tests.runs import write_config


def test_migrations_apply_once(tmp_path: Path):
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
            "and table_name not in ('schema_migrations', 'mart_builds', 'view_builds')"  # bookkeeping
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


# --- the marts: tables built per run -------------------------------------------------------------

CREATED = "2026-01-02T03:04:05+00:00"


def given_run(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """One IAM user with one key, in the credential report and from the API (raw rows)."""
    con.execute(
        """insert into credential_report (run_id, account_id, line_number, "user", arn,
               access_key_1_active, access_key_1_last_rotated, access_key_1_last_used_date,
               access_key_2_last_rotated)
           values ($run_id, '111122223333', 2, 'alice', 'arn:aws:iam::111122223333:user/alice',
               'true', $created, 'N/A', 'N/A')""",
        {"run_id": run_id, "created": CREATED},
    )
    con.execute(
        """insert into access_keys (run_id, account_id, user_name, access_key_id, status,
               create_date, last_used_service)
           values ($run_id, '111122223333', 'alice', 'AKIAALICE', 'Active', $created, 'N/A')""",
        {"run_id": run_id, "created": CREATED},
    )


def mart_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select 'keys', run_id, access_key_id, key_slot, source from keys union all "
        "select 'users', run_id, user_name, count_keys, null from users order by all"
    ).fetchall()


def test_building_a_run_marts_replaces_its_rows_and_leaves_other_runs(warehouse):
    for run_id in ("r1", "r2"):
        given_run(warehouse, run_id)
        build_marts(warehouse, run_id)
    build_marts(warehouse, "r1")  # again: replaced, not doubled
    assert mart_rows(warehouse) == [
        ("keys", "r1", "AKIAALICE", 1, "report+api"),
        ("keys", "r2", "AKIAALICE", 1, "report+api"),
        ("users", "r1", "alice", 1, None),
        ("users", "r2", "alice", 1, None),
    ]
    delete_run(warehouse, "r1")
    assert [row[1] for row in mart_rows(warehouse)] == ["r2", "r2"]


def test_a_warehouse_whose_marts_were_views_gets_tables_with_every_run(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    given_run(con, "r1")
    # as a warehouse of version 3 was: marts as views, no mart_builds
    con.execute("drop table users; drop table keys; drop table mart_builds")
    con.execute("create view keys as select 'r1' as run_id")
    con.execute("create view users as select 'r1' as run_id")
    con.execute("delete from schema_migrations where version = 4")
    con.close()
    con = connect(path)
    kinds = dict(
        con.execute(
            "select table_name, table_type from information_schema.tables "
            "where table_name in ('keys', 'users')"
        ).fetchall()
    )
    assert kinds == {"keys": "BASE TABLE", "users": "BASE TABLE"}
    assert mart_rows(con) == [
        ("keys", "r1", "AKIAALICE", 1, "report+api"),
        ("users", "r1", "alice", 1, None),
    ]
    con.close()


def test_mart_tables_follow_their_sql_files(tmp_path: Path, monkeypatch):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    given_run(con, "r1")
    build_marts(con, "r1")
    con.close()
    con = connect(path)  # the same SQL: kept as built
    assert con.execute("select count(*) from keys").fetchone() == (1,)
    con.close()
    sql = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql)
    keys_sql = sql / "marts" / "keys.sql"
    keys_sql.write_text(
        keys_sql.read_text().replace(
            "select * from final", "select *, true as is_new_column from final"
        )
    )
    monkeypatch.setattr(keyaudit.warehouse.marts, "SQL_DIR", sql)
    con = connect(path)  # rebuilt for every run, in the new shape
    assert con.execute("select run_id, is_new_column from keys").fetchall() == [("r1", True)]
    con.close()


# --- a wrong --db is refused before anything runs ------------------------------------------------

_GIVE = "give --db a DuckDB file keyaudit made, or a new file name in a writable folder"


def test_a_text_file_as_warehouse_is_refused_naming_it(tmp_path: Path):
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database\n")
    with pytest.raises(WarehouseError) as raised:
        check_warehouse(text)
    assert str(raised.value) == f"warehouse {text} is not a DuckDB database — {_GIVE}"
    assert text.read_text() == "not a database\n"


def test_an_empty_file_as_warehouse_is_refused(tmp_path: Path):
    (tmp_path / "empty.duckdb").touch()
    with pytest.raises(WarehouseError, match="is not a DuckDB database"):
        check_warehouse(tmp_path / "empty.duckdb")


def test_a_folder_as_warehouse_is_refused_with_a_file_name_to_use(tmp_path: Path):
    with pytest.raises(WarehouseError) as raised:
        check_warehouse(tmp_path)
    assert str(raised.value) == (
        f"warehouse {tmp_path} is a folder, not a DuckDB file — give a file name, e.g. "
        f"--db {tmp_path / 'keyaudit.duckdb'}"
    )


def test_a_warehouse_under_a_file_is_refused(tmp_path: Path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(WarehouseError) as raised:
        check_warehouse(tmp_path / "file" / "sub" / "w.duckdb")
    assert str(raised.value) == (
        f"warehouse {tmp_path / 'file' / 'sub' / 'w.duckdb'} cannot be created: "
        f"{tmp_path / 'file'} is not a folder — {_GIVE}"
    )


def test_a_warehouse_in_an_unwritable_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    # what chmod 0555 does, for root too (CI runs as root)
    monkeypatch.setattr(os, "access", lambda p, m: Path(p) != locked and real_access(p, m))
    with pytest.raises(WarehouseError) as raised:
        check_warehouse(locked / "new" / "w.duckdb")
    assert str(raised.value) == (
        f"warehouse {locked / 'new' / 'w.duckdb'} cannot be created: folder {locked} is not "
        "writable — fix its permissions or use another --db"
    )


def test_a_read_only_warehouse_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    connect(tmp_path / "w.duckdb").close()
    monkeypatch.setattr(os, "access", lambda p, m: not (m & os.W_OK))
    with pytest.raises(WarehouseError, match=r"is read-only — give its owner write permission"):
        check_warehouse(tmp_path / "w.duckdb")


def test_a_new_or_existing_warehouse_passes_and_nothing_is_created(tmp_path: Path):
    check_warehouse(tmp_path / "new" / "w.duckdb")
    assert list(tmp_path.iterdir()) == []
    connect(tmp_path / "w.duckdb").close()
    check_warehouse(tmp_path / "w.duckdb")


def test_the_warehouse_check_costs_little(tmp_path: Path):
    connect(tmp_path / "w.duckdb").close()
    started = time.perf_counter()
    for _ in range(100):
        check_warehouse(tmp_path / "w.duckdb")
    assert (time.perf_counter() - started) / 100 < 0.005  # a header read, not an open (~60 ms)


def test_a_run_with_a_bad_warehouse_stops_before_collecting(tmp_path: Path):
    from keyaudit.pipeline import AuditRequest, check_request

    text = tmp_path / "w.duckdb"
    text.write_text("hello\n")
    request = AuditRequest(
        source="aws",
        db=text,
        config_file=write_config(tmp_path / "keyaudit.toml", data_dir=tmp_path),
    )
    with pytest.raises(WarehouseError, match=f"warehouse {text} is not a DuckDB database"):
        check_request(request)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keyaudit.toml", "w.duckdb"]


# -------------------------------------------------------------- storage version (issue 14.5)
# DuckDB 1.4 reads database files whose header says storage version 64..67; DuckDB 2.x writes a
# newer one unless told otherwise (scripts/check_duckdb_compat.sh proves the rest in DuckDB 1.4).
DUCKDB_1_4_READS = range(64, 68)


def _header_version(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[12:20], "little")


def test_new_warehouse_is_written_in_a_storage_version_duckdb_1_4_reads(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    assert storage_version(con) == "v1.4.0+"
    con.close()
    assert _header_version(path) in DUCKDB_1_4_READS


def test_new_warehouse_is_written_in_the_configured_storage_version(tmp_path: Path):
    con = connect(tmp_path / "w.duckdb", storage_version="v1.5.0")
    assert storage_version(con) == "v1.5.0+"
    con.close()


def test_reopening_keeps_the_storage_version_of_the_file(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    connect(path).close()
    con = connect(path, storage_version="latest")  # a writer asking for newer: the file stays
    con.execute("checkpoint")
    assert storage_version(con) == "v1.4.0+"
    con.close()
    assert _header_version(path) in DUCKDB_1_4_READS
    reader = connect(path, read_only=True)
    assert storage_version(reader) == "v1.4.0+"
    reader.close()


def test_newer_format_warehouse_is_kept_and_named_with_the_way_to_convert_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    path = tmp_path / "w.duckdb"
    con = connect(path, storage_version="latest")
    newer = storage_version(con)
    con.close()
    if newer == "v1.4.0+":
        pytest.skip(f"DuckDB {duckdb.__version__} writes v1.4.0 storage by default")
    with caplog.at_level("WARNING", logger="keyaudit.warehouse"):
        con = connect(path)  # the default v1.4.0 does not downgrade an existing file
    assert storage_version(con) == newer
    con.close()
    [record] = [r for r in caplog.records if r.name == "keyaudit.warehouse"]
    assert "\n" not in record.getMessage()
    assert "docs/querying.md" in record.getMessage()
    assert newer in record.getMessage()


def test_unknown_storage_version_is_refused_in_one_line_and_creates_nothing(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    with pytest.raises(WarehouseError, match=r"\[warehouse\] storage_version = 'v9\.9\.9'") as err:
        connect(path, storage_version="v9.9.9")
    assert "\n" not in str(err.value)
    assert not path.exists()


@pytest.mark.parametrize("value", ["1.4.0", "v1.4", "newest", "v1.4.0 "])
def test_storage_version_setting_must_name_a_duckdb_release(value: str):
    with pytest.raises(ConfigError, match=r"warehouse\.storage_version .*'v1\.4\.0'"):
        load_config(environ={"KEYAUDIT_WAREHOUSE__STORAGE_VERSION": value})
    assert Config().warehouse.storage_version == "v1.4.0"


def test_audit_writes_the_warehouse_in_the_default_storage_version(demo_run):
    con = connect(demo_run.warehouse, read_only=True)
    assert storage_version(con) == "v1.4.0+"
    con.close()
