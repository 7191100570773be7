"""The marts (sql/marts: `keys`, `users`, `credentials`) as tables, built once per run when the run is loaded.

A mart file is one run's model: it reads the staging views `where run_id = $run_id`. Loading a
run inserts its rows; rules, views, saved queries and the report then read plain tables instead
of recomputing the keys mart's full outer join over every run of the warehouse for each query.
The tables take their shape from the files, and `mart_builds` records which SQL built them:
when sql/staging or sql/marts change, the next writer rebuilds every run's marts, so the marts
stay as current with the SQL files as views would.
"""

from __future__ import annotations

import hashlib

import duckdb

from keyaudit.paths import SQL_DIR

# In build order: users counts the keys of the keys mart.
MARTS = ("keys", "users", "credentials")
# What a mart is computed from; a change to any of these files rebuilds the marts.
MART_INPUTS = ("staging", "marts")


def mart_sql(name: str) -> str:
    return (SQL_DIR / "marts" / f"{name}.sql").read_text(encoding="utf-8")


def sql_sha256(folders: tuple[str, ...]) -> str:
    """One hash of the SQL files of `folders` (names included): what a build was made from."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted((SQL_DIR / folder).glob("*.sql")):
            digest.update(f"{folder}/{path.name}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def marts_sha256() -> str:
    """One hash of the SQL the marts are built from (staging and marts files, names included)."""
    return sql_sha256(MART_INPUTS)


def build_marts(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Replace the run's rows of every mart with what its staging rows give now."""
    for name in MARTS:
        # Names are the constants above; the body is the mart's file; run_id is bound.
        con.execute(f"delete from {name} where run_id = $run_id", {"run_id": run_id})
        con.execute(f"insert into {name} by name\n{mart_sql(name)}", {"run_id": run_id})


def refresh_marts(con: duckdb.DuckDBPyConnection) -> bool:
    """Create the mart tables, or rebuild them for every run when their SQL changed since they
    were built; True when it (re)built them. Needs the staging views and `mart_builds`."""
    wanted = marts_sha256()
    built = con.execute("select sql_sha256 from mart_builds").fetchall()
    if built == [(wanted,)]:
        return False
    con.execute("begin")
    try:
        for name in reversed(MARTS):
            con.execute(f"drop table if exists {name}")
        for name in MARTS:  # empty, typed as the file's columns (no run has a NULL id)
            con.execute(f"create table {name} as\n{mart_sql(name)}", {"run_id": None})
        runs = con.execute(
            "select run_id from credential_report union select run_id from access_keys "
            "order by run_id"
        ).fetchall()
        for (run_id,) in runs:
            build_marts(con, run_id)
        con.execute("delete from mart_builds")
        con.execute("insert into mart_builds (sql_sha256) values ($sha)", {"sha": wanted})
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return True
