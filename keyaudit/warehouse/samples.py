"""A sample an auditor can re-draw: a run's keys, findings or users ordered by SHA-256(seed ||
id), the first N, and the draw kept in the warehouse.

Why this selection: an external auditor tests a handful of items of a population and must be
able to show how they were picked. A hash of the auditor's seed and each item's id is a
documented, machine-independent order (no random generator, no platform), so anyone with the
seed and the run can draw the same items again — with the saved query in DuckDB, or in a few
lines of any language (docs/querying.md shows both). The draw itself (seed, size, population,
the ids, the files' hashes) is appended to `sample_draws` so the working papers can cite it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from keyaudit.model import KeyauditError
from keyaudit.textsafe import visible
from keyaudit.warehouse.saved_queries import find_query

if TYPE_CHECKING:
    import duckdb

KINDS = ("keys", "findings", "users")
MAX_SIZE = 10_000  # a sample for testing by hand; the whole population is `keyaudit query`
MAX_SEED = 200


class SampleError(KeyauditError, ValueError):
    """A sample cannot be drawn as asked; the message names the value and the fix."""


@dataclass(frozen=True)
class Sample:
    of: str
    seed: str
    size: int
    run_id: str
    population: int
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    @property
    def query_name(self) -> str:
        return query_name(self.of)

    @property
    def ids(self) -> list[str]:
        at = self.columns.index("sample_id")
        return [str(row[at]) for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def query_name(of: str) -> str:
    return f"sample_{of}"


def check_request(of: str, seed: str, size: int) -> None:
    """Refuse what cannot make a re-performable draw, before the warehouse is opened."""
    if of not in KINDS:
        raise SampleError(f"--of {visible(of)}: sample one of {', '.join(KINDS)}")
    if not seed.strip():
        raise SampleError("--seed is empty: give the text the auditor chose, e.g. --seed 2026-Q4")
    if len(seed) > MAX_SEED or not seed.isprintable():
        raise SampleError(
            f"--seed {visible(seed[:40])}: use up to {MAX_SEED} printable characters "
            "(the seed is written into the working papers)"
        )
    if not 1 <= size <= MAX_SIZE:
        raise SampleError(f"--size {size}: draw between 1 and {MAX_SIZE:,} items")


def _run_of(con: duckdb.DuckDBPyConnection, run_id: str | None) -> str:
    if run_id is None:
        found = con.execute(
            "select run_id from runs order by as_of desc, run_id desc limit 1"
        ).fetchone()
        if found is None:
            raise SampleError("the warehouse holds no run yet — `keyaudit run` first")
        return str(found[0])
    if con.execute("select 1 from runs where run_id = ?", [run_id]).fetchone() is None:
        raise SampleError(f"--run {visible(run_id)}: no such run — `keyaudit runs` lists them")
    return run_id


def draw(
    con: duckdb.DuckDBPyConnection, of: str, seed: str, size: int, run_id: str | None = None
) -> Sample:
    """The first `size` items of the run's population in the order of SHA-256(seed || id)."""
    check_request(of, seed, size)
    run = _run_of(con, run_id)
    query = find_query(query_name(of))
    cursor = con.execute(query.sql, {"seed": seed, "size": size, "run_id": run})
    columns = tuple(d[0] for d in cursor.description or ())
    rows = tuple(cursor.fetchall())
    # nothing drawn: the population is empty (or the run has nothing of this kind)
    population = int(rows[0][columns.index("population_size")]) if rows else 0
    return Sample(of, seed, size, run, population, columns, rows)


def record(
    con: duckdb.DuckDBPyConnection,
    sample: Sample,
    drawn_at: datetime,
    files: Mapping[str, str],
) -> None:
    """Append the draw to sample_draws (files: name -> SHA-256 of what was written)."""
    con.execute(
        "insert into sample_draws values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            sample.run_id,
            drawn_at,
            sample.of,
            sample.seed,
            sample.size,
            sample.population,
            len(sample.rows),
            sample.ids,
            sample.query_name,
            "; ".join(f"{name} {digest}" for name, digest in sorted(files.items())) or None,
        ],
    )
