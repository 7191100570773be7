"""Per-control results (every framework of keyaudit.frameworks): pass, fail or not
evaluated, and the population evaluated per kind of resource.

The warehouse's `control_results_for` macro is the source of the result, over the whole run or a
per-owner slice of accounts, with the same definition as the `control_results` view;
`control_populations_for` gives each control's keys, users, root users and accounts evaluated,
failing and waived, each resource counted once and never added across kinds. The whole run's
rows are the views' as kept when the run was loaded (keyaudit.warehouse.kept: planning the
macros costs a quarter of a second on any run); a slice calls the macros with its accounts.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import duckdb

from keyaudit.frameworks import BASIS, BY_SHORT, Framework, control_title
from keyaudit.frameworks import FRAMEWORKS as REGISTRY
from keyaudit.report.queries import rows
from keyaudit.words import plural

# From the one registry (keyaudit/frameworks.py): display names and the labels by which the
# control_results view names frameworks, in the registry's order.
FRAMEWORKS = {f.key: f.name for f in REGISTRY}
SHORT = {f.key: f.short for f in REGISTRY}
_ORDER = list(SHORT.values())
# The kinds of resource a population counts (rule_population_kinds.kind), in the order shown.
KINDS = ("key", "user", "root user", "account")


def _framework_key(framework: str) -> tuple[int, str]:
    return (_ORDER.index(framework) if framework in _ORDER else len(_ORDER), framework)


def _control_key(control_id: str) -> tuple[Any, ...]:
    """1.4 before 1.14; IAM.3 before IAM.22; IA-2(1) before IA-5."""
    parts = control_id.translate(str.maketrans(".-()", "    ")).split()
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
    account_ids: list[str] | None,
) -> dict[str, Any]:
    """One row per control of every framework: its rules, its populations (per kind: evaluated,
    failing, waived), and pass / fail / not evaluated (`restrict` keeps some frameworks).

    The result never says more than the evidence: a control none of whose rules was evaluated
    in an account of the report is NOT EVALUATED, and a pass that holds for only some of the
    accounts in scope says so ("pass in 8 of 9 accounts; 1 not assessed").
    """
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    # the whole run: the views' rows kept at load; a slice: the macros over its accounts
    whole = account_ids is None
    params: dict[str, Any] = (
        {"run_id": run_id} if whole else {"run_id": run_id, "account_ids": account_ids}
    )
    results_query = "control_results" if whole else "control_results_of_accounts"
    populations_query = "control_populations" if whole else "control_populations_of_accounts"
    for r in rows(con, results_query, params):
        entry = grouped.setdefault((r["framework"], r["control_id"]), _entry())
        entry["rules"].append(r["rule_id"])
        entry["failing"] += r["failing"] or 0
        entry["accounts_in_scope"] = r["accounts_in_scope"]
        # every rule of the control must have judged an account for it to count there
        entry["accounts_evaluated"] = min(entry["accounts_evaluated"], r["accounts_evaluated"])
        entry["accounts_not_assessed"] = r["accounts_not_assessed"]
        entry["any_evaluated"] = entry["any_evaluated"] or r["result"] != "not evaluated"
        entry["by_population"].setdefault(
            r.get("population") or r["rule_id"],
            {"population": r.get("population"), "evaluated": r["evaluated"]},
        )
    for p in rows(con, populations_query, params):
        found = grouped.get((p["framework"], p["control_id"]))
        if found is not None:
            found["populations"].append(_population(p["kind"], p))
    for entry in grouped.values():
        if not entry["populations"]:  # each population once, as evaluated
            entry["populations"] = [_population(None, r) for r in entry["by_population"].values()]
    results = []
    for (framework, control_id), entry in sorted(
        grouped.items(), key=lambda kv: (_framework_key(kv[0][0]), _control_key(kv[0][1]))
    ):
        result = (
            "fail"
            if entry["failing"]
            else "pass"
            if entry["any_evaluated"] and entry["accounts_evaluated"]
            else "not evaluated"
        )
        populations = sorted(entry["populations"], key=_kind_key)
        spec = BY_SHORT.get(framework)
        results.append(
            {
                "framework": framework,
                "short": f"{framework} {control_id}",
                "control_id": control_id,
                "title": control_title(spec.key, control_id) if spec else None,
                "rules": sorted(set(entry["rules"])),
                "populations": populations,
                "result": result,
                "result_css": result.replace(" ", "-"),
                "accounts_in_scope": entry["accounts_in_scope"],
                "accounts_evaluated": entry["accounts_evaluated"],
                "qualifier": _qualifier(result, entry),
            }
        )
    return _summary(results)


def restrict(controls: Mapping[str, Any], frameworks: Collection[str]) -> dict[str, Any]:
    """The control results of only these frameworks (labels, e.g. "CIS v5.0"), regrouped."""
    return _summary([r for r in controls["rows"] if r["framework"] in frameworks])


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    requirements = _requirements(results)
    return {
        "rows": results,
        "requirements": requirements,
        "requirements_failing": sum(1 for r in requirements if r["result"] == "fail"),
        "requirements_not_evaluated": sum(
            1 for r in requirements if r["result"] == "not evaluated"
        ),
        "failing": sum(1 for r in results if r["result"] == "fail"),
        "passing": sum(1 for r in results if r["result"] == "pass"),
        "not_evaluated": sum(1 for r in results if r["result"] == "not evaluated"),
    }


def _entry() -> dict[str, Any]:
    return {
        "rules": [],
        "failing": 0,  # failing resources over the control's rules: only whether any fail
        "populations": [],
        "by_population": {},
        "accounts_in_scope": 0,
        "accounts_evaluated": 2**63,
        "accounts_not_assessed": 0,
        "any_evaluated": False,
    }


def _population(kind: str | None, row: Mapping[str, Any]) -> dict[str, Any]:
    """One kind of resource a control evaluated: how many, failing and waived, and the words for
    them ("88 keys"); never added to another kind's figures. A figure the warehouse does not give
    is None (kind None: a control whose populations control_populations does not give)."""
    noun = kind or "resource"

    def words(count: int | None) -> str | None:
        return None if count is None else f"{count:,} {plural(noun, count)}"

    evaluated, failing, waived = (row.get(k) for k in ("evaluated", "failing", "waived"))
    passing = None
    if evaluated is not None and failing is not None and waived is not None:
        passing = max(evaluated - failing - waived, 0)
    return {
        "kind": kind,
        "population": row.get("population"),
        "evaluated": evaluated,
        "failing": failing,
        "waived": waived,
        "passing": passing,
        "evaluated_words": words(evaluated),
        "failing_words": words(failing),
        "waived_words": words(waived),
    }


def _kind_key(population: Mapping[str, Any]) -> tuple[int, str]:
    kind = population["kind"]
    return (KINDS.index(kind) if kind in KINDS else len(KINDS), population["population"] or "")


def _qualifier(result: str, entry: Mapping[str, Any]) -> str | None:
    """How far a result reaches when not every account in scope was evaluated."""
    in_scope, evaluated = entry["accounts_in_scope"], entry["accounts_evaluated"]
    if result == "fail" or not in_scope or evaluated >= in_scope:
        return None
    missing = in_scope - evaluated
    # not-assessed accounts, or assessed ones that lack the evidence the rule needs
    why = "not assessed" if missing <= entry["accounts_not_assessed"] else "not evaluated"
    if result == "not evaluated":
        return f"{missing} {why}" if missing < in_scope else f"no account {why.split()[-1]}"
    return f"pass in {evaluated} of {in_scope} {_accounts(in_scope)}; {missing} {why}"


def _accounts(n: int) -> str:
    return "account" if n == 1 else "accounts"


def _requirements(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Controls checked by the same rules with the same outcome share one row: one requirement
    as numbered by each framework (CIS 1.14 = CIS v5.0 1.13 = Security Hub IAM.3)."""
    grouped: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in results:
        key = (
            tuple(r["rules"]),
            tuple((p["kind"], p["evaluated"], p["failing"], p["waived"]) for p in r["populations"]),
            r["result"],
            r["qualifier"],
        )
        entry = grouped.setdefault(key, {**r, "controls": []})
        entry["controls"].append(r["short"])
    order = {"fail": 0, "pass": 1, "not evaluated": 2}
    return sorted(grouped.values(), key=lambda g: (order.get(g["result"], 3), g["rules"]))


def framework_view(
    framework: Framework,
    controls: Mapping[str, Any],
    *,
    account_rule_counts: Sequence[Mapping[str, Any]],
    rule_info: Mapping[str, Mapping[str, Any]],
    accounts: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """One framework's requirements, each with its result (never more than the evidence: the
    control view's), its evidence (population evaluated, accounts evaluated of those in scope)
    and its findings: open and waived per rule, and the accounts holding them (anchors into the
    report's account sections)."""
    names = {a["account_id"]: a.get("name") for a in accounts}
    by_rule: dict[str, list[Mapping[str, Any]]] = {}
    for c in account_rule_counts:
        by_rule.setdefault(c["rule_id"], []).append(c)
    requirements = []
    for row in controls["rows"]:
        if row["framework"] != framework.short:
            continue
        rules = []
        for rule_id in row["rules"]:
            per_account: dict[str, dict[str, Any]] = {}
            for c in by_rule.get(rule_id, []):
                entry = per_account.setdefault(
                    c["account_id"],
                    {"account_id": c["account_id"], "name": names.get(c["account_id"]), "open": 0},
                )
                entry["open"] += c["count_open"] or 0
            rules.append(
                {
                    "rule_id": rule_id,
                    "title": (rule_info.get(rule_id) or {}).get("title"),
                    "open": sum(c["count_open"] or 0 for c in by_rule.get(rule_id, [])),
                    "waived": sum(c["count_waived"] or 0 for c in by_rule.get(rule_id, [])),
                    "accounts": sorted(
                        (a for a in per_account.values() if a["open"]),
                        key=lambda a: (-a["open"], a["account_id"]),
                    ),
                }
            )
        requirements.append(
            {
                **row,
                "basis": BASIS.get(framework.key, {}).get(row["control_id"]),
                "rule_findings": rules,
            }
        )
    return {
        "key": framework.key,
        "name": framework.name,
        "short": framework.short,
        "source": framework.source,
        "requirements": requirements,
        "failing": sum(1 for r in requirements if r["result"] == "fail"),
        "passing": sum(1 for r in requirements if r["result"] == "pass"),
        "not_evaluated": sum(1 for r in requirements if r["result"] == "not evaluated"),
    }
