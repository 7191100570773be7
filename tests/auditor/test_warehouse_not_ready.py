"""The reading commands (`query`, `runs`, `report`, `verify`) on a --db that is no keyaudit
warehouse yet, no file at all, or a warehouse behind this keyaudit's migrations: one line on
stderr naming it and what to do, exit 2, and never a wait. A run that crashed before its first load leaves a DuckDB file without tables; a FIFO or a
device given as --db must not be opened (DuckDB would wait on a FIFO for a writer forever).

Each command runs on a thread the test waits on for a bounded time: a command that hangs fails
its test (its FIFO is then opened from the other end, so the thread ends too)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from click.testing import Result
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.warehouse import db as warehouse_db

runner = CliRunner()
WAIT_SECONDS = 60  # a refusal takes well under a second; only a hang gets near this
POINT_AT_ONE = "point --db at a keyaudit warehouse (data/keyaudit.duckdb by default)"
COMMANDS = {
    "query": ["query", "select 1"],
    "runs": ["runs"],
    "report": ["report", "--run", "20261201T060000Z-aaaaaa"],
    "verify": ["verify", "20261201T060000Z-aaaaaa"],
}


def no_tables(folder: Path) -> Path:
    """What a run that died before its first load leaves: a DuckDB file with no tables."""
    path = folder / "keyaudit.duckdb"
    duckdb.connect(str(path)).close()
    return path


def behind(folder: Path) -> Path:
    """A warehouse made by this keyaudit whose latest migration is not recorded as applied, as
    one made by an older keyaudit would be."""
    path = folder / "keyaudit.duckdb"
    con = warehouse_db.connect(path)
    con.execute("delete from schema_migrations where version = ?", [LATEST])
    con.close()
    return path


LATEST = warehouse_db.schema_version()
BEHIND = max(v for v in warehouse_db._migrations() if v < LATEST)


def zero_bytes(folder: Path) -> Path:
    path = folder / "keyaudit.duckdb"
    path.touch()
    return path


def not_duckdb(folder: Path) -> Path:
    path = folder / "keyaudit.duckdb"
    path.write_text("account_id,user\n", encoding="utf-8")
    return path


def fifo(folder: Path) -> Path:
    path = folder / "keyaudit.duckdb"
    os.mkfifo(path)
    return path


def device(folder: Path) -> Path:
    return Path(os.devnull)


def a_folder(folder: Path) -> Path:
    path = folder / "warehouse"
    path.mkdir()
    return path


KINDS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "no tables": (
        no_tables,
        "has no keyaudit tables: no run was ever loaded into it — run `keyaudit run` first, "
        f"or {POINT_AT_ONE}",
    ),
    "zero bytes": (
        zero_bytes,
        "is empty (0 bytes): no run was ever loaded into it — run `keyaudit run` first, "
        f"or {POINT_AT_ONE}",
    ),
    "behind": (
        behind,
        f"is at schema version {BEHIND}, this keyaudit needs {LATEST} — run any write command "
        "(e.g. keyaudit run) to migrate",
    ),
    "not DuckDB": (not_duckdb, f"is not a DuckDB database — {POINT_AT_ONE}"),
    "FIFO": (fifo, f"is not a regular file (a FIFO) — {POINT_AT_ONE}"),
    "device": (device, f"is not a regular file (a character device) — {POINT_AT_ONE}"),
    "folder": (a_folder, "is a folder, not a DuckDB file — give a file name, e.g. --db {db}"),
}


def invoke_without_waiting_forever(args: list[str], db: Path) -> Result:
    """`keyaudit ARGS --db DB` on a thread; a hang fails the test instead of blocking it."""
    finished: list[Result] = []
    worker = threading.Thread(
        target=lambda: finished.append(runner.invoke(app, [*args, "--db", str(db)])),
        daemon=True,
    )
    worker.start()
    worker.join(WAIT_SECONDS)
    if worker.is_alive():
        if db.is_fifo():  # let the waiting open return, so the thread ends
            with contextlib.suppress(OSError):  # no reader waits on it after all
                os.close(os.open(db, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"keyaudit {' '.join(args)} waited on {db} for {WAIT_SECONDS} s")
    return finished[0]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_reading_command_refuses_a_warehouse_it_cannot_read_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, kind: str
):
    monkeypatch.chdir(tmp_path)
    make, says = KINDS[kind]
    db = make(tmp_path)
    before = sorted(tmp_path.rglob("*"))

    result = invoke_without_waiting_forever(COMMANDS[command], db)

    assert result.exit_code == 2, result.output
    expected = says.format(db=db / "keyaudit.duckdb")
    assert result.stderr == f"keyaudit: error: warehouse {db} {expected}\n"
    assert result.stdout == ""
    assert sorted(tmp_path.rglob("*")) == before  # nothing created beside it (no .wal, no report)


def test_a_warehouse_missing_an_earlier_migration_is_at_the_version_before_it(tmp_path: Path):
    path = tmp_path / "keyaudit.duckdb"
    con = warehouse_db.connect(path)
    con.execute("delete from schema_migrations where version = 2")
    con.close()
    with pytest.raises(warehouse_db.OutdatedWarehouse) as refused:
        warehouse_db.connect(path, read_only=True)
    assert f"is at schema version 1, this keyaudit needs {LATEST}" in str(refused.value)


def test_the_schema_check_costs_one_query(tmp_path: Path):
    path = tmp_path / "keyaudit.duckdb"
    warehouse_db.connect(path).close()
    con = duckdb.connect(str(path), read_only=True)
    sent: list[str] = []

    class Counting:
        def execute(self, sql: str, *args: object) -> duckdb.DuckDBPyConnection:
            sent.append(sql)
            return con.execute(sql, *args)

    try:
        warehouse_db._check_schema(Counting(), path)  # type: ignore[arg-type]
    finally:
        con.close()
    assert len(sent) == 1
