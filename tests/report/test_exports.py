"""Exports: findings.csv is spreadsheet-safe, findings.json and the OCSF events carry every
finding of the report with the same facts."""

from __future__ import annotations

import csv
import json
import shlex
from dataclasses import replace
from pathlib import Path

import pytest
from report_rows import (
    ASSESSED,
    FAILURE,
    FORMULA_USER,
    NOT_ASSESSED,
    OTHER,
    RULES,
    RUN_ID,
    FakeRule,
    count,
    open_copy,
)

from keyaudit.report import write_report
from keyaudit.report.exports import COLUMNS, command_for, csv_cell, csv_cells, safe_cell


@pytest.fixture(scope="module")
def exported(shared_db, tmp_path_factory: pytest.TempPathFactory):
    return write_report(
        shared_db, RUN_ID, tmp_path_factory.mktemp("exports"), rules=RULES, formats="csv,json,ocsf"
    )


@pytest.fixture(scope="module")
def csv_rows(exported) -> list[dict[str, str]]:
    with exported.csv.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def events(exported) -> list[dict]:
    return [json.loads(line) for line in exported.ocsf.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("\0cmd", "'\0cmd"),
        ("alice", "alice"),
        ("a=b", "a=b"),
        (-1, -1),
        (None, None),
    ],
)
def test_safe_cell_neutralises_what_a_spreadsheet_would_evaluate(value, expected):
    assert safe_cell(value) == expected


def test_the_export_writes_cells_in_one_pass_to_the_same_bytes_as_cell_by_cell():
    """findings.csv's hot loop (csv_cells) and csv_cell, through the csv module, byte for byte:
    null, true and false, numbers, formula starts, quotes, commas and line breaks."""
    import io

    values = [None, True, False, 0, -3, 2.5, "", "plain", "=1+1", "-1", "@x", "\tcmd", "\rcmd",
              "\0cmd", 'say "hi"', "a,b", "two\nlines", "'quoted", "é ✓"]  # fmt: skip
    one_pass, cell_by_cell = io.StringIO(), io.StringIO()
    csv.writer(one_pass, dialect="excel").writerow(csv_cells(values))
    csv.writer(cell_by_cell, dialect="excel").writerow([csv_cell(v) for v in values])
    assert one_pass.getvalue() == cell_by_cell.getvalue()
    assert one_pass.getvalue().startswith(",true,false,0,-3,2.5,,plain,'=1+1,'-1,'@x,")


def test_only_pdf_and_html_formats_skip_exports(exported):
    assert sorted(exported.paths()) == ["csv", "json", "ocsf"]
    assert exported.html is None and exported.pdf is None


def test_csv_has_a_row_per_finding_with_the_fixed_columns(shared_db, exported, csv_rows):
    with exported.csv.open(newline="", encoding="utf-8") as handle:
        assert tuple(next(csv.reader(handle))) == COLUMNS
    assert len(csv_rows) == count(
        shared_db, "select count(*) from findings where run_id = ?", RUN_ID
    )
    assert {r["run_id"] for r in csv_rows} == {RUN_ID}
    assert {r["as_of"] for r in csv_rows} == {"2026-12-01T06:00:00Z"}


def test_csv_is_rfc_4180_crlf_records_and_quoted_fields_that_need_it(exported, csv_rows):
    raw = exported.csv.read_bytes()
    assert raw.endswith(b"\r\n") and raw.count(b"\r\n") >= len(csv_rows) + 1
    assert b"\n" not in raw.replace(b"\r\n", b"")  # no bare LF ends a record
    # a field with a quote is quoted, its quote doubled; a plain field is written as it is
    assert b',"<script>alert(1)</script>""\'",' in raw
    assert b",AKIAALICE00000000001," in raw
    with exported.csv.open(newline="", encoding="utf-8") as handle:
        dialect = csv.Sniffer().sniff(handle.read(4096))
    assert (dialect.delimiter, dialect.quotechar, dialect.doublequote) == (",", '"', True)


def test_csv_cells_cannot_run_as_formulas(csv_rows):
    (row,) = [r for r in csv_rows if r["account_id"] == OTHER]
    assert row["user_name"] == "'" + FORMULA_USER
    assert row["reason"] == "'-46 days? +1 @SUM(A1)"
    for r in csv_rows:
        for value in r.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r", "\0"))


def test_csv_carries_key_facts_and_the_filled_in_command(csv_rows):
    (alice,) = [r for r in csv_rows if r["access_key_id"] == "AKIAALICE00000000001"]
    assert alice["key_created_at"] == "2026-05-03T06:00:00Z"
    assert alice["key_age_days"] == "212"
    assert alice["key_last_used_at"] == "2026-11-28T06:00:00Z"
    assert alice["account_owner"] == ""  # her account has no owner-email tag
    assert alice["status"] == "open"
    assert alice["is_new"] == "false"
    assert alice["days_open"] == "30"
    assert alice["remediation_command"] == (
        "aws iam update-access-key --user-name alice --access-key-id AKIAALICE00000000001 "
        "--status Inactive"
    )
    (carol,) = [r for r in csv_rows if r["user_name"] == "carol"]
    assert (carol["status"], carol["waiver_id"]) == ("waived", "W-7")


def test_a_command_value_the_finding_lacks_is_said_in_words_not_left_as_a_placeholder():
    template = "aws iam delete-access-key --access-key-id <KEY_ID>"
    command = command_for(template, {"user_name": "<root_account>", "access_key_id": None})
    assert command == (
        "# fill in the access key id first, then run: aws iam delete-access-key --access-key-id KEY_ID"
    )
    assert shlex.split(command, comments=True) == []
    assert command_for(None, {"user_name": "bob"}) is None


HOSTILE_USER = "x$(touch pwned)`id`"
HOSTILE_KEY = "AKIAHOSTILE000000001"
ROLE = "KeyAuditReader"
ROTATE_ARGS = [
    "aws", "iam", "update-access-key", "--user-name", HOSTILE_USER,
    "--access-key-id", HOSTILE_KEY, "--status", "Inactive",
]  # fmt: skip
ASSUME_TEMPLATE = (
    "aws sts assume-role --role-arn arn:aws:iam::<ACCOUNT_ID>:role/<ROLE> "
    "--role-session-name keyaudit-check"
)


@pytest.fixture(scope="module")
def hostile_exports(warehouse_file: Path, tmp_path_factory: pytest.TempPathFactory):
    """The given run, audited with role KeyAuditReader, plus a finding for a user whose name is
    shell code; exported as CSV, JSON and OCSF."""
    folder = tmp_path_factory.mktemp("hostile")
    con = open_copy(warehouse_file, folder)
    try:
        con.execute(
            "update runs set config_json = ? where run_id = ?",
            [json.dumps({"aws": {"role_name": ROLE}}), RUN_ID],
        )
        con.execute(
            "insert into findings (run_id, finding_id, rule_id, severity, account_id, user_name,"
            " access_key_id, key_slot, reason, waived) values"
            " (?, 'f-hostile', 'ACCESS_KEY_NOT_ROTATED', 'high', ?, ?, ?, 1, 'old', false)",
            [RUN_ID, ASSESSED, HOSTILE_USER, HOSTILE_KEY],
        )
        rules = [
            replace(r, command=ASSUME_TEMPLATE) if r.rule_id == "ACCOUNT_NOT_ASSESSED" else r
            for r in RULES
        ]
        files = write_report(con, RUN_ID, folder / "out", rules=rules, formats="csv,json,ocsf")
    finally:
        con.close()
    with files.csv.open(newline="", encoding="utf-8") as handle:
        csv_rows = list(csv.DictReader(handle))
    findings = json.loads(files.json.read_text(encoding="utf-8"))["findings"]
    events = [json.loads(line) for line in files.ocsf.read_text(encoding="utf-8").splitlines()]
    return csv_rows, findings, events


def test_a_hostile_user_name_is_one_literal_argument_in_csv_json_and_ocsf(hostile_exports):
    csv_rows, findings, events = hostile_exports
    (row,) = [r for r in csv_rows if r["finding_id"] == "f-hostile"]
    (finding,) = [f for f in findings if f["finding_id"] == "f-hostile"]
    (event,) = [e for e in events if e["finding_info"]["uid"] == "f-hostile"]
    command = finding["remediation_command"]
    assert shlex.split(command) == ROTATE_ARGS
    assert row["remediation_command"] == command
    desc = event["remediation"]["desc"]
    assert desc.endswith(" " + command)
    assert shlex.split(desc.rsplit(" aws ", 1)[1]) == ROTATE_ARGS[1:]


def test_the_not_assessed_command_names_the_account_and_the_role_the_run_assumed(
    hostile_exports,
):
    _, findings, _ = hostile_exports
    (finding,) = [f for f in findings if f["rule_id"] == "ACCOUNT_NOT_ASSESSED"]
    assert finding["remediation_command"] == (
        f"aws sts assume-role --role-arn arn:aws:iam::{NOT_ASSESSED}:role/{ROLE} "
        "--role-session-name keyaudit-check"
    )


def test_demo_exports_leave_no_account_or_role_placeholder(demo_run):
    texts = {
        name: (demo_run.report_dir / name).read_text(encoding="utf-8")
        for name in ("findings.csv", "findings.json", "findings.ocsf.jsonl")
    }
    for name, text in texts.items():
        assert "<ACCOUNT_ID>" not in text and "<ROLE>" not in text, name
    findings = json.loads(texts["findings.json"])["findings"]
    missing = demo_run.org.missing_role_account_id
    (finding,) = [f for f in findings if f["rule_id"] == "ACCOUNT_NOT_ASSESSED"]
    assert finding["remediation_command"] == (
        f"aws sts assume-role --role-arn arn:aws:iam::{missing}:role/OrganizationAccountAccessRole"
        " --role-session-name keyaudit-check"
    )


def test_json_export_has_the_run_and_every_finding(shared_db, exported):
    data = json.loads(exported.json.read_text(encoding="utf-8"))
    assert data["run"]["run_id"] == RUN_ID
    assert data["run"]["coverage"] == {
        "in_scope": 3,
        "assessed": 2,
        "not_assessed": 1,
        "skipped": 1,
    }
    total = count(shared_db, "select count(*) from findings where run_id = ?", RUN_ID)
    assert data["run"]["findings"] == total == len(data["findings"])
    assert list(data["findings"][0]) == list(COLUMNS)
    (alice,) = [f for f in data["findings"] if f["access_key_id"] == "AKIAALICE00000000001"]
    assert (alice["key_age_days"], alice["is_new"], alice["key_slot"]) == (212, False, 1)
    (formula,) = [f for f in data["findings"] if f["account_id"] == OTHER]
    assert formula["user_name"] == FORMULA_USER  # JSON is data, not a spreadsheet: unchanged


def test_ocsf_events_are_compliance_findings(shared_db, events):
    assert len(events) == count(shared_db, "select count(*) from findings where run_id = ?", RUN_ID)
    for event in events:
        assert (event["class_uid"], event["category_uid"], event["type_uid"]) == (2003, 2, 200301)
        assert event["activity_id"] == 1
        assert event["metadata"]["version"] == "1.3.0"
        assert event["metadata"]["product"]["name"] == "keyaudit"
        assert event["finding_info"]["uid"]
        assert event["compliance"]["standards"]
        if event["finding_info"]["analytic"]["uid"] != "ACCOUNT_NOT_ASSESSED":
            assert (event["compliance"]["status_id"], event["compliance"]["status"]) == (3, "Fail")
        assert event["cloud"]["provider"] == "AWS"
        assert event["time"] == 1796104800000  # as_of, in milliseconds
        assert event["resources"]


def test_ocsf_maps_severity_status_and_controls(events):
    by_rule = {}
    for event in events:
        by_rule.setdefault(event["finding_info"]["analytic"]["uid"], []).append(event)
    root = by_rule["ROOT_ACCESS_KEY_PRESENT"][0]
    assert (root["severity_id"], root["severity"]) == (5, "Critical")
    assert root["compliance"]["control"] == "IAM.4"
    assert "CIS AWS Foundations Benchmark v1.4-v4.0 1.4" in root["compliance"]["requirements"]
    assert root["resources"][-1]["uid"] == f"arn:aws:iam::{ASSESSED}:root"
    waived = [e for e in by_rule["ACCESS_KEY_NOT_ROTATED"] if e["status_id"] == 3]
    assert [(e["status"], e["unmapped"]["waiver_id"]) for e in waived] == [("Suppressed", "W-7")]
    low = by_rule["INACTIVE_KEY_NOT_REMOVED"][0]
    assert (low["severity_id"], low["severity"]) == (2, "Low")
    assert low["compliance"]["standards"] == ["keyaudit internal controls"]
    key = by_rule["ACCESS_KEY_UNUSED"][0]["resources"][0]
    assert key["type"] == "AWS::IAM::AccessKey"
    assert by_rule["ACCOUNT_NOT_ASSESSED"][0]["resources"][0]["type"] == "AWS::::Account"


def test_ocsf_event_of_an_account_not_assessed_claims_no_result_not_fail(events):
    (event,) = [e for e in events if e["finding_info"]["analytic"]["uid"] == "ACCOUNT_NOT_ASSESSED"]
    compliance = event["compliance"]
    # OCSF 1.3.0 compliance status_id 2, Warning: "did not yield a result due to missing
    # information"; 3 (Fail) would claim the account was audited and failed.
    assert (compliance["status_id"], compliance["status"]) == (2, "Warning")
    assert compliance["status_detail"] == FAILURE
    assert event["cloud"]["account"]["uid"] == NOT_ASSESSED


def test_exports_of_a_slice_hold_only_its_accounts(shared_db, tmp_path: Path):
    files = write_report(
        shared_db, RUN_ID, tmp_path, rules=RULES, formats="csv,ocsf", account_ids=[OTHER]
    )
    with files.csv.open(newline="", encoding="utf-8") as handle:
        assert [r["account_id"] for r in csv.DictReader(handle)] == [OTHER]
    lines = files.ocsf.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["cloud"]["account"]["uid"] for line in lines] == [OTHER]


def test_ocsf_names_an_ssh_key_or_certificate_finding_by_its_kind_not_as_an_access_key():
    from keyaudit.report.exports import _resources

    def resource(kind: str, credential_id: str | None, slot: int | None) -> dict:
        row = {
            "rule_id": "ANY_RULE",
            "account_id": "111122223333",
            "user_name": "ana",
            "user_arn": None,
            "credential_kind": kind,
            "credential_id": credential_id,
            "credential_slot": slot,
        }
        return _resources(row)[0]

    ssh = resource("ssh_public_key", "APKA" + "1" * 16, None)
    assert (ssh["type"], ssh["uid"]) == ("AWS::IAM::SSHPublicKey", "APKA" + "1" * 16)
    cert = resource("signing_certificate", None, 2)
    assert (cert["type"], cert["uid"]) == ("AWS::IAM::SigningCertificate", "ana certificate slot 2")
    key = resource("access_key", None, 1)
    assert (key["type"], key["uid"]) == ("AWS::IAM::AccessKey", "ana key slot 1")


SSH_KEY = "APKA" + "7" * 16
BEDROCK_KEY = "ACCA" + "7" * 17
CREDENTIAL_RULES = [
    FakeRule(
        "SSH_PUBLIC_KEY_NOT_ROTATED",
        "Active SSH public key not rotated within the limit",
        "medium",
        "Upload a new key.",
        "aws iam update-ssh-public-key --user-name <USER> --ssh-public-key-id <CREDENTIAL_ID>"
        " --status Inactive",
    ),
    FakeRule(
        "BEDROCK_API_KEY_WITHOUT_EXPIRY",
        "Bedrock API key without expiry",
        "high",
        "Delete it.",
    ),
    FakeRule(
        "SIGNING_CERTIFICATE_NOT_ROTATED",
        "Active signing certificate not rotated within the limit",
        "medium",
        "Upload a new certificate.",
    ),
]


@pytest.fixture(scope="module")
def credential_exports(warehouse_file: Path, tmp_path_factory: pytest.TempPathFactory):
    """The given run with the credential rules enabled and a finding of each: alice's SSH key,
    a Bedrock API key and her signing certificate in slot 1 (no id: the credential report),
    where her access key is also in slot 1; exported as CSV, JSON, OCSF and tickets."""
    folder = tmp_path_factory.mktemp("credentials")
    con = open_copy(warehouse_file, folder)
    try:
        for rule in CREDENTIAL_RULES:
            con.execute(
                "insert into run_rules (run_id, rule_id, title, severity, scope, enabled, controls,"
                " parameters, rationale, remediation, command)"
                " values (?, ?, ?, ?, 'key', true, '{}', '{}', 'why', ?, ?)",
                [RUN_ID, rule.rule_id, rule.title, rule.severity, rule.remediation, rule.command],
            )
        for finding_id, rule_id, credential_id, slot in [
            ("f-ssh", "SSH_PUBLIC_KEY_NOT_ROTATED", SSH_KEY, None),
            ("f-bedrock", "BEDROCK_API_KEY_WITHOUT_EXPIRY", BEDROCK_KEY, None),
            ("f-cert", "SIGNING_CERTIFICATE_NOT_ROTATED", None, 1),
        ]:
            con.execute(
                "insert into findings (run_id, finding_id, rule_id, severity, account_id,"
                " user_name, access_key_id, key_slot, reason, waived)"
                " values (?, ?, ?, 'medium', ?, 'alice', ?, ?, 'old', false)",
                [RUN_ID, finding_id, rule_id, ASSESSED, credential_id, slot],
            )
        files = write_report(
            con,
            RUN_ID,
            folder / "out",
            rules=RULES + CREDENTIAL_RULES,
            formats="csv,json,ocsf,tickets",
        )
    finally:
        con.close()
    with files.csv.open(newline="", encoding="utf-8") as handle:
        rows = {r["finding_id"]: r for r in csv.DictReader(handle)}
    findings = {f["finding_id"]: f for f in json.loads(files.json.read_text("utf-8"))["findings"]}
    events = [json.loads(line) for line in files.ocsf.read_text(encoding="utf-8").splitlines()]
    with files.tickets.open(newline="", encoding="utf-8") as handle:
        tickets = {t["External ID"]: t for t in csv.DictReader(handle)}
    return rows, findings, {e["finding_info"]["uid"]: e for e in events}, tickets


def test_exports_say_which_credential_a_finding_names_and_an_access_key_only_for_a_key(
    credential_exports,
):
    rows, findings, _, _ = credential_exports
    fields = ("credential_kind", "credential_id", "credential_slot", "access_key_id", "key_slot")
    assert {f: rows["f-alice"][f] for f in fields} == {
        "credential_kind": "access_key",
        "credential_id": "AKIAALICE00000000001",
        "credential_slot": "1",
        "access_key_id": "AKIAALICE00000000001",
        "key_slot": "1",
    }
    assert {f: rows["f-ssh"][f] for f in fields} == {
        "credential_kind": "ssh_public_key",
        "credential_id": SSH_KEY,
        "credential_slot": "",
        "access_key_id": "",
        "key_slot": "",
    }
    assert {f: findings["f-bedrock"][f] for f in fields} == {
        "credential_kind": "service_specific_credential",
        "credential_id": BEDROCK_KEY,
        "credential_slot": None,
        "access_key_id": None,
        "key_slot": None,
    }
    # the certificate in slot 1 is not alice's access key in slot 1: none of the key's facts
    cert = rows["f-cert"]
    assert (cert["credential_kind"], cert["credential_slot"]) == ("signing_certificate", "1")
    assert (cert["access_key_id"], cert["key_slot"], cert["key_created_at"]) == ("", "", "")
    root, user = rows["f-root"], rows["f-alice-mfa"]
    assert (root["credential_kind"], root["key_slot"]) == ("access_key", "1")  # the root's key
    assert (user["credential_kind"], user["credential_id"], user["access_key_id"]) == ("", "", "")


def test_credential_findings_fill_the_credential_id_into_ocsf_tickets_and_the_command(
    credential_exports,
):
    rows, _, events, tickets = credential_exports
    assert rows["f-ssh"]["remediation_command"] == (
        f"aws iam update-ssh-public-key --user-name alice --ssh-public-key-id {SSH_KEY}"
        " --status Inactive"
    )
    (resource, *_) = events["f-bedrock"]["resources"]
    assert (resource["type"], resource["uid"]) == (
        "AWS::IAM::ServiceSpecificCredential",
        BEDROCK_KEY,
    )
    assert f"SSH key {SSH_KEY}" in tickets["f-ssh"]["Summary"]
    assert f"SSH public key: {SSH_KEY}" in tickets["f-ssh"]["Description"]
    assert "Access key" not in tickets["f-ssh"]["Description"]
