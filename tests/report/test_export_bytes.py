"""findings.csv and findings.json, byte for byte, on a warehouse whose cells attack both: formula
starts, quotes, commas, LF, CR and CRLF inside cells, control characters, NUL, unicode line
separators, backslashes that look like escapes, empty and null cells, a 72,000-character cell, a
role name with a quote and commands whose values are unknown. DuckDB formats both exports
(sql/report/export_lines.sql); the bytes below are what the csv module (excel dialect) and
json.dumps(ensure_ascii=False) wrote for the same findings before it did, written out by hand
here, so a change to the quoting, the neutralised formula starts, the CRLF line ends, the column
order or the JSON's shape fails this test."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from report_rows import OTHER, RULES, RUN_ID, keep_as_loading_does, open_copy

from keyaudit import __version__
from keyaudit.report import write_report
from keyaudit.report.queries import sql
from keyaudit.textsafe import FORMULA_START, safe_cell

# finding id, rule, severity, user, key, slot, reason, waived, waiver id
# fmt: off
HOSTILE_FINDINGS = [
    ("f-h1", "ACCESS_KEY_UNUSED", "medium", '+alice, "the" admin', "AKIA,1", 1,
     "line one\nline two\r\nline three\rend", False, None),
    ("f-h2", "MULTIPLE_ACTIVE_KEYS", "medium", "@bob\u2028x", None, None,
     "-é ✓ 😀 \x1b[31m red \x7f \t tab", True, "=W-1"),
    ("f-h3", "ACCESS_KEY_UNUSED", "medium", None, None, 2, "", False, None),
    ("f-h4", "ACCESS_KEY_NOT_ROTATED", "high", "\0nul", "AKIA'q", 1,
     'a "quoted", long cell\n' * 3000, False, None),
    ("f-h5", "ACCESS_KEY_NOT_ROTATED", "high", "back\\slash", "AKIAOK", 2,
     "\\u001B is not \x1b; \x1f\x0b\x0c\x08\x00", False, None),
    ("f-h6", "ACCESS_KEY_NOT_ROTATED", "high", "", "", 1, "\r\tstarts with CR", False, "W\n2"),
    ("f-h7", "ACCESS_KEY_NOT_ROTATED", "high", "line\nbreak", "AKIA2", 1, "=1+1", False, None),
]
# fmt: on


@pytest.fixture(scope="module")
def hostile_files(
    warehouse_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, bytes]:
    """The exports of account {OTHER} (its given finding and the hostile ones) of the given run,
    audited with a role whose name holds a quote, the account named like a formula, one rule
    titled like one and commands that use every placeholder."""
    folder = tmp_path_factory.mktemp("export-bytes")
    con = open_copy(warehouse_file, folder)
    try:
        _make_hostile(con)
        files = write_report(
            con, RUN_ID, folder / "out", rules=RULES, account_ids=[OTHER], formats="csv,json"
        )
    finally:
        con.close()
    assert files.csv is not None and files.json is not None
    return {"csv": files.csv.read_bytes(), "json": files.json.read_bytes()}


def _make_hostile(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "update runs set config_json = ? where run_id = ?",
        [json.dumps({"aws": {"role_name": "Audit Role's"}}), RUN_ID],
    )
    con.execute(
        "update accounts set name = ? where run_id = ? and account_id = ?",
        ['=cmd|"/c calc"!A1, payments', RUN_ID, OTHER],
    )
    con.execute(
        "update run_rules set command = ?, title = ? where run_id = ? and rule_id = ?",
        [
            "aws iam delete-access-key --user-name <USER> --access-key-id <KEY_ID>"
            " --profile <ROLE> # in <ACCOUNT_ID>, root: <ROOT_KEY_ID>",
            '+Old key, "rotate" it',
            RUN_ID,
            "ACCESS_KEY_NOT_ROTATED",
        ],
    )
    con.execute(
        "update run_rules set command = ? where run_id = ? and rule_id = ?",
        [
            "aws iam update-access-key --user-name <USER> --access-key-id <UNUSED_KEY_ID>"
            " --status Inactive",
            RUN_ID,
            "MULTIPLE_ACTIVE_KEYS",
        ],
    )
    con.execute(
        "update run_rules set command = ? where run_id = ? and rule_id = ?",
        [
            "aws iam update-access-key --user-name <USER> --access-key-id <KEY_ID> --status Inactive",
            RUN_ID,
            "ACCESS_KEY_UNUSED",
        ],
    )
    # f-h7's key: times with microseconds, one of them not in UTC
    con.execute(
        "insert into keys (run_id, account_id, user_name, is_root, access_key_id, key_slot,"
        " is_active, created_at, last_used_at, last_used_region, last_used_service) values"
        " (?, ?, ?, false, 'AKIA2', 1, true, timestamptz '2026-05-03 06:00:00.000123+00',"
        " timestamptz '2026-11-30 23:59:59.5+02', '=region', 'sts, \"quoted\"')",
        [RUN_ID, OTHER, "line\nbreak"],
    )
    for finding in HOSTILE_FINDINGS:
        con.execute(
            "insert into findings (run_id, finding_id, rule_id, severity, account_id, user_name,"
            " access_key_id, key_slot, reason, waived, waiver_id)"
            " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [RUN_ID, *finding[:3], OTHER, *finding[3:]],
        )
    keep_as_loading_does(con)  # the findings' lifecycle, as loading them would keep it


# What every row of the account starts with: the run, then (after finding, status, severity,
# rule and title) the account: its name a formula, so quoted, its quotes doubled, neutralised.
RUN = "20261201T060000Z-r1,2026-12-01T06:00:00Z,"
A = '222233334444,"\'=cmd|""/c calc""!A1, payments",,Root/Workloads/Prod,'
LONG = '"' + 'a ""quoted"", long cell\n' * 3000 + '"'
# fmt: off
CSV_HEADER = (
    'run_id,as_of,finding_id,status,severity,rule_id,rule_title,account_id,account_name,account_owner,ou_path,user_name,user_arn,credential_kind,credential_id,credential_slot,access_key_id,key_slot,owner,owner_source,key_created_at,key_age_days,key_last_used_at,key_last_used_service,key_last_used_region,reason,waiver_id,first_seen_as_of,days_open,is_new,remediation_command'
)
CSV_RECORDS = [
    f'f-h6,open,high,ACCESS_KEY_NOT_ROTATED,"\'+Old key, ""rotate"" it",{A},,access_key,,1,,1,,compliance,,,,,,"\'\r\tstarts with CR","W\n2",2026-12-01T06:00:00Z,0,true,"# fill in the IAM user\'s name and the access key id and the root access key id (on the root user\'s Security credentials page) first, then run: aws iam delete-access-key --user-name USER --access-key-id KEY_ID --profile \'Audit Role\'""\'""\'s\' # in 222233334444, root: ROOT_KEY_ID"',
    f'f-h4,open,high,ACCESS_KEY_NOT_ROTATED,"\'+Old key, ""rotate"" it",{A}\'\x00nul,,access_key,AKIA\'q,1,AKIA\'q,1,,compliance,,,,,,{LONG},,2026-12-01T06:00:00Z,0,true,"# fill in the root access key id (on the root user\'s Security credentials page) first, then run: aws iam delete-access-key --user-name \'\x00nul\' --access-key-id \'AKIA\'""\'""\'q\' --profile \'Audit Role\'""\'""\'s\' # in 222233334444, root: ROOT_KEY_ID"',
    f'f-h5,open,high,ACCESS_KEY_NOT_ROTATED,"\'+Old key, ""rotate"" it",{A}back\\slash,,access_key,AKIAOK,2,AKIAOK,2,,compliance,,,,,,\\u001B is not \x1b; \x1f\x0b\x0c\x08\x00,,2026-12-01T06:00:00Z,0,true,"# fill in the root access key id (on the root user\'s Security credentials page) first, then run: aws iam delete-access-key --user-name \'back\\slash\' --access-key-id AKIAOK --profile \'Audit Role\'""\'""\'s\' # in 222233334444, root: ROOT_KEY_ID"',
    f'f-h7,open,high,ACCESS_KEY_NOT_ROTATED,"\'+Old key, ""rotate"" it",{A}"line\nbreak",,access_key,AKIA2,1,AKIA2,1,,compliance,2026-05-03T06:00:00.000123Z,211,2026-11-30T21:59:59.500000Z,"sts, ""quoted""",\'=region,\'=1+1,,2026-12-01T06:00:00Z,0,true,"# fill in the root access key id (on the root user\'s Security credentials page) first, then run: aws iam delete-access-key --user-name \'line\n# break\' --access-key-id AKIA2 --profile \'Audit Role\'""\'""\'s\' # in 222233334444, root: ROOT_KEY_ID"',
    f'f-h3,open,medium,ACCESS_KEY_UNUSED,Active access key not used within the limit,{A},,access_key,,2,,2,,compliance,,,,,,,,2026-12-01T06:00:00Z,0,true,"# fill in the IAM user\'s name and the access key id first, then run: aws iam update-access-key --user-name USER --access-key-id KEY_ID --status Inactive"',
    f'f-h1,open,medium,ACCESS_KEY_UNUSED,Active access key not used within the limit,{A}"\'+alice, ""the"" admin",,access_key,"AKIA,1",1,"AKIA,1",1,,compliance,,,,,,"line one\nline two\r\nline three\rend",,2026-12-01T06:00:00Z,0,true,"aws iam update-access-key --user-name \'+alice, ""the"" admin\' --access-key-id AKIA,1 --status Inactive"',
    f'f-formula,open,medium,ACCESS_KEY_UNUSED,Active access key not used within the limit,{A}"\'=HYPERLINK(""http://evil"",""x"")",,access_key,AKIAOTHER00000000001,1,AKIAOTHER00000000001,1,,compliance,,,,,,\'-46 days? +1 @SUM(A1),,2026-12-01T06:00:00Z,0,true,"aws iam update-access-key --user-name \'=HYPERLINK(""http://evil"",""x"")\' --access-key-id AKIAOTHER00000000001 --status Inactive"',
    f'f-h2,waived,medium,MULTIPLE_ACTIVE_KEYS,User has two active access keys,{A}\'@bob\u2028x,,,,,,,,compliance,,,,,,\'-é ✓ 😀 \x1b[31m red \x7f \t tab,\'=W-1,2026-12-01T06:00:00Z,0,true,"# fill in the id of the key the workload does not use (compare their last use) first, then run: aws iam update-access-key --user-name \'@bob\n# x\' --access-key-id UNUSED_KEY_ID --status Inactive"',
]
# fmt: on
EXPECTED_CSV = "\r\n".join([CSV_HEADER, *(RUN + r for r in CSV_RECORDS)]) + "\r\n"

JSON_RUN = '{"run_id": "20261201T060000Z-r1", "as_of": "2026-12-01T06:00:00Z", '
JA = (
    '"account_id": "222233334444", "account_name": "=cmd|\\"/c calc\\"!A1, payments", '
    '"account_owner": null, "ou_path": "Root/Workloads/Prod", '
)
JLONG = '"' + 'a \\"quoted\\", long cell\\n' * 3000 + '"'
# fmt: off
JSON_HEAD = (
    '{\n"run": {"run_id": "20261201T060000Z-r1", "as_of": "2026-12-01T06:00:00Z", '
    '"organization_id": "o-abc123def4", "status": "finished", "collected_by": "keyaudit 0.1.0", '
    f'"exported_by": "keyaudit {__version__}", "account_ids": ["222233334444"], '
    '"coverage": {"in_scope": 1, "assessed": 1, "not_assessed": 0, "skipped": 0}, '
    '"findings": 8},\n"findings": [\n'
)
JSON_FINDINGS = [
    f'"finding_id": "f-h6", "status": "open", "severity": "high", "rule_id": "ACCESS_KEY_NOT_ROTATED", "rule_title": "+Old key, \\"rotate\\" it", {JA}"user_name": "", "user_arn": null, "credential_kind": "access_key", "credential_id": "", "credential_slot": 1, "access_key_id": "", "key_slot": 1, "owner": null, "owner_source": "compliance", "key_created_at": null, "key_age_days": null, "key_last_used_at": null, "key_last_used_service": null, "key_last_used_region": null, "reason": "\\r\\tstarts with CR", "waiver_id": "W\\n2", "first_seen_as_of": "2026-12-01T06:00:00Z", "days_open": 0, "is_new": true, "remediation_command": "# fill in the IAM user\'s name and the access key id and the root access key id (on the root user\'s Security credentials page) first, then run: aws iam delete-access-key --user-name USER --access-key-id KEY_ID --profile \'Audit Role\'\\"\'\\"\'s\' # in 222233334444, root: ROOT_KEY_ID"}}',
    f'"finding_id": "f-h4", "status": "open", "severity": "high", "rule_id": "ACCESS_KEY_NOT_ROTATED", "rule_title": "+Old key, \\"rotate\\" it", {JA}"user_name": "\\u0000nul", "user_arn": null, "credential_kind": "access_key", "credential_id": "AKIA\'q", "credential_slot": 1, "access_key_id": "AKIA\'q", "key_slot": 1, "owner": null, "owner_source": "compliance", "key_created_at": null, "key_age_days": null, "key_last_used_at": null, "key_last_used_service": null, "key_last_used_region": null, "reason": {JLONG}, "waiver_id": null, "first_seen_as_of": "2026-12-01T06:00:00Z", "days_open": 0, "is_new": true, "remediation_command": "# fill in the root access key id (on the root user\'s Security credentials page) first, then run: aws iam delete-access-key --user-name \'\\u0000nul\' --access-key-id \'AKIA\'\\"\'\\"\'q\' --profile \'Audit Role\'\\"\'\\"\'s\' # in 222233334444, root: ROOT_KEY_ID"}}',
    f'"finding_id": "f-h5", "status": "open", "severity": "high", "rule_id": "ACCESS_KEY_NOT_ROTATED", "rule_title": "+Old key, \\"rotate\\" it", {JA}"user_name": "back\\\\slash", "user_arn": null, "credential_kind": "access_key", "credential_id": "AKIAOK", "credential_slot": 2, "access_key_id": "AKIAOK", "key_slot": 2, "owner": null, "owner_source": "compliance", "key_created_at": null, "key_age_days": null, "key_last_used_at": null, "key_last_used_service": null, "key_last_used_region": null, "reason": "\\\\u001B is not \\u001b; \\u001f\\u000b\\f\\b\\u0000", "waiver_id": null, "first_seen_as_of": "2026-12-01T06:00:00Z", "days_open": 0, "is_new": true, "remediation_command": "# fill in the root access key id (on the root user\'s Security credentials page) first, then run: aws iam delete-access-key --user-name \'back\\\\slash\' --access-key-id AKIAOK --profile \'Audit Role\'\\"\'\\"\'s\' # in 222233334444, root: ROOT_KEY_ID"}}',
    f'"finding_id": "f-h7", "status": "open", "severity": "high", "rule_id": "ACCESS_KEY_NOT_ROTATED", "rule_title": "+Old key, \\"rotate\\" it", {JA}"user_name": "line\\nbreak", "user_arn": null, "credential_kind": "access_key", "credential_id": "AKIA2", "credential_slot": 1, "access_key_id": "AKIA2", "key_slot": 1, "owner": null, "owner_source": "compliance", "key_created_at": "2026-05-03T06:00:00.000123Z", "key_age_days": 211, "key_last_used_at": "2026-11-30T21:59:59.500000Z", "key_last_used_service": "sts, \\"quoted\\"", "key_last_used_region": "=region", "reason": "=1+1", "waiver_id": null, "first_seen_as_of": "2026-12-01T06:00:00Z", "days_open": 0, "is_new": true, "remediation_command": "# fill in the root access key id (on the root user\'s Security credentials page) first, then run: aws iam delete-access-key --user-name \'line\\n# break\' --access-key-id AKIA2 --profile \'Audit Role\'\\"\'\\"\'s\' # in 222233334444, root: ROOT_KEY_ID"}}',
    f'"finding_id": "f-h3", "status": "open", "severity": "medium", "rule_id": "ACCESS_KEY_UNUSED", "rule_title": "Active access key not used within the limit", {JA}"user_name": null, "user_arn": null, "credential_kind": "access_key", "credential_id": null, "credential_slot": 2, "access_key_id": null, "key_slot": 2, "owner": null, "owner_source": "compliance", "key_created_at": null, "key_age_days": null, "key_last_used_at": null, "key_last_used_service": null, "key_last_used_region": null, "reason": "", "waiver_id": null, "first_seen_as_of": "2026-12-01T06:00:00Z", "days_open": 0, "is_new": true, "remediation_command": "# fill in the IAM user\'s name and the access key id first, then run: aws iam update-access-key --user-name USER --access-key-id KEY_ID --status Inactive"}}',
    f'"finding_id": "f-h1", "status": "open", "severity": "medium", "rule_id": "ACCESS_KEY_UNUSED", "rule_title": "Active access key not used within the limit", {JA}"user_name": "+alice, \\"the\\" admin", "user_arn": null, "credential_kind": "access_key", "credential_id": "AKIA,1", "credential_slot": 1, "access_key_id": "AKIA,1", "key_slot": 1, "owner": null, "owner_source": "compliance", "key_created_at": null, "key_age_days": null, "key_last_used_at": null, "key_last_used_service": null, "key_last_used_region": null, "reason": "line one\\nline two\\r\\nline three\\rend", "waiver_id": null, "first_seen_as_of": "2026-12-01T06:00:00Z", "days_open": 0, "is_new": true, "remediation_command": "aws iam update-access-key --user-name \'+alice, \\"the\\" admin\' --access-key-id AKIA,1 --status Inactive"}}',
    f'"finding_id": "f-formula", "status": "open", "severity": "medium", "rule_id": "ACCESS_KEY_UNUSED", "rule_title": "Active access key not used within the limit", {JA}"user_name": "=HYPERLINK(\\"http://evil\\",\\"x\\")", "user_arn": null, "credential_kind": "access_key", "credential_id": "AKIAOTHER00000000001", "credential_slot": 1, "access_key_id": "AKIAOTHER00000000001", "key_slot": 1, "owner": null, "owner_source": "compliance", "key_created_at": null, "key_age_days": null, "key_last_used_at": null, "key_last_used_service": null, "key_last_used_region": null, "reason": "-46 days? +1 @SUM(A1)", "waiver_id": null, "first_seen_as_of": "2026-12-01T06:00:00Z", "days_open": 0, "is_new": true, "remediation_command": "aws iam update-access-key --user-name \'=HYPERLINK(\\"http://evil\\",\\"x\\")\' --access-key-id AKIAOTHER00000000001 --status Inactive"}}',
    f'"finding_id": "f-h2", "status": "waived", "severity": "medium", "rule_id": "MULTIPLE_ACTIVE_KEYS", "rule_title": "User has two active access keys", {JA}"user_name": "@bob\u2028x", "user_arn": null, "credential_kind": null, "credential_id": null, "credential_slot": null, "access_key_id": null, "key_slot": null, "owner": null, "owner_source": "compliance", "key_created_at": null, "key_age_days": null, "key_last_used_at": null, "key_last_used_service": null, "key_last_used_region": null, "reason": "-é ✓ 😀 \\u001b[31m red \x7f \\t tab", "waiver_id": "=W-1", "first_seen_as_of": "2026-12-01T06:00:00Z", "days_open": 0, "is_new": true, "remediation_command": "# fill in the id of the key the workload does not use (compare their last use) first, then run: aws iam update-access-key --user-name \'@bob\\n# x\' --access-key-id UNUSED_KEY_ID --status Inactive"}}',
]
# fmt: on


def test_findings_csv_is_byte_for_byte_what_the_csv_module_wrote(hostile_files):
    assert hostile_files["csv"].decode("utf-8").split("\r\n") == EXPECTED_CSV.split("\r\n")
    assert hostile_files["csv"] == EXPECTED_CSV.encode("utf-8")


def test_findings_json_is_byte_for_byte_what_json_dumps_wrote(hostile_files):
    expected = JSON_HEAD + ",\n".join(JSON_RUN + f for f in JSON_FINDINGS) + "\n]\n}\n"
    assert hostile_files["json"].decode("utf-8").split(",\n") == expected.split(",\n")
    assert hostile_files["json"] == expected.encode("utf-8")
    assert len(json.loads(expected)["findings"]) == 8


@pytest.mark.parametrize("start", [*FORMULA_START, "a", "'", " ", "é", "\n", "1", "#"])
def test_the_sql_copy_of_the_formula_rule_neutralises_what_safe_cell_does(start):
    """findings.csv neutralises formula starts in SQL (ka_csv_neutral), every other CSV and the
    workbook in Python (safe_cell): a start added to FORMULA_START fails here until SQL has it."""
    con = duckdb.connect()
    con.execute(sql("export_macros"))
    (cell,) = con.execute("select ka_csv_neutral(?)", [start + "x"]).fetchone()
    assert cell == safe_cell(start + "x")
    assert (cell == "'" + start + "x") == (start in FORMULA_START)
    con.close()
