"""Exports of a run's findings: spreadsheet-safe CSV and workbook, JSON, and OCSF Compliance
Finding events.

Spreadsheet programs run cells that start with = + - @ (or tab, CR, NUL) as formulas, so every
CSV and workbook text cell goes through `safe_cell`, or for findings.csv through its copy in SQL
(`ka_csv_neutral`, sql/report/export_macros.sql): DuckDB formats the lines of findings.csv and
findings.json (`write_run_exports`), byte for byte as `write_exports` writes them from the same
findings, since a row dict and its formatting in Python cost tens of seconds at 442,000 findings.
The writers stream their rows (any number of findings in bounded memory) into owner-only files,
replaced atomically and never written through a link (keyaudit.safefile).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from keyaudit.frameworks import FRAMEWORKS
from keyaudit.model import ROOT_USER
from keyaudit.report import beside, workbook
from keyaudit.report.queries import rows
from keyaudit.report.records import export_lines, iter_records
from keyaudit.report.sections import ReportContext, ReportSummary
from keyaudit.rules.commands import fill_command
from keyaudit.safefile import atomic_file
from keyaudit.textsafe import (  # shared with `keyaudit query`, which avoids pandas
    FORMULA_START,
    safe_cell,
)

OCSF_VERSION = "1.3.0"
# OCSF severity_id and its caption, by keyaudit severity.
OCSF_SEVERITY = {
    "info": (1, "Informational"),
    "low": (2, "Low"),
    "medium": (3, "Medium"),
    "high": (4, "High"),
    "critical": (5, "Critical"),
}
# OCSF compliance status_id and caption. An account that could not be audited has no result:
# OCSF's Warning is "the compliance check did not yield a result due to missing information".
COMPLIANCE_FAIL = (3, "Fail")
COMPLIANCE_NO_RESULT = (2, "Warning")
NO_RESULT_RULES = frozenset({"ACCOUNT_NOT_ASSESSED"})
# compliance.standards names, from the one registry of frameworks (keyaudit/frameworks.py)
STANDARDS = {f.key: f.ocsf for f in FRAMEWORKS}
# Which mapping names an event's compliance.control, first found first.
CONTROL_PRIORITY = ("security_hub", "cis_v6_0", "cis_v5_0", "cis_v1_4_to_v4_0", "keyaudit")

COLUMNS = (
    "run_id",
    "as_of",
    "finding_id",
    "status",
    "severity",
    "rule_id",
    "rule_title",
    "account_id",
    "account_name",
    "account_owner",
    "ou_path",
    "user_name",
    "user_arn",
    "credential_kind",
    "credential_id",
    "credential_slot",
    "access_key_id",
    "key_slot",
    "owner",
    "owner_source",
    "key_created_at",
    "key_age_days",
    "key_last_used_at",
    "key_last_used_service",
    "key_last_used_region",
    "reason",
    "waiver_id",
    "first_seen_as_of",
    "days_open",
    "is_new",
    "remediation_command",
)


# findings.tickets.csv: Jira's CSV importer maps columns by their header (it needs Summary and
# prefers headers without punctuation): https://support.atlassian.com/jira-cloud-administration/
# docs/import-data-from-a-csv-file/. Labels is one column of space-separated labels (a Jira label
# holds no space), so that the file has unique headers any CSV reader keeps; External ID is the
# finding id, stable across runs, for a text custom field to deduplicate on (docs/scheduling-and-
# delivery.md, "Tickets"); Ticket is the key `keyaudit track` recorded, if any.
TICKET_COLUMNS = ("Summary", "Description", "Labels", "Priority", "External ID", "Ticket")
# keyaudit severity → Jira's default priority scheme (info has no ticket-worthy counterpart: Lowest)
JIRA_PRIORITY = {
    "critical": "Highest",
    "high": "High",
    "medium": "Medium",
    "low": "Low",
    "info": "Lowest",
}
SUMMARY_LIMIT = 255  # Jira refuses a longer Summary


def ticket_row(row: Mapping[str, Any], ticket: str | None = None) -> dict[str, Any] | None:
    """One finding (an `export_row`, and the ticket tracked for it) as a row of the Jira CSV import, or None
    for a waived finding: a waiver is the decision not to fix it, so it needs no ticket."""
    if row["status"] != "open":
        return None
    who = row["user_name"] or "the account"
    named = CREDENTIALS.get(row["credential_kind"])
    key = f" {named[1]} {row['credential_id']}" if named and row["credential_id"] else ""
    account = row["account_id"] + (f" ({row['account_name']})" if row["account_name"] else "")
    summary = " ".join(f"{row['rule_id']}: {who}{key} in {account}".split())  # one line
    lines = [
        f"{row['rule_title'] or row['rule_id']} ({row['severity']})",
        f"Reason: {row['reason']}" if row["reason"] else None,
        f"Account: {account}",
        f"User: {row['user_arn'] or row['user_name']}" if row["user_name"] else None,
        f"{named[2]}: {row['credential_id']}" if named and row["credential_id"] else None,
        f"First seen: {row['first_seen_as_of']}" if row["first_seen_as_of"] else None,
        f"Fix: {row['remediation_command']}" if row["remediation_command"] else None,
        f"keyaudit finding {row['finding_id']}, run {row['run_id']}",
    ]
    labels = ("keyaudit", row["rule_id"], row["severity"])
    return {
        "Summary": summary[: SUMMARY_LIMIT - 1] + "…" if len(summary) > SUMMARY_LIMIT else summary,
        "Description": "\n".join(line for line in lines if line),
        "Labels": " ".join("_".join(str(label).split()) for label in labels if label),
        "Priority": JIRA_PRIORITY.get(row["severity"], "Medium"),
        "External ID": row["finding_id"],
        "Ticket": ticket,
    }


def command_for(template: str | None, record: Mapping[str, Any]) -> str | None:
    """A rule's CLI command filled in with the finding's account, audit role, user and key."""
    return fill_command(
        template,
        account_id=record.get("account_id"),
        role=record.get("audit_role"),
        user_name=record.get("user_name"),
        access_key_id=record.get("access_key_id"),
        credential_id=record.get("credential_id"),
    )


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


class _Lookup:
    """Account and rule facts of the report context, by id."""

    def __init__(self, summary: ReportSummary) -> None:
        self.run = summary.run
        self.accounts = {a["account_id"]: a for a in summary.accounts}
        self.rules: Mapping[str, Mapping[str, Any]] = summary.rules
        self.tool_version = summary.report_tool_version
        self._compliance: dict[str, dict[str, Any]] = {}

    def compliance(self, rule_id: str) -> dict[str, Any]:
        """The OCSF compliance object of a rule, built once per rule."""
        if rule_id not in self._compliance:
            controls = self.rule(rule_id).get("controls") or {}
            self._compliance[rule_id] = _compliance(controls, rule_id)
        return self._compliance[rule_id]

    def rule(self, rule_id: str) -> Mapping[str, Any]:
        return self.rules.get(rule_id, {})

    def account(self, account_id: str) -> Mapping[str, Any]:
        return self.accounts.get(account_id, {})


def export_row(record: Mapping[str, Any], lookup: _Lookup) -> dict[str, Any]:
    """One finding as the CSV and JSON exports carry it (JSON types; times in ISO 8601 UTC)."""
    account = lookup.account(record["account_id"])
    rule = lookup.rule(record["rule_id"])
    return {
        "run_id": lookup.run["run_id"],
        "as_of": lookup.run["as_of_iso"],
        "finding_id": record["finding_id"],
        "status": "waived" if record["waived"] else "open",
        "severity": record["severity"],
        "rule_id": record["rule_id"],
        "rule_title": rule.get("title"),
        "account_id": record["account_id"],
        "account_name": account.get("name"),
        "account_owner": account.get("owner"),
        "ou_path": account.get("ou_path"),
        "user_name": record["user_name"],
        "user_arn": record["user_arn"],
        "credential_kind": record["credential_kind"],
        "credential_id": record["credential_id"],
        "credential_slot": record["credential_slot"],
        "access_key_id": record["access_key_id"],
        "key_slot": record["key_slot"],
        "owner": record.get("owner"),
        "owner_source": record.get("owner_source"),
        "key_created_at": _iso(record["key_created_at"]),
        "key_age_days": record["key_age_days"],
        "key_last_used_at": _iso(record["key_last_used_at"]),
        "key_last_used_service": record["key_last_used_service"],
        "key_last_used_region": record["key_last_used_region"],
        "reason": record["reason"],
        "waiver_id": record["waiver_id"],
        "first_seen_as_of": _iso(record["first_seen_as_of"]),
        "days_open": record["days_open"],
        "is_new": record["is_new"],
        "remediation_command": command_for(rule.get("command"), record),
    }


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: empty for null, true/false, text through `safe_cell`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return safe_cell(value)


_BOOL_CELLS = {True: "true", False: "false"}


def csv_cells(values: Iterable[Any]) -> list[Any]:
    """`csv_cell` of each value, in one pass: the export's hot loop (a cell per column of every
    finding). None stays None, which the csv module writes as an empty field, as `csv_cell`'s
    ""; the same bytes either way (tests/report/test_exports.py compares them)."""
    return [
        _BOOL_CELLS[v]
        if v is True or v is False
        else "'" + v
        if isinstance(v, str) and v.startswith(FORMULA_START)
        else v
        for v in values
    ]


def run_header(summary: ReportSummary) -> dict[str, Any]:
    """What the JSON export says about the run and the report's scope."""
    run, coverage = summary.run, summary.coverage
    sliced = summary.slice
    return {
        "run_id": run["run_id"],
        "as_of": run["as_of_iso"],
        "organization_id": run["organization_id"],
        "status": run["status"],
        "collected_by": f"keyaudit {run['tool_version']}",
        "exported_by": f"keyaudit {summary.report_tool_version}",
        "account_ids": sliced["account_ids"] if sliced else None,
        "coverage": {
            "in_scope": coverage.in_scope,
            "assessed": coverage.assessed,
            "not_assessed": coverage.not_assessed,
            "skipped": coverage.skipped,
        },
        "findings": summary.totals["total"],
    }


def _millis(iso: str | None) -> int | None:
    if iso is None:
        return None
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def _control(controls: Mapping[str, Any] | None, rule_id: str) -> str:
    """The one control an OCSF event names (a string: the schema has no null): Security Hub's,
    else the newest CIS number, else any mapping's (keyaudit's own KA-n), else the rule id."""
    for framework in CONTROL_PRIORITY + tuple(controls or {}):
        value = (controls or {}).get(framework)
        values = [str(v) for v in (value if isinstance(value, list) else [value]) if v]
        if values:
            return values[0]
    return rule_id


def _compliance(controls: Mapping[str, Any], rule_id: str) -> dict[str, Any]:
    standards: list[str] = []
    requirements: list[str] = []
    for framework, value in (controls or {}).items():
        values = [str(v) for v in (value if isinstance(value, list) else [value]) if v]
        if not values:
            continue
        standard = STANDARDS.get(framework, framework)
        standards.append(standard)
        requirements.extend(f"{standard} {v}" for v in values)
    return {
        "standards": standards or ["keyaudit rule catalogue"],
        "requirements": requirements,
        "control": _control(controls, rule_id),
        "status_id": COMPLIANCE_FAIL[0],
        "status": COMPLIANCE_FAIL[1],
    }


def _finding_compliance(row: Mapping[str, Any], lookup: _Lookup) -> dict[str, Any]:
    """The rule's compliance object with this finding's result: Fail, or no result at all for
    an account that could not be audited (its reason as the status detail)."""
    compliance = lookup.compliance(row["rule_id"])
    if row["rule_id"] not in NO_RESULT_RULES:
        return compliance
    status_id, status = COMPLIANCE_NO_RESULT
    result = {**compliance, "status_id": status_id, "status": status}
    if row["reason"]:
        result["status_detail"] = row["reason"]
    return result


# What a finding's credential is (finding_credentials.credential_kind, sql/views): its OCSF
# resource type (named like AWS::IAM::AccessKey, though AWS defines no resource type for the
# others), what one is called in a sentence, and in a ticket's field name.
CREDENTIALS = {
    "access_key": ("AWS::IAM::AccessKey", "key", "Access key"),
    "ssh_public_key": ("AWS::IAM::SSHPublicKey", "SSH key", "SSH public key"),
    "service_specific_credential": (
        "AWS::IAM::ServiceSpecificCredential",
        "credential",
        "Service-specific credential",
    ),
    "signing_certificate": ("AWS::IAM::SigningCertificate", "certificate", "Signing certificate"),
}


def _resources(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    account = row["account_id"]
    out = []
    if row["credential_kind"] in CREDENTIALS:
        kind, held, _ = CREDENTIALS[row["credential_kind"]]
        key = row["credential_id"] or f"{row['user_name']} {held} slot {row['credential_slot']}"
        out.append(
            {
                "uid": key,
                "name": key,
                "type": kind,
                "cloud_partition": "aws",
            }
        )
    if row["user_name"] == ROOT_USER:
        out.append(
            {"uid": f"arn:aws:iam::{account}:root", "name": "root user", "type": "AWS::::Account"}
        )
    elif row["user_name"]:
        out.append(
            {
                "uid": row["user_arn"] or f"arn:aws:iam::{account}:user/{row['user_name']}",
                "name": row["user_name"],
                "type": "AWS::IAM::User",
                "cloud_partition": "aws",
            }
        )
    if not out:
        out.append({"uid": account, "name": row["account_name"], "type": "AWS::::Account"})
    return out


def ocsf_event(row: Mapping[str, Any], lookup: _Lookup) -> dict[str, Any]:
    """One finding (an `export_row`) as an OCSF 1.3 Compliance Finding (class 2003) event."""
    rule = lookup.rule(row["rule_id"])
    severity_id, severity = OCSF_SEVERITY.get(row["severity"], (99, row["severity"]))
    waived = row["status"] == "waived"
    remediation = " ".join(
        part for part in (rule.get("remediation"), row["remediation_command"]) if part
    )
    finding_info: dict[str, Any] = {
        "uid": row["finding_id"],
        "title": row["rule_title"] or row["rule_id"],
        "desc": row["reason"],
        "types": [row["rule_id"]],
        "analytic": {"uid": row["rule_id"], "name": row["rule_id"], "type_id": 1, "type": "Rule"},
    }
    if row["first_seen_as_of"]:
        finding_info["first_seen_time"] = _millis(row["first_seen_as_of"])
    cloud: dict[str, Any] = {
        "provider": "AWS",
        "account": {
            "uid": row["account_id"],
            "name": row["account_name"],
            "type": "AWS Account",
            "type_id": 10,
        },
    }
    if lookup.run["organization_id"]:
        cloud["org"] = {"uid": lookup.run["organization_id"]}
    event: dict[str, Any] = {
        "activity_id": 1,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2003,
        "class_name": "Compliance Finding",
        "type_uid": 200301,
        "type_name": "Compliance Finding: Create",
        "severity_id": severity_id,
        "severity": severity,
        "status_id": 3 if waived else 1,
        "status": "Suppressed" if waived else "New",
        "time": _millis(row["as_of"]),
        "message": f"{row['rule_id']}: {row['reason']}" if row["reason"] else row["rule_id"],
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": "keyaudit",
                "vendor_name": "keyaudit",
                "version": lookup.tool_version,
            },
            "uid": f"{row['run_id']}/{row['finding_id']}",
            "correlation_uid": row["run_id"],
            "profiles": ["cloud"],
        },
        "finding_info": finding_info,
        "compliance": _finding_compliance(row, lookup),
        "cloud": cloud,
        "resources": _resources(row),
        "unmapped": {"waiver_id": row["waiver_id"]} if row["waiver_id"] else None,
    }
    if remediation:
        event["remediation"] = {"desc": remediation}
    return _without_nulls(event)


def _without_nulls(value: Any) -> Any:
    """`value` with every None left out, at any depth: OCSF 1.3.0 types no attribute as null,
    so an unknown fact (an account without a name, a finding without a reason) is absent."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def write_exports(
    paths: Mapping[str, Path],
    records: Iterable[Mapping[str, Any]],
    context: ReportContext | ReportSummary,
    *,
    max_sheet_rows: int = workbook.MAX_ROWS,
) -> int:
    """Write the exports named in `paths` ("csv", "json", "ocsf", "xlsx", "tickets") in one pass
    over `records`: findings.csv (RFC 4180, every text cell neutralised for spreadsheets),
    findings.tickets.csv (Jira's CSV import of the open findings that are not waived),
    findings.json ({"run": ..., "findings": [...]}), findings.ocsf.jsonl (one OCSF event per
    line) and findings.xlsx (findings, accounts and control results; ids as text: it needs the
    whole report context, the others its summary). Returns the count."""
    unknown = sorted(set(paths) - set(EXPORT_FORMATS))
    if unknown:
        raise ValueError(
            f"export {', '.join(unknown)} is not known; use {', '.join(EXPORT_FORMATS)}"
        )
    summary = context.summary if isinstance(context, ReportContext) else context
    if "xlsx" in paths and not isinstance(context, ReportContext):
        raise ValueError("findings.xlsx needs the whole report context, not its summary")
    lookup = _Lookup(summary)
    # allow_nan=False: NaN and Infinity are not JSON; a parser would refuse the whole file
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    count = 0
    with ExitStack() as stack:
        out = {
            fmt: stack.enter_context(
                atomic_file(
                    path,
                    text=True,
                    encoding="utf-8",
                    newline="" if fmt in CSV_FORMATS else None,
                )
            )
            for fmt, path in paths.items()
            if fmt != "xlsx"
        }
        sheet = None
        if "xlsx" in paths:
            book = stack.enter_context(
                workbook.Workbook(paths["xlsx"], created=_as_of(lookup.run["as_of_iso"]))
            )
            sheet = book.sheet(workbook.FINDINGS_SHEET, COLUMNS, max_sheet_rows)
        # RFC 4180: CRLF after every record, fields with a comma, quote or line break quoted
        table = csv.writer(out["csv"], dialect="excel") if "csv" in out else None
        if table is not None:
            table.writerow(COLUMNS)
        tickets = csv.writer(out["tickets"], dialect="excel") if "tickets" in out else None
        if tickets is not None:
            tickets.writerow(TICKET_COLUMNS)
        if "json" in out:
            out["json"].write('{\n"run": ' + dumps(run_header(summary)) + ',\n"findings": [')
        for record in records:
            row = export_row(record, lookup)
            if table is not None:
                table.writerow(csv_cells(row.values()))  # export_row's keys are COLUMNS, in order
            ticket = ticket_row(row, record.get("ticket")) if tickets is not None else None
            if tickets is not None and ticket is not None:
                tickets.writerow([csv_cell(ticket[c]) for c in TICKET_COLUMNS])
            if "json" in out:
                out["json"].write((",\n" if count else "\n") + dumps(row))
            if "ocsf" in out:
                out["ocsf"].write(dumps(ocsf_event(row, lookup)) + "\n")
            if sheet is not None:
                sheet.add(row)
            count += 1
        if "json" in out:
            out["json"].write("\n]\n}\n")
        if sheet is not None and isinstance(context, ReportContext):
            sheet.close()
            workbook.write_tables(book, context, max_sheet_rows)
    return count


def write_run_exports(
    con: Any,
    run_id: str,
    paths: Mapping[str, Path],
    context: ReportContext | ReportSummary,
    *,
    account_ids: list[str] | None,
    xlsx_job: beside.Job | None = None,
) -> None:
    """Write the exports named in `paths` of every finding of the report (all of the run's, or
    those of `account_ids`), as `write_exports` writes them: findings.csv and findings.json
    formatted by DuckDB (`records.export_lines`: the same bytes, near disk speed), the other
    formats in one pass over the findings in Python. `xlsx_job`: findings.xlsx being written in
    the report's second process (`start_xlsx_beside`), waited for here instead of written."""
    summary = context.summary if isinstance(context, ReportContext) else context
    try:
        _write_here(
            con, run_id, paths, context, summary, account_ids, skip_xlsx=xlsx_job is not None
        )
    except BaseException as failure:
        if xlsx_job is not None:
            xlsx_job.abandon(failure)  # never return while the child still writes into the folder
        raise
    if xlsx_job is not None:
        xlsx_job.result()


# Findings from which findings.xlsx is written in the second process: below, the workbook takes
# a few seconds here (about 0.5-0.8 ms of CPU a finding), and the PDF is the longer job to hand on.
XLSX_BESIDE_FROM = 5_000


def start_xlsx_beside(
    con: Any,
    run_id: str,
    path: Path,
    context: ReportContext,
    account_ids: list[str] | None,
) -> beside.Job | None:
    """findings.xlsx started in the report's second process (keyaudit.report.beside), or None
    to write it here: for a report of XLSX_BESIDE_FROM findings or more, where a second core is
    there and `con` reads a warehouse file read-only, which a second reader may open beside it
    (DuckDB refuses a reader beside a writer). The caller has other outputs to write meanwhile."""
    if context.summary.totals["total"] < XLSX_BESIDE_FROM or not beside.second_core():
        return None
    found = rows(con, "database_path")
    if not found or not found[0]["path"] or not found[0]["readonly"]:
        return None
    slim = replace(context, explorer=None)  # the workbook never reads the HTML's explorer data
    return beside.submit(
        "findings.xlsx",
        write_xlsx_from_warehouse,
        Path(found[0]["path"]),
        run_id,
        account_ids,
        slim,
        path,
    )


def write_xlsx_from_warehouse(
    warehouse: Path,
    run_id: str,
    account_ids: list[str] | None,
    context: ReportContext,
    path: Path,
) -> None:
    """findings.xlsx, written in the report's second process from the warehouse file opened
    read-only: a second reader beside the caller's read-only connection, which DuckDB allows
    (and no writer can have opened meanwhile: a writer needs the file to itself)."""
    from keyaudit.warehouse.db import connect

    con = connect(warehouse, read_only=True)
    try:
        write_exports({"xlsx": path}, iter_records(con, run_id, account_ids=account_ids), context)
    finally:
        con.close()


def _write_here(
    con: Any,
    run_id: str,
    paths: Mapping[str, Path],
    context: ReportContext | ReportSummary,
    summary: ReportSummary,
    account_ids: list[str] | None,
    *,
    skip_xlsx: bool,
) -> None:
    """write_run_exports' formats written in this process (all but a workbook written beside)."""
    for fmt in [f for f in SQL_FORMATS if f in paths]:
        lines = export_lines(
            con,
            run_id,
            fmt,
            account_ids=account_ids,
            as_of_iso=summary.run["as_of_iso"],
            accounts=summary.accounts,
            rules=summary.rules,
        )
        with atomic_file(paths[fmt], text=True, encoding="utf-8", newline="") as out:
            if fmt == "csv":
                # the header as the csv module writes it (RFC 4180: CRLF after every record)
                csv.writer(out, dialect="excel").writerow(COLUMNS)
                for chunk in lines:
                    out.write(chunk)
            else:
                dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
                out.write('{\n"run": ' + dumps(run_header(summary)) + ',\n"findings": [')
                for i, chunk in enumerate(lines):
                    out.write((",\n" if i else "\n") + chunk)
                out.write("\n]\n}\n")
    rest = {
        f: path
        for f, path in paths.items()
        if f not in SQL_FORMATS and not (skip_xlsx and f == "xlsx")
    }
    if rest:
        write_exports(rest, iter_records(con, run_id, account_ids=account_ids), context)


def _as_of(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


EXPORT_FORMATS = ("csv", "json", "ocsf", "xlsx", "tickets")
CSV_FORMATS = ("csv", "tickets")
# Written by DuckDB from the warehouse (write_run_exports), byte for byte as write_exports writes them.
SQL_FORMATS = ("csv", "json")
