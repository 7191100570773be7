"""The report's access review section: how much of the run's review population was decided,
what is still undecided, whether the previous reviewed run's "deactivate" decisions were carried
out, and the sign-offs.

A run's own report is rendered (and hashed) before anyone reviews or signs it, so in that report
the review is "not reviewed yet" and the run "not signed off". Both show where they can without
changing a run's files: in a report rendered later (`keyaudit report --run RUN`, a view beside
the run's own) and, for the previous run, in the next run's report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from keyaudit.report.formatting import ts
from keyaudit.report.queries import arrow_table, rows
from keyaudit.warehouse.reviews import DECISIONS

if TYPE_CHECKING:
    import duckdb

UNDECIDED_SHOWN = 200  # the undecided keys listed; the count is always whole


def review_section(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    previous_run_id: str | None,
    account_ids: list[str] | None,
) -> dict[str, Any]:
    """The review of `run_id` (of its `account_ids` when a slice), its sign-offs, and the
    previous run's sign-offs and deactivations followed up."""

    def mine(row: Mapping[str, Any]) -> bool:
        return account_ids is None or row["account_id"] in account_ids

    population = _population(con, run_id, account_ids)
    refs = set(population.column("key_ref").to_pylist())
    decided = {
        r["key_ref"]: r for r in rows(con, "review_decisions", {"run_id": run_id}) if mine(r)
    }
    counts = Counter(d["decision"] for k, d in decided.items() if k in refs)
    undecided = population.filter(
        pc.invert(pc.is_in(population.column("key_ref"), pa.array(list(decided), pa.string())))
    )
    follow_up = [r for r in rows(con, "review_follow_up", {"run_id": run_id}) if mine(r)]
    return {
        "available": True,
        "population": population.num_rows,
        "by_decision": {d: counts.get(d, 0) for d in DECISIONS},
        "reviewed": sum(counts.values()),
        "undecided_count": undecided.num_rows,
        "undecided": [_key(r) for r in undecided.slice(0, UNDECIDED_SHOWN).to_pylist()],
        "imports": [
            {**i, "imported_at": ts(i["imported_at"])}
            for i in rows(con, "review_imports", {"run_id": run_id})
        ],
        "sign_offs": _sign_offs(con, run_id),
        "previous": _previous(con, previous_run_id),
        "follow_up": {
            "run_id": follow_up[0]["reviewed_run_id"] if follow_up else None,
            "rows": follow_up,
            "carried_out": sum(1 for r in follow_up if r["is_carried_out"]),
        },
    }


def _population(
    con: duckdb.DuckDBPyConnection, run_id: str, account_ids: list[str] | None
) -> pa.Table:
    """The run's review population (of `account_ids` when given) as an Arrow table, in the
    query's order: the section counts it and lists a few keys, and 150,000 keys of a
    1,000-account run made Python rows took as long as the query."""
    table: pa.Table = arrow_table(con, "review_population", {"run_id": run_id})
    if account_ids is None:
        return table
    return table.filter(pc.is_in(table.column("account_id"), pa.array(account_ids, pa.string())))


def _key(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "key_ref": row["key_ref"],
        "account_id": row["account_id"],
        "user_name": row["user_name"],
        "privilege": row["privilege"],
        "findings": ", ".join(row["rule_ids"]),
    }


def _sign_offs(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    return [
        {**s, "signed_at": ts(s["signed_at"])} for s in rows(con, "sign_offs", {"run_id": run_id})
    ]


def _previous(con: duckdb.DuckDBPyConnection, run_id: str | None) -> dict[str, Any] | None:
    """The previous run's review in numbers and its sign-offs, for the next run's report."""
    if run_id is None:
        return None
    decided = rows(con, "review_decisions", {"run_id": run_id})
    return {
        "run_id": run_id,
        "population": _population(con, run_id, None).num_rows,
        "reviewed": len(decided),
        "sign_offs": _sign_offs(con, run_id),
    }
