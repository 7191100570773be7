"""Finding rows with their key's facts: the capped detail of the report, the data of the HTML
findings explorer, and the stream the exports write."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import duckdb

from keyaudit.report.formatting import SEVERITIES
from keyaudit.report.queries import execute, rows, sql
from keyaudit.rules.commands import PLACEHOLDERS, audit_role, template_parts

LIFECYCLE = ("run_id", "finding_id", "first_seen_as_of", "days_open", "is_new")
# Past this many characters the explorer's JSON is deflated and base64-encoded in the page
# (about 8 times smaller; the browser inflates it with DecompressionStream, offline).
EXPLORER_INLINE_LIMIT = 2_000_000

# Column order of one explorer row (sql/report/explorer_rows.sql); explorer.js reads rows by
# these positions. severity, rule and account are indexes into the payload's lists of them.
EXPLORER_COLUMNS = (
    "severity",
    "rule",
    "account",
    "user_name",
    "key",
    "age_days",
    "last_used",
    "reason",
    "waived",
    "waiver_id",
    "is_new",
    "finding_id",
)


def _run_role(con: duckdb.DuckDBPyConnection, run_id: str) -> str | None:
    """The role the run assumed in member accounts, from its recorded configuration."""
    found = rows(con, "run", {"run_id": run_id})
    return audit_role(found[0]["config_json"]) if found else None


def _params(run_id: str, account_ids: list[str] | None, with_lifecycle: bool) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "account_ids": account_ids,
        "severities": list(SEVERITIES),
        "with_lifecycle": with_lifecycle,
    }


def detail_rows(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    account_ids: list[str] | None,
    account_order: list[str],
    per_account: int,
    total: int,
    with_lifecycle: bool,
) -> list[dict[str, Any]]:
    """The first `per_account` findings of each account, accounts in report order, `total` at most."""
    execute(con, "finding_keys")  # each finding's key, on this connection
    params = {
        **_params(run_id, account_ids, with_lifecycle),
        "account_order": account_order,
        "per_account": per_account,
        "total": total,
    }
    cursor = execute(con, "finding_rows", params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def explorer_data(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    account_ids: list[str] | None,
    severities: Sequence[str],
    rules: Sequence[tuple[str, str | None]],
    accounts: Sequence[tuple[str, str | None]],
    with_lifecycle: bool,
) -> dict[str, str]:
    """Every finding of the report for the HTML explorer, safe inside a <script> element:
    {"encoding": "json" or "deflate-base64", "text": ...}. Rows are JSON arrays, one per
    finding, built by DuckDB; severities, rules and accounts are indexes into their lists."""
    execute(con, "finding_keys")  # each finding's key, on this connection
    params = {
        **_params(run_id, account_ids, with_lifecycle),
        "explorer_severities": list(severities),
        "explorer_rules": [r for r, _ in rules],
        "explorer_accounts": [a for a, _ in accounts],
    }
    rows = execute(con, "explorer_rows", params).fetchall()
    text = (
        '{"columns":'
        + json.dumps(list(EXPLORER_COLUMNS))
        + ',"severities":'
        + json.dumps(list(severities))
        + ',"rules":'
        + json.dumps([list(r) for r in rules], ensure_ascii=False)
        + ',"accounts":'
        + json.dumps([list(a) for a in accounts], ensure_ascii=False)
        + ',"rows":['
        + ",".join(row[0] for row in rows)
        + "]}"
    )
    del rows
    if len(text) > EXPLORER_INLINE_LIMIT:
        packed = zlib.compress(
            text.encode("utf-8"), 1
        )  # fast: level 6 takes 3x longer for 20 % less
        return {"encoding": "deflate-base64", "text": base64.b64encode(packed).decode("ascii")}
    # Inside <script>, "</script>" or "<!--" in the data would end or confuse the element.
    return {
        "encoding": "json",
        "text": text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"),
    }


def iter_records(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    account_ids: list[str] | None,
    with_lifecycle: bool = True,
    batch: int = 5000,
) -> Iterator[dict[str, Any]]:
    """Every finding of the report with its key's facts and the run's audit role (`audit_role`,
    for the remediation command), by account, in bounded memory."""
    cursor = con.cursor()  # a private cursor: callers may query `con` while this streams
    with contextlib.suppress(duckdb.Error):
        execute(cursor, "session")
    role = _run_role(cursor, run_id)
    execute(cursor, "finding_keys")  # each finding's key, on this cursor
    params = {
        **_params(run_id, account_ids, with_lifecycle),
        "account_order": [],
        "per_account": None,
        "total": None,
    }
    execute(cursor, "finding_rows", params)
    columns = [d[0] for d in cursor.description]
    while chunk := cursor.fetchmany(batch):
        for row in chunk:
            record = dict(zip(columns, row, strict=True))
            record["audit_role"] = role
            yield record
    cursor.close()


def _used(query: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters `query` names ($name): DuckDB refuses a value the query does not use."""
    names = set(_PARAMETER.findall(query))
    return {k: v for k, v in params.items() if k in names}


_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def export_lines(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    fmt: str,
    *,
    account_ids: list[str] | None,
    as_of_iso: str,
    accounts: Sequence[Mapping[str, Any]],
    rules: Mapping[str, Mapping[str, Any]],
    batch: int = 20_000,
) -> Iterator[str]:
    """Every finding of the report as one line of findings.csv (CRLF included) or one object of
    findings.json ($format "csv" or "json"), formatted by DuckDB (sql/report/export_lines.sql),
    `batch` lines joined into each string yielded: the exports at disk speed, where a row dict
    and its formatting in Python cost about 50 µs a finding. `accounts` and `rules` are the
    report context's (their names, owners, titles and command templates)."""
    cursor = con.cursor()  # a private cursor: callers may query `con` while this streams
    with contextlib.suppress(duckdb.Error):
        execute(cursor, "session")
    role = _run_role(cursor, run_id)
    execute(cursor, "finding_keys")  # each finding's key, on this cursor
    execute(cursor, "export_macros")
    by_account = {a["account_id"]: a for a in accounts}  # the last of an id, as a dict keeps it
    templates = {r: template_parts(rule.get("command")) for r, rule in rules.items()}
    params = {
        **_params(run_id, account_ids, with_lifecycle=True),
        "account_order": [],
        "per_account": None,
        "total": None,
        "format": fmt,
        "as_of_iso": as_of_iso,
        "role": role,
        "export_account_ids": list(by_account),
        "account_names": [a.get("name") for a in by_account.values()],
        "account_owners": [a.get("owner") for a in by_account.values()],
        "account_ou_paths": [a.get("ou_path") for a in by_account.values()],
        "rule_ids": list(rules),
        "rule_titles": [rule.get("title") for rule in rules.values()],
        "rule_parts": [t[0] if t else None for t in templates.values()],
        "rule_names": [t[1] if t else None for t in templates.values()],
        "rule_words": [
            [PLACEHOLDERS.get(n, n) for n in t[1]] if t else None for t in templates.values()
        ],
    }
    # finding_rows.sql is the one definition of which findings and facts: the export's lines
    # are formatted from it, registered on this cursor, its values bound, as a temporary view
    # (nothing is created in the warehouse, which the report opens read-only).
    rows_sql = sql("finding_rows")
    cursor.register("export_finding_rows", cursor.sql(rows_sql, params=_used(rows_sql, params)))
    lines_sql = sql("export_lines")
    cursor.execute(lines_sql, _used(lines_sql, params))
    while chunk := cursor.fetchmany(batch):
        yield (
            "".join(line for (line,) in chunk)
            if fmt == "csv"
            else ",\n".join(line for (line,) in chunk)
        )
    cursor.close()
