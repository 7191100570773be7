"""This run against earlier ones: the trend of the last runs, and what is new or resolved."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import duckdb
from markupsafe import Markup

from keyaudit.model import HEADLINE_SEVERITIES
from keyaudit.report.chart import TrendPoint, trend_svg
from keyaudit.report.formatting import severity_class, severity_sort_key, ts
from keyaudit.report.queries import rows

TREND_RUNS = 12
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def latest_run(con: duckdb.DuckDBPyConnection) -> str | None:
    """The run `keyaudit runs` lists first (latest as_of, then run id), or None when the
    warehouse holds none (or no schema yet)."""
    try:
        found = rows(con, "latest_run", {})
    except duckdb.CatalogException:
        return None
    return str(found[0]["run_id"]) if found else None


def _label(as_of: datetime) -> str:
    as_of = as_of.astimezone(UTC) if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    return f"{as_of.day:02d} {_MONTHS[as_of.month - 1]}\n{as_of.year}"


def chart_labels(recent: list[dict[str, Any]]) -> list[str]:
    """The chart's x labels: the date; with the time (UTC) when two runs share a date, and the
    run id's last part too when they share the minute, so no two bars carry the same label."""
    labels = [_label(r["as_of"]) for r in recent]
    dates = Counter(labels)
    for i, r in enumerate(recent):
        if dates[labels[i]] > 1:
            as_of = r["as_of"] if r["as_of"].tzinfo else r["as_of"].replace(tzinfo=UTC)
            day = labels[i].replace("\n", " ")
            labels[i] = f"{day}\n{as_of.astimezone(UTC):%H:%M} UTC"
    times = Counter(labels)
    for i, r in enumerate(recent):
        if times[labels[i]] > 1:
            labels[i] = f"{labels[i].removesuffix(' UTC')} …{str(r['run_id'])[-6:]}"
    return labels


def _days(value: float | None) -> float | int | None:
    if value is None:
        return None
    rounded = round(float(value), 1)
    return int(rounded) if rounded.is_integer() else rounded


def previous_run(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any] | None:
    """The previous finished run of the same scope ({"run_id", "as_of"}), or None: the first."""
    found = rows(con, "previous_run", {"run_id": run_id})
    if not found or not found[0]["previous_run_id"]:
        return None
    return {"run_id": found[0]["previous_run_id"], "as_of": found[0]["previous_as_of"]}


def trend(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    account_ids: list[str] | None,
) -> dict[str, Any]:
    """Open findings by severity and coverage for this run and up to 11 finished runs before it
    over the same audit scope (run_scopes)."""
    recent = rows(con, "trend_runs_in_scope", {"run_id": run_id, "limit": TREND_RUNS})
    recent.reverse()  # oldest first
    params = {"run_ids": [r["run_id"] for r in recent], "account_ids": account_ids}
    counts: dict[str, Counter[str]] = {r["run_id"]: Counter() for r in recent}
    for row in rows(con, "trend_open_findings", params):
        counts[row["run_id"]][row["severity"]] += row["count_open"]
    coverage = {r["run_id"]: r for r in rows(con, "trend_coverage", params)}
    shown = sorted(
        set(HEADLINE_SEVERITIES) | {s for c in counts.values() for s in c if c[s]},
        key=severity_sort_key,
    )
    runs = []
    for r in recent:
        by = counts[r["run_id"]]
        cov = coverage.get(r["run_id"], {})
        runs.append(
            {
                "run_id": r["run_id"],
                "as_of": ts(r["as_of"]),
                "is_current": r["run_id"] == run_id,
                "open_by_severity": [{"severity": s, "count": by[s]} for s in shown],
                "open": sum(by.values()),
                "assessed": cov.get("count_assessed", 0),
                "not_assessed": cov.get("count_not_assessed", 0),
            }
        )
    points = [
        TrendPoint(label, dict(counts[r["run_id"]]), r["run_id"] == run_id)
        for label, r in zip(chart_labels(recent), recent, strict=True)
    ]
    previous = previous_run(con, run_id)
    return {
        "runs": runs,
        "severities": [{"severity": s, "css": severity_class(s)} for s in shown],
        "chart_svg": Markup(trend_svg(points, shown)),  # noqa: S704 — built from counts and dates only
        "previous_run_id": previous["run_id"] if previous else None,
        "previous_as_of": ts(previous["as_of"]) if previous else None,
        "previous_as_of_raw": previous["as_of"] if previous else None,
    }


def _by_rule(found: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    return Counter({(r["rule_id"], r["severity"]): r["count_findings"] for r in found})


def changes(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    account_ids: list[str] | None,
    previous_run_id: str | None,
) -> dict[str, Any]:
    """New and resolved findings since the previous run, by severity, from the lifecycle views."""
    if previous_run_id is None:  # the first run of its scope: nothing is new or resolved yet
        return {"available": False, "note": "first run", "previous_run_id": None}
    params = {"run_id": run_id, "account_ids": account_ids}
    new = _by_rule(rows(con, "new_findings_by_rule", params))
    resolved = _by_rule(rows(con, "resolved_findings_by_rule", params))
    mttr = [
        {
            "severity": r["severity"],
            "css": severity_class(r["severity"]),
            "resolved": r["resolved_count"],
            "mean_days": _days(r["mean_days"]),
            "median_days": _days(r["median_days"]),
        }
        for r in sorted(
            rows(con, "remediation_by_severity", params),
            key=lambda r: severity_sort_key(r["severity"]),
        )
    ]
    keys = sorted(set(new) | set(resolved), key=lambda k: (severity_sort_key(k[1]), k[0]))
    severities = sorted({k[1] for k in keys} | set(HEADLINE_SEVERITIES), key=severity_sort_key)
    return {
        "available": True,
        "note": None,
        "previous_run_id": previous_run_id,
        "new": sum(new.values()),
        "resolved": sum(resolved.values()),
        "mttr": mttr,
        "by_severity": [
            {
                "severity": s,
                "css": severity_class(s),
                "new": sum(n for (_, sev), n in new.items() if sev == s),
                "resolved": sum(n for (_, sev), n in resolved.items() if sev == s),
            }
            for s in severities
        ],
        "by_rule": [
            {
                "rule_id": rule,
                "severity": sev,
                "css": severity_class(sev),
                "new": new[(rule, sev)],
                "resolved": resolved[(rule, sev)],
            }
            for rule, sev in keys
        ],
    }
