"""The rule catalogue in force, stored with each run (table `run_rules`).

Severities, parameters and control mappings change over time; storing them per run lets the
control view and a re-rendered report of a past month use that month's rules.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from keyaudit.rules.catalogue import Rule
from keyaudit.warehouse.db import insert_frame


def run_rules_frame(run_id: str, rules: list[Rule]) -> pd.DataFrame:
    """One row per rule of the catalogue, enabled or not, as `run_rules` stores it."""
    return pd.DataFrame(
        [
            {
                "run_id": run_id,
                "rule_id": rule.rule_id,
                "title": rule.title,
                "severity": rule.severity,
                "scope": rule.scope,
                "enabled": rule.enabled,
                "controls": json.dumps(rule.controls.model_dump(mode="json"), sort_keys=True),
                "parameters": json.dumps(rule.parameters, sort_keys=True),
                "rationale": rule.rationale,
                "remediation": rule.remediation,
                "command": rule.command,
            }
            for rule in rules
        ],
        columns=[
            "run_id", "rule_id", "title", "severity", "scope", "enabled", "controls",
            "parameters", "rationale", "remediation", "command",
        ],
    )  # fmt: skip


def record_run_rules(con: duckdb.DuckDBPyConnection, run_id: str, rules: list[Rule]) -> int:
    """Replace the run's rows in `run_rules`; call inside the load transaction."""
    con.execute("delete from run_rules where run_id = ?", [run_id])
    return insert_frame(con, "run_rules", run_rules_frame(run_id, rules))
