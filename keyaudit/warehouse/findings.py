"""Writing the findings: every enabled rule of the catalogue run against one run's marts.

What a rule is (its SQL, severity, parameters and mappings) is the catalogue's
(keyaudit.rules.catalogue); writing what it finds is the warehouse's, inside the load
transaction. The SQL is in sql/findings/, loaded by name: `rule_findings` wraps each rule's
query so that every finding gets the id that names the same key in every run.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from functools import cache
from typing import Any

import duckdb

from keyaudit.paths import SQL_DIR
from keyaudit.rules.catalogue import CatalogueError, Rule

FINDINGS_SQL = SQL_DIR / "findings"
_RULE_ROWS = "\nrule_rows_query\n"  # the line of rule_findings.sql the rule's query replaces


@cache
def findings_sql(name: str) -> str:
    """The text of sql/findings/<name>.sql."""
    return (FINDINGS_SQL / f"{name}.sql").read_text(encoding="utf-8")


def evaluate(
    con: duckdb.DuckDBPyConnection, run_id: str, as_of: datetime, rules: list[Rule]
) -> dict[str, int]:
    """Write the findings of every enabled rule for the run; returns counts per rule.

    Rules read the run's marts, which loading the run builds (keyaudit.warehouse.marts)."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    enabled = [rule for rule in rules if rule.enabled]
    if not enabled:
        return {}
    # The run's keys by each name a finding may give them (id, or report slot), with what names
    # them across runs: computed once here, not once per rule.
    con.execute(findings_sql("key_refs"), {"run_id": run_id})
    try:
        return {rule.rule_id: _evaluate_one(con, run_id, as_of, rule) for rule in enabled}
    finally:
        with contextlib.suppress(duckdb.Error):  # an aborted transaction keeps it till rollback
            con.execute("drop table if exists temp._run_key_refs")


def _insert(rule: Rule) -> str:
    """rule_findings.sql around the rule's query."""
    template = findings_sql("rule_findings")
    if _RULE_ROWS not in template:
        raise CatalogueError(
            f"{FINDINGS_SQL / 'rule_findings.sql'}: lacks the line rule_rows_query"
        )
    return template.replace(_RULE_ROWS, "\n" + rule.sql.rstrip().rstrip(";") + "\n", 1)


def _evaluate_one(con: duckdb.DuckDBPyConnection, run_id: str, as_of: datetime, rule: Rule) -> int:
    """Insert one rule's findings for the run; returns how many it found."""
    params: dict[str, Any] = {
        "run_id": run_id,
        "rule_id": rule.rule_id,
        "severity": rule.severity,
    }
    if "as_of" in rule.used_parameters:
        params["as_of"] = as_of
    params.update(rule.parameters)
    before = _findings_of(con, run_id)
    try:
        con.execute(_insert(rule), params)
    except duckdb.Error as exc:
        raise CatalogueError(f"{rule.sql_path.name}: {str(exc).splitlines()[0]}") from exc
    after = _findings_of(con, run_id)
    return int(after - before)


def _findings_of(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    row = con.execute("select count(*) from findings where run_id = ?", [run_id]).fetchone()
    return int(row[0]) if row else 0
