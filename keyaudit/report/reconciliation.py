"""The report's "Completeness and accuracy" section, from the warehouse view `reconciliation`.

A run has a few lines about the run itself (the organization's listing, the accounts in scope),
shown one by one, and many per account, rule and requirement: a report of 1,000 accounts shows
each of those checks as its totals and lists every line that does not hold (up to
`LINES_SHOWN` per check; the view, `keyaudit query --file reconciliation` and the
reconciliation sheet of findings.xlsx have them all).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import duckdb

from keyaudit.report.queries import rows

# Lines that do not hold, listed per check in the HTML and the PDF; the rest are counted.
LINES_SHOWN = 100
RUN_CHECKS = ("accounts_listed", "accounts_in_scope")
# The checks counted per account, rule or requirement, in the section's order, with a title.
GROUPED_CHECKS = {
    "users_listed": "IAM users, per account: credential report = ListUsers",
    "access_keys_listed": "Access keys, per account: credential report = ListAccessKeys",
    "findings_of_rule": "Findings, per account and rule: each names a member of the rule's population",
    "requirement_population": "Requirements of every framework: population = passing + failing + waived + not evaluated",
}
RESULTS = ("holds", "does not hold", "not assessed", "not performed")


def completeness(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    account_ids: list[str] | None,
) -> dict[str, Any]:
    """The section's context: the run's own lines, each grouped check's totals with its lines
    that do not hold, and every line (for the workbook's reconciliation sheet)."""
    lines = rows(con, "reconciliation", {"run_id": run_id, "account_ids": account_ids})
    groups = []
    for check_id, title in GROUPED_CHECKS.items():
        mine = [line for line in lines if line["check_id"] == check_id]
        if mine:
            groups.append(_group(check_id, title, mine))
    return {
        "run_lines": [line for line in lines if line["check_id"] in RUN_CHECKS],
        "groups": groups,
        "lines": lines,
        "differences": sum(1 for line in lines if line["result"] == "does not hold"),
    }


def _group(check_id: str, title: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """One grouped check: how many lines of each result, the sums over the lines performed, and
    the lines that do not hold (the first LINES_SHOWN)."""
    results = Counter(line["result"] for line in lines)
    performed = [line for line in lines if line["expected"] is not None]
    differing = [line for line in lines if line["result"] == "does not hold"]
    return {
        "check_id": check_id,
        "title": title,
        "compares": lines[0]["compares"] if check_id != "requirement_population" else None,
        "count": len(lines),
        "results": {result: results.get(result, 0) for result in RESULTS},
        "expected": sum(line["expected"] for line in performed),
        "found": sum(line["found"] for line in performed),
        "holds": not differing,
        "differing": differing[:LINES_SHOWN],
        "more": max(len(differing) - LINES_SHOWN, 0),
        "query": lines[0]["run_query"],
    }
