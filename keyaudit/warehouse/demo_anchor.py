"""Where `keyaudit demo` anchors its simulated organization: the as_of of the warehouse's first
demo run.

The demo builds its organization relative to an instant. Built anew at each run's as_of, every
key would get a new creation time each run and the change tracking would call every finding
resolved and new again. Built at the first demo run's as_of, and aged from there with the
demo's own monthly changes (keyaudit.sources.demo.changes), the same key keeps one id and one
creation time in every run of the warehouse. The anchor is a fact the warehouse already holds:
nothing is stored beside it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from keyaudit.model import KeyauditError
from keyaudit.paths import SQL_DIR
from keyaudit.warehouse.db import OutdatedWarehouse, connect


class DemoAnchorError(KeyauditError, ValueError):
    """A demo run asked for an instant before its warehouse's simulated organization existed."""


def first_demo_as_of(warehouse: Path | str) -> datetime | None:
    """The as_of of the warehouse's first demo run; None without one (or without a warehouse
    keyaudit can read now: the run itself then says what is wrong with it)."""
    if not Path(warehouse).is_file():
        return None
    try:
        try:
            con = connect(warehouse, read_only=True)
        except OutdatedWarehouse:  # the demo run writes to it anyway: migrate it now
            con = connect(warehouse)
    except (KeyauditError, duckdb.Error):
        return None
    try:
        sql = (SQL_DIR / "summary" / "demo_anchor.sql").read_text(encoding="utf-8")
        row = con.execute(sql).fetchone()
    except duckdb.Error:  # no runs table yet: nothing was ever loaded
        return None
    finally:
        con.close()
    found = row[0] if row else None
    return found.astimezone(UTC) if isinstance(found, datetime) else None


def demo_anchor(warehouse: Path | str, as_of: datetime) -> datetime:
    """The instant a demo run at `as_of` builds its organization at: the first demo run's as_of,
    or `as_of` itself for the warehouse's first. An earlier as_of is refused in one line: the
    organization did not exist yet, and building it anew would re-date every key."""
    first = first_demo_as_of(warehouse)
    if first is None or first == as_of:
        return as_of
    if as_of < first:
        raise DemoAnchorError(
            f"warehouse {warehouse} audits a simulated organization first audited as of "
            f"{first.isoformat()}; --as-of {as_of.isoformat()} is earlier — give "
            f"--as-of {first.isoformat()} or later, or another --db for an earlier demo"
        )
    return first
