"""Per-control results (CIS, Security Hub, AWS Config): pass or fail, evaluated and failing.

The warehouse's `control_results` view is the source when it exists and the report covers the
whole run. Otherwise (an older warehouse, or a per-owner slice, which the view cannot split)
results come from the rules' control mappings and this report's findings, and the number
evaluated is not known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from keyaudit.report.formatting import Relations
from keyaudit.report.queries import rows

FRAMEWORKS = {
    "cis_v1_4_to_v4_0": "CIS AWS Foundations v1.4–v4.0",
    "cis_v5_0": "CIS AWS Foundations v5.0",
    "cis_v6_0": "CIS AWS Foundations v6.0",
    "security_hub": "AWS Security Hub",
    "aws_config": "AWS Config",
    "keyaudit": "keyaudit internal controls",
}
SHORT = {
    "cis_v1_4_to_v4_0": "CIS v1.4–v4.0",
    "cis_v5_0": "CIS v5.0",
    "cis_v6_0": "CIS v6.0",
    "security_hub": "Security Hub",
    "aws_config": "AWS Config",
    "keyaudit": "keyaudit",
}
_ORDER = list(SHORT.values())  # the control_results view names frameworks by these labels


def _framework_key(framework: str) -> tuple[int, str]:
    return (_ORDER.index(framework) if framework in _ORDER else len(_ORDER), framework)


def _control_key(control_id: str) -> tuple[Any, ...]:
    """1.4 before 1.14; IAM.3 before IAM.22."""
    parts = control_id.replace(".", " ").replace("-", " ").split()
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def mappings(controls: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(framework, control id) pairs of one rule's `controls` mapping."""
    out: list[tuple[str, str]] = []
    for framework, value in (controls or {}).items():
        values = value if isinstance(value, list) else [value]
        out.extend((framework, str(v)) for v in values if v not in (None, ""))
    return out


def control_results(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    relations: Relations,
    sliced: bool,
    rules: Sequence[dict[str, Any]],
    open_by_rule: Mapping[str, int],
    waived_by_rule: Mapping[str, int],
) -> dict[str, Any]:
    """One row per control: its rules, evaluated, failing, and pass / fail / not evaluated."""
    wanted = ("run_id", "framework", "control_id", "rule_id", "evaluated", "failing", "passing")
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    if relations.has("control_results", *wanted) and not sliced:
        source = "warehouse"
        for r in rows(con, "control_results", {"run_id": run_id}):
            entry = grouped.setdefault(
                (r["framework"], r["control_id"]),
                {
                    "rules": [],
                    "evaluated": 0,
                    "failing": 0,
                    "waived": 0,
                    "enabled": True,
                    "populations": [],
                },
            )
            entry["rules"].append(r["rule_id"])
            entry["evaluated"] += r["evaluated"] or 0
            entry["failing"] += r["failing"] or 0
            entry["waived"] += (
                r["waived"] if "waived" in r else waived_by_rule.get(r["rule_id"], 0)
            ) or 0
            if r.get("population"):
                entry["populations"].append(r["population"])
    else:
        source = "findings"
        for rule in rules:
            for framework, control_id in mappings(rule["controls"]):
                entry = grouped.setdefault(
                    (SHORT.get(framework, framework), control_id),
                    {
                        "rules": [],
                        "evaluated": None,
                        "failing": 0,
                        "waived": 0,
                        "enabled": False,
                        "populations": [],
                    },
                )
                entry["rules"].append(rule["rule_id"])
                entry["enabled"] = entry["enabled"] or rule["enabled"]
                entry["failing"] += open_by_rule.get(rule["rule_id"], 0)
                entry["waived"] += waived_by_rule.get(rule["rule_id"], 0)
    results = []
    for (framework, control_id), entry in sorted(
        grouped.items(), key=lambda kv: (_framework_key(kv[0][0]), _control_key(kv[0][1]))
    ):
        result = "not evaluated" if not entry["enabled"] else "fail" if entry["failing"] else "pass"
        results.append(
            {
                "framework": framework,
                "short": f"{framework} {control_id}",
                "population": "; ".join(dict.fromkeys(entry["populations"])) or None,
                "control_id": control_id,
                "rules": sorted(set(entry["rules"])),
                "evaluated": entry["evaluated"],
                "failing": entry["failing"],
                "waived": entry["waived"],
                "result": result,
                "result_css": result.replace(" ", "-"),
            }
        )
    requirements = _requirements(results)
    return {
        "source": source,
        "rows": results,
        "requirements": requirements,
        "requirements_failing": sum(1 for r in requirements if r["result"] == "fail"),
        "failing": sum(1 for r in results if r["result"] == "fail"),
        "passing": sum(1 for r in results if r["result"] == "pass"),
    }


def _requirements(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Controls checked by the same rules with the same outcome share one row: one requirement
    as numbered by each framework (CIS 1.14 = CIS v5.0 1.13 = Security Hub IAM.3)."""
    grouped: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in results:
        key = (tuple(r["rules"]), r["evaluated"], r["failing"], r["waived"], r["result"])
        entry = grouped.setdefault(key, {**r, "controls": []})
        entry["controls"].append(r["short"])
    order = {"fail": 0, "pass": 1, "not evaluated": 2}
    return sorted(grouped.values(), key=lambda g: (order.get(g["result"], 3), g["rules"]))
