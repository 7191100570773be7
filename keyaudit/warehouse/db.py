"""The DuckDB warehouse: connect, migrate, (re)create views, and replace a run atomically.

DuckDB allows one writing process per file; a second writer gets a clear message instead of a
lock error. Every table carries run_id, and loading a run id again replaces it in one
transaction, so a run is never half loaded and never duplicated.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from keyaudit.config import DEFAULT_STORAGE_VERSION
from keyaudit.model import KeyauditError
from keyaudit.paths import SQL_DIR
from keyaudit.safefile import FILE_MODE, make_private_dir, others_can_write, owner_only_if_ours
from keyaudit.warehouse.kept import KEPT, keep_views
from keyaudit.warehouse.marts import MARTS, refresh_marts, sql_sha256

if TYPE_CHECKING:  # pandas costs a second to import; `keyaudit query` never needs it
    import pandas as pd

log = logging.getLogger("keyaudit.warehouse")

RUN_TABLES = (
    *KEPT,
    "remediation_plan",
    *reversed(MARTS),
    "input_files",
    "api_calls",
    "findings",
    "waivers",
    "run_rules",
    "evidence",
    "run_signatures",
    "run_notes",
    "iam_user_privilege",
    "iam_user_privilege_inputs",
    "iam_user_policies",
    "owner_tags",
    "iam_credentials",
    "access_keys",
    "credential_report",
    "accounts",
    "runs",
    "listed_users",
)
# Plain views; the marts between them are tables (keyaudit.warehouse.marts).
VIEW_FOLDERS = ("staging", "views")


class WarehouseError(KeyauditError, RuntimeError):
    """The warehouse cannot be opened or written; the message says why and what to do."""


_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file
_GIVE_A_FILE = "give --db a DuckDB file keyaudit made, or a new file name in a writable folder"
_POINT_AT_ONE = "point --db at a keyaudit warehouse (data/keyaudit.duckdb by default)"


class EmptyWarehouse(WarehouseError):
    """The file is there but holds no keyaudit tables: a run stopped before its first load."""


def check_warehouse(path: Path | str) -> None:
    """Refuse, in one line, a warehouse path that cannot be written: a folder, a file that is not
    a DuckDB database, a read-only file, a folder that cannot be created or one another user can
    write in. Reads 12 bytes at most and creates nothing; the first run of an audit calls it
    before collecting."""
    path = Path(path)
    try:
        header = _header(path, _GIVE_A_FILE)
    except (FileNotFoundError, NotADirectoryError):
        _check_creatable(path)
        return
    if header[8:12] != _DUCKDB_MAGIC:
        raise WarehouseError(f"warehouse {path} is not a DuckDB database — {_GIVE_A_FILE}")
    if not os.access(path, os.R_OK | os.W_OK):
        raise WarehouseError(
            f"warehouse {path} is read-only — give its owner write permission (chmod u+w), or "
            "use another --db"
        )
    check_folder(path)


def _check_readable(path: Path) -> None:
    """An existing warehouse to read: a regular DuckDB file, checked before DuckDB opens it
    (DuckDB would wait forever on a FIFO and answer a text file with an IO Error)."""
    try:
        header = _header(path, _POINT_AT_ONE)
    except (FileNotFoundError, NotADirectoryError):
        raise WarehouseError(
            f"warehouse {path} does not exist — run `keyaudit demo` or `keyaudit run` first"
        ) from None
    if not header:
        raise EmptyWarehouse(
            f"warehouse {path} is empty (0 bytes): no run was ever loaded into it — run "
            f"`keyaudit run` first, or {_POINT_AT_ONE}"
        )
    if header[8:12] != _DUCKDB_MAGIC:
        raise WarehouseError(f"warehouse {path} is not a DuckDB database — {_POINT_AT_ONE}")


class OutdatedWarehouse(WarehouseError):
    """The warehouse lacks migrations this keyaudit has: a reader would query tables and views
    that are not there yet. Any writer migrates it (the reader never does: it opens read-only)."""


def schema_version() -> int:
    """The schema version this keyaudit writes: its latest migration (sql/schema/NNNN_*.sql)."""
    return max(_migrations())


@lru_cache(maxsize=1)
def _migrations() -> frozenset[int]:
    return frozenset(int(p.name.split("_", 1)[0]) for p in _sql_files("schema"))


def _check_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """In one query, refuse a warehouse a reader cannot read: a DuckDB file without keyaudit's
    tables (a run that stopped before its first load, or another program's database), or one
    whose applied migrations are behind this keyaudit's. The report and the other readers then
    never ask whether a table or column is there: every one of this version is."""
    try:
        found = con.execute("select list(version) from schema_migrations").fetchone()
    except duckdb.CatalogException:
        found = None
    applied = set(found[0] or ()) if found else set()
    if not applied:
        raise EmptyWarehouse(
            f"warehouse {path} has no keyaudit tables: no run was ever loaded into it — run "
            f"`keyaudit run` first, or {_POINT_AT_ONE}"
        )
    missing = _migrations() - applied
    if missing:
        # the version it is at: the last one before the first migration it lacks
        at = max((v for v in applied if v < min(missing)), default=0)
        raise OutdatedWarehouse(
            f"warehouse {path} is at schema version {at}, this keyaudit needs "
            f"{schema_version()} — run any write command (e.g. keyaudit run) to migrate"
        )


_NOT_REGULAR = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _header(path: Path, fix: str) -> bytes:
    """The first 12 bytes of the file at `path`, never blocking: a folder, FIFO, device or
    socket is refused by its type first, and the read itself is non-blocking. A missing path
    raises FileNotFoundError (or NotADirectoryError) for the caller to decide."""
    where = f"warehouse {path}"
    try:
        facts = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise
    except OSError as exc:
        raise WarehouseError(
            f"{where} cannot be read ({exc.strerror}) — fix its permissions or use another --db"
        ) from None
    if stat.S_ISDIR(facts.st_mode):
        raise WarehouseError(
            f"{where} is a folder, not a DuckDB file — give a file name, e.g. "
            f"--db {path / 'keyaudit.duckdb'}"
        )
    if not stat.S_ISREG(facts.st_mode):
        kind = _NOT_REGULAR.get(stat.S_IFMT(facts.st_mode))
        raise WarehouseError(f"{where} is not a regular file{f' ({kind})' if kind else ''} — {fix}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped since the stat above
                raise WarehouseError(f"{where} is not a regular file — {fix}")
            return os.read(fd, 12)
        finally:
            os.close(fd)
    except OSError as exc:
        raise WarehouseError(
            f"{where} cannot be read ({exc.strerror}) — fix its permissions or use another --db"
        ) from None


def check_folder(path: Path) -> None:
    """Refuse a warehouse whose folder another user can write in: DuckDB opens the warehouse and
    its `.wal` by name, so a link planted there would redirect its writes to any file."""
    folder = path.absolute().parent
    why = others_can_write(folder)
    if why is not None:
        raise WarehouseError(
            f"warehouse {path} is in folder {folder}, where another user could plant a link "
            f"for DuckDB to write through: {why} — keep the warehouse in a folder only you can "
            "write (e.g. chmod go-w), or use another --db"
        )


def _check_creatable(path: Path) -> None:
    """A new warehouse: its nearest existing folder must let keyaudit create the rest."""
    existing = next(p for p in path.absolute().parents if os.path.lexists(p))
    where = f"warehouse {path} cannot be created"
    if not existing.is_dir():
        raise WarehouseError(f"{where}: {existing} is not a folder — {_GIVE_A_FILE}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise WarehouseError(
            f"{where}: folder {existing} is not writable — fix its permissions or use another --db"
        )
    if existing == path.absolute().parent:
        check_folder(path)  # a folder keyaudit creates is its own; one that exists may not be


def connect(
    path: Path | str, *, read_only: bool = False, storage_version: str = DEFAULT_STORAGE_VERSION
) -> duckdb.DuckDBPyConnection:
    """Open (and for writers, migrate) the warehouse in UTC.

    A writer creating the file creates it in `storage_version` (the oldest DuckDB release that
    must read it; [warehouse] storage_version). An existing file keeps the format it has: DuckDB
    never changes the storage version of a file it opens, and neither does keyaudit.
    """
    path = Path(path)
    if read_only:
        _check_readable(path)
    config: dict[str, str | bool | int | float | list[str]] = {}
    new = not read_only and not os.path.lexists(path)
    if not read_only:
        make_private_dir(path.parent)
        check_folder(path)
        config["storage_compatibility_version"] = storage_version
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.InvalidInputException as exc:
        if "storage_compatibility_version" not in config or "version string" not in str(exc):
            raise
        raise WarehouseError(
            f"[warehouse] storage_version = {storage_version!r} is not a release DuckDB "
            f"{duckdb.__version__} knows — use e.g. {DEFAULT_STORAGE_VERSION!r}, or 'latest'"
        ) from None
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseError(
                f"warehouse {path} is in use by another keyaudit process (DuckDB allows one writer)"
                " — wait for that run to finish, or use another --db"
            ) from None
        raise WarehouseError(f"cannot open warehouse {path}: {exc}") from None
    con.execute("set TimeZone = 'UTC'")
    if read_only:
        try:
            _check_schema(con, path)
        except WarehouseError:
            con.close()
            raise
    else:
        _warn_if_newer_format(con, path, storage_version)
        if new:  # DuckDB made it with the process umask; a file it did not make keeps its mode
            owner_only_if_ours(path, FILE_MODE)
        migrate(con)
    return con


def storage_version(con: duckdb.DuckDBPyConnection) -> str:
    """The storage format of the open warehouse as DuckDB tags it, e.g. 'v1.4.0+'."""
    row = con.execute(
        "select tags['storage_version'] from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    return str(row[0]) if row and row[0] else "unknown"


def _release(version: str) -> tuple[int, ...] | None:
    numbers = version.removeprefix("v").rstrip("+").split(".")
    return tuple(int(n) for n in numbers) if all(n.isdigit() for n in numbers) else None


def _warn_if_newer_format(con: duckdb.DuckDBPyConnection, path: Path, wanted: str) -> None:
    """A file made in a newer format than configured stays so; say it once per writer."""
    have, want = _release(storage_version(con)), _release(wanted)
    if have and want and have > want:
        log.warning(
            "warehouse %s is in DuckDB storage format %s, which DuckDB clients older than %s "
            "cannot open ([warehouse] storage_version = %s applies to new files only) — to convert "
            "it, see docs/querying.md, 'Other DuckDB clients'",
            path,
            storage_version(con),
            ".".join(map(str, have[:2])),
            wanted,
        )


def _sql_files(folder: str) -> list[Path]:
    return sorted((SQL_DIR / folder).glob("*.sql"))


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply numbered migrations not applied yet, recreate every view and bring the mart tables
    and the kept reconciliation up to date with their SQL; returns the version."""
    con.execute(
        "create table if not exists schema_migrations (version integer primary key, name varchar, applied_at timestamptz default current_timestamp)"
    )
    applied = {row[0] for row in con.execute("select version from schema_migrations").fetchall()}
    version = max(applied, default=0)
    migrated = False
    for path in _sql_files("schema"):
        number = int(path.name.split("_", 1)[0])
        if number in applied:
            continue
        con.execute("begin")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute(
                "insert into schema_migrations (version, name) values (?, ?)", [number, path.name]
            )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        version = number
        migrated = True
    wanted = sql_sha256(VIEW_FOLDERS)
    if not migrated and _views_built_from(con, wanted):
        if refresh_marts(con):  # the mart SQL changed: the views read new tables
            create_views(con, ("views",))
            _keep_views_again(con)
        return version
    create_views(con, ("staging",))
    refresh_marts(con)  # read staging; read by the auditor views
    create_views(con, ("views",))
    _keep_views_again(con)
    con.execute("delete from view_builds")
    con.execute("insert into view_builds values (?)", [wanted])
    return version


def _keep_views_again(con: duckdb.DuckDBPyConnection) -> None:
    """The views were made again (new SQL, or a migration): keep every run's rows of the kept
    views (keyaudit.warehouse.kept) as the new views give them, so a table never says what its
    view would not. A warehouse without runs skips it (planning them costs most of a second)."""
    found = con.execute("select exists (select 1 from runs)").fetchone()
    if not (found and found[0]):
        return
    with transaction(con):
        keep_views(con)


def _views_built_from(con: duckdb.DuckDBPyConnection, sql_sha256: str) -> bool:
    """Whether every view of the SQL files is there, built from these very files.

    Creating the 40-odd views binds each one, about half a second on this machine and more for
    every connection of a run; a writer that finds them made from the same SQL, by a keyaudit
    whose migrations were all applied already, keeps them (a view someone dropped is made again).
    """
    if con.execute("select sql_sha256 from view_builds").fetchall() != [(sql_sha256,)]:
        return False
    wanted = {p.stem for folder in VIEW_FOLDERS for p in _sql_files(folder) if p.stem[0] != "_"}
    found = con.execute(
        "select count(*) from duckdb_views() where not internal and list_contains(?, view_name)",
        [sorted(wanted)],
    ).fetchone()
    return found is not None and found[0] == len(wanted)


def create_views(con: duckdb.DuckDBPyConnection, folders: tuple[str, ...] = VIEW_FOLDERS) -> None:
    """Staging and auditor views are plain views: always current with the SQL files.

    DuckDB binds a view when it is created, so a view that reads another view of the same folder
    must come after it: the files are taken in `_dependency_order`, and one that still fails
    to bind is retried after the others, so file names need not follow dependencies.
    """
    for folder in folders:
        pending = _dependency_order(_sql_files(folder))
        while pending:
            failed: list[tuple[Path, duckdb.Error]] = []
            for path in pending:
                name = path.stem
                body = path.read_text(encoding="utf-8")
                try:
                    if name.startswith("_"):
                        con.execute(body)  # macros and helpers
                    else:
                        con.execute(f"create or replace view {name} as\n{body}")
                except (duckdb.CatalogException, duckdb.BinderException) as exc:
                    failed.append((path, exc))
            if len(failed) == len(pending):
                first, error = failed[0]
                raise WarehouseError(f"{first.relative_to(SQL_DIR)}: {error}") from error
            pending = [path for path, _ in failed]


def _dependency_order(paths: list[Path]) -> list[Path]:
    """The files with each one after the files that define what its SQL names: a view file
    defines its stem, a macro file (`_name.sql`) the macros it creates. Creating the 39 auditor
    views in name order failed to bind 48 times before each found what it reads, about half of
    the cost of making a new warehouse. Comments are left out; a name in a string only moves a
    file later; a cycle, or a dependency missed, falls back to create_views' retry.
    """
    texts = {path: _COMMENT.sub("", path.read_text(encoding="utf-8")) for path in paths}
    defined_by: dict[str, Path] = {}
    for path, text in texts.items():
        if path.stem.startswith("_"):
            for name in _MACRO_NAME.findall(text):
                defined_by[name.lower()] = path
        else:
            defined_by[path.stem.lower()] = path
    needs = {
        path: {
            defined_by[word]
            for word in {w.lower() for w in _WORD.findall(text)}
            if word in defined_by and defined_by[word] != path
        }
        for path, text in texts.items()
    }
    ordered: list[Path] = []
    placed: set[Path] = set()
    visiting: set[Path] = set()

    def place(path: Path) -> None:
        if path in placed or path in visiting:
            return
        visiting.add(path)
        for other in sorted(needs[path]):
            place(other)
        visiting.discard(path)
        placed.add(path)
        ordered.append(path)

    for path in paths:
        place(path)
    return ordered


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMMENT = re.compile(r"--[^\n]*")
_MACRO_NAME = re.compile(
    r"create\s+(?:or\s+replace\s+)?(?:temp\s+|temporary\s+)?(?:macro|function)\s+([A-Za-z_][A-Za-z0-9_]*)",
    re.IGNORECASE,
)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("begin")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def delete_run(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    for table in RUN_TABLES:
        con.execute(f"delete from {table} where run_id = ?", [run_id])


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Bulk insert by column name (never row by row)."""
    if frame.empty:
        return 0
    con.register("_keyaudit_frame", frame)
    try:
        con.execute(f"insert into {table} by name select * from _keyaudit_frame")
    finally:
        con.unregister("_keyaudit_frame")
    return len(frame)
