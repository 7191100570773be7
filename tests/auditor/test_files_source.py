"""Auditing a folder of credential reports: tolerant where real files vary, strict where a file
is wrong, and never silent about a file it could not use."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from pathlib import Path

import pytest

from keyaudit.evidence.store import EvidenceStore, sha256_file
from keyaudit.integrity.resume import ResumeError
from keyaudit.pipeline import AuditRequest
from keyaudit.rules.catalogue import load_catalogue
from keyaudit.sources.files import FilesSourceError, check_folder, collect_files
from keyaudit.warehouse.load import REASON_STORED_CHARS, load_run
from tests.auditor.given import (
    ALICE_KEY,
    AS_OF,
    CI_DEPLOY_KEY,
    HEADER,
    RUN_ID,
    A,
    B,
    access_keys,
    alice,
    audit_files,
    bob,
    ci_deploy,
    folder_of,
    report,
    root,
    with_cell,
)
from tests.runs import RecordingSteps, run_until, write_config

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow


def findings(run, account_id: str) -> set[tuple[str, str | None]]:
    return {
        (rule, user)
        for rule, user in run.rows(
            "select rule_id, user_name from findings where run_id = ? and account_id = ?",
            run.run_id,
            account_id,
        )
    }


# --- a clean folder ---------------------------------------------------------------------------


def test_reports_named_by_account_id_are_assessed_and_copied_byte_for_byte(tmp_path: Path):
    folder = folder_of(tmp_path, {f"{A}.csv": report(A), f"{B}.csv": report(B)})
    run = audit_files(folder, tmp_path)

    assert run.account(A) == ("assessed", None)
    assert run.account(B) == ("assessed", None)
    for account in (A, B):
        copied = run.store.run_dir / account / "credential_report.csv"
        assert copied.read_bytes() == (folder / f"{account}.csv").read_bytes()
    users = run.rows(
        "select account_id, count(*) from credential_report where run_id = ? group by 1 order by 1",
        run.run_id,
    )
    assert users == [(A, 4), (B, 4)]


def test_the_same_rules_run_on_files_with_key_ids_null(tmp_path: Path):
    run = audit_files(folder_of(tmp_path, {f"{A}.csv": report(A)}), tmp_path)
    assert {("ACCESS_KEY_NOT_ROTATED", "ci-deploy"), ("CONSOLE_USER_WITHOUT_MFA", "bob")} <= (
        findings(run, A)
    )
    key_ids = run.rows(
        "select access_key_id from findings where run_id = ? and rule_id = 'ACCESS_KEY_NOT_ROTATED'",
        run.run_id,
    )
    assert key_ids == [(None,)]


def test_run_records_source_files_and_scope_files(tmp_path: Path):
    run = audit_files(folder_of(tmp_path, {f"{A}.csv": report(A)}), tmp_path)
    source, scope, caller = run.rows(
        "select source, scope, caller_arn from runs where run_id = ?", run.run_id
    )[0]
    assert (source, scope, caller) == ("files", "files", None)


def test_every_file_is_listed_with_its_sha256_in_run_json_and_input_files(tmp_path: Path):
    folder = folder_of(
        tmp_path,
        {f"{A}.csv": report(A), f"{A}.access_keys.json": json.dumps(access_keys())},
    )
    run = audit_files(folder, tmp_path)

    def sha(name: str) -> str:
        return hashlib.sha256((folder / name).read_bytes()).hexdigest()

    listed = {f["name"]: f for f in run.run_meta()["files"]}
    assert listed[f"{A}.csv"]["sha256"] == sha(f"{A}.csv")
    assert listed[f"{A}.access_keys.json"]["sha256"] == sha(f"{A}.access_keys.json")
    assert run.run_meta()["files_dir"] == str(folder.resolve())
    rows = run.rows(
        "select file_name, kind, status, account_id, account_from, sha256, evidence_path "
        "from input_files where run_id = ? order by file_name",
        run.run_id,
    )
    assert rows == [
        (
            f"{A}.access_keys.json",
            "access_keys",
            "used",
            A,
            "file name",
            sha(f"{A}.access_keys.json"),
            f"{A}/access_keys.input.json",
        ),
        (
            f"{A}.csv",
            "credential_report",
            "assessed",
            A,
            "file name",
            sha(f"{A}.csv"),
            f"{A}/credential_report.csv",
        ),
    ]
    # the copy in the evidence folder has the hash of the file handed in
    evidence = dict(run.rows("select path, sha256 from evidence where run_id = ?", run.run_id))
    assert evidence[f"{A}/credential_report.csv"] == sha(f"{A}.csv")


# --- where the account id comes from -------------------------------------------------------------


def test_account_id_comes_from_the_arns_when_the_file_name_is_not_an_id(tmp_path: Path):
    run = audit_files(folder_of(tmp_path, {"prod-account.csv": report(B)}), tmp_path)
    assert run.account(B) == ("assessed", None)
    assert run.rows(
        "select account_from, evidence_path from input_files where file_name = 'prod-account.csv'"
    ) == [("arns", f"{B}/credential_report.csv")]


def test_file_name_and_arns_disagreeing_refuses_that_file_and_the_others_go_on(tmp_path: Path):
    folder = folder_of(tmp_path, {f"{A}.csv": report(B), f"{B}.csv": report(B)})
    run = audit_files(folder, tmp_path)

    assert run.account(A) == (
        "not_assessed",
        f"account {A}: file {A}.csv: the file name says account {A} but its ARNs name account "
        f"{B} — check that this is {A}'s report, then rename or replace the file",
    )
    assert run.account(B) == ("assessed", None)
    assert ("ACCOUNT_NOT_ASSESSED", None) in findings(run, A)


def test_two_reports_for_one_account_are_both_refused(tmp_path: Path):
    folder = folder_of(tmp_path, {f"{A}.csv": report(A), "copy-of-a.csv": report(A)})
    run = audit_files(folder, tmp_path)
    assert run.account(A) == (
        "not_assessed",
        f"account {A}: 2 credential reports given ({A}.csv, copy-of-a.csv) — keep one file per account",
    )
    kept = sorted(p.name for p in (run.store.run_dir / A).iterdir())
    assert "duplicate-1.csv" in kept and "duplicate-2.csv" in kept


def test_a_reason_naming_many_duplicate_files_names_three_and_counts_the_rest(
    tmp_path: Path,
):
    copies = {f"copy-{n:03}.csv": report(A) for n in range(1, 40)}
    store = EvidenceStore(tmp_path / "evidence", "run-1")
    store.prepare()
    found = collect_files(folder_of(tmp_path, {f"{A}.csv": report(A), **copies}), store)
    assert found.outcomes[A].error == (
        f"account {A}: 40 credential reports given ({A}.csv, copy-001.csv, copy-002.csv and "
        "37 more) — keep one file per account"
    )


def test_a_reason_is_stored_at_most_2000_characters_keeping_its_start_and_its_fix(
    tmp_path: Path,
):
    """However a reason grew (one once listed 84,479 characters of file names), the warehouse
    keeps its start and its end, the fix, and says how much was left out between them."""
    run = audit_files(folder_of(tmp_path, {f"{A}.csv": report(A), f"{B}.csv": "x\n"}), tmp_path)
    outcome = run.store.run_dir / B / "collection.json"
    saved = json.loads(outcome.read_text())
    start, fix = f"account {B}: the files ", "— keep one file per account"
    saved["error"] = start + "duplicate.csv, " * 5628 + fix
    assert len(saved["error"]) == 84_479
    outcome.write_text(json.dumps(saved))
    load_run(run.con, run.store, rules=load_catalogue(), finished_at=AS_OF, manifest_sha256=None)

    status, error = run.account(B)
    assert status == "not_assessed" and len(error) <= REASON_STORED_CHARS
    assert error.startswith(start) and error.endswith(fix)
    assert re.search(r" … \(8[0-9],[0-9]{3} characters left out\) … ", error)
    [(finding,)] = run.rows(
        "select reason from findings where rule_id = 'ACCOUNT_NOT_ASSESSED' and account_id = ?", B
    )
    assert finding.endswith(fix) and len(finding) <= REASON_STORED_CHARS + 100


# --- strict where a file is wrong ----------------------------------------------------------------

WRONG_FILES = {
    "missing column": (
        "\n".join(
            [
                HEADER.replace(",mfa_active", ""),
                root(A).replace(",true,false,N/A,N/A", ",false,N/A,N/A", 1),
            ]
        )
        + "\n",
        f"account {A}: file {A}.csv, line 1: header has missing column(s) mfa_active — expected "
        "the 22 credential report columns in AWS order (user, arn, ..., cert_2_last_rotated); "
        "use the file as IAM returns it",
    ),
    "unknown column": (
        "\n".join([HEADER + ",department", root(A) + ",ops"]) + "\n",
        f"account {A}: file {A}.csv, line 1: header has unknown column(s) 'department' — expected "
        "the 22 credential report columns in AWS order (user, arn, ..., cert_2_last_rotated); "
        "use the file as IAM returns it",
    ),
    "unparseable date": (
        "\n".join([HEADER, root(A), with_cell(alice(A), "access_key_1_last_rotated", "01/10/2026")])
        + "\n",
        f"account {A}: file {A}.csv, line 3, column access_key_1_last_rotated: '01/10/2026' is "
        "neither a timestamp like 2024-01-31T09:15:00+00:00 nor one of N/A, no_information, "
        "not_supported — fetch the report again or fix the file",
    ),
    "truncated": (
        "\n".join([HEADER, root(A), alice(A), ci_deploy(A)[:60]]),
        f"account {A}: file {A}.csv, line 4: 3 fields, expected 22 (it ends after column "
        "user_creation_time) — the file looks truncated or edited; fetch the report again or fix the file",
    ),
    "empty": (
        "",
        f"account {A}: file {A}.csv: the file is empty — expected a CSV starting with the header "
        "'user,arn,user_creation_time,...'; fetch the report again or fix the file",
    ),
    "header only": (
        HEADER + "\n",
        f"account {A}: file {A}.csv: a header but no rows (a real report always has the "
        "<root_account> row) — the file looks truncated; fetch the report again",
    ),
}


@pytest.mark.parametrize("case", list(WRONG_FILES))
def test_a_wrong_file_makes_its_account_not_assessed_with_the_reason(tmp_path: Path, case: str):
    content, reason = WRONG_FILES[case]
    run = audit_files(folder_of(tmp_path, {f"{A}.csv": content}), tmp_path)

    assert run.account(A) == ("not_assessed", reason)
    assert run.rows(
        "select reason from findings where rule_id = 'ACCOUNT_NOT_ASSESSED' and account_id = ?", A
    ) == [(reason,)]
    assert run.rows("select accounts_in_scope, accounts_assessed from runs") == [(1, 0)]


def test_two_accounts_in_one_folder_where_one_file_is_broken(tmp_path: Path):
    broken = "\n".join([HEADER, root(B), with_cell(bob(B), "user_creation_time", "yesterday")])
    folder = folder_of(tmp_path, {f"{A}.csv": report(A), f"{B}.csv": broken})
    run = audit_files(folder, tmp_path)

    assert run.account(A) == ("assessed", None)
    status, error = run.account(B)
    assert status == "not_assessed"
    assert error.startswith(
        f"account {B}: file {B}.csv, line 3, column user_creation_time: 'yesterday'"
    )
    assert ("ACCESS_KEY_NOT_ROTATED", "ci-deploy") in findings(run, A)
    assert findings(run, B) == {("ACCOUNT_NOT_ASSESSED", None)}
    assert run.rows(
        "select accounts_in_scope, accounts_assessed, accounts_not_assessed from runs"
    ) == [(2, 1, 1)]


# --- tolerant where real files vary ---------------------------------------------------------------

TOLERATED = {
    "utf-8 BOM": b"\xef\xbb\xbf" + report(A).encode(),
    "CRLF line endings": report(A, newline="\r\n").encode(),
    "no trailing newline": report(A, end="").encode(),
    "upper-case booleans": "\n".join(
        [
            HEADER,
            root(A).replace(",true,", ",TRUE,"),
            alice(A).replace("true", "TRUE"),
            bob(A).replace("false", "FALSE"),
            ci_deploy(A),
        ]
    ).encode(),
}


@pytest.mark.parametrize("case", list(TOLERATED))
def test_real_file_variations_are_read_like_the_plain_file(tmp_path: Path, case: str):
    folder = folder_of(tmp_path, {f"{A}.csv": TOLERATED[case]})
    run = audit_files(folder, tmp_path)

    assert run.account(A) == ("assessed", None)
    rows = run.rows(
        'select "user", password_enabled, mfa_active, access_key_1_active, cert_2_last_rotated '
        "from credential_report order by line_number"
    )
    assert rows == [
        ("<root_account>", "not_supported", "true", "false", "N/A"),
        ("alice", "true", "true", "true", "N/A"),
        ("bob", "true", "false", "false", "N/A"),
        ("ci-deploy", "false", "false", "true", "N/A"),
    ]
    assert (run.store.run_dir / A / "credential_report.csv").read_bytes() == TOLERATED[case]


def test_repeated_user_row_is_kept_once_and_noted(tmp_path: Path):
    content = "\n".join([HEADER, root(A), bob(A), alice(A), bob(A)]) + "\n"
    run = audit_files(folder_of(tmp_path, {f"{A}.csv": content}), tmp_path)

    assert run.account(A) == ("assessed", None)
    assert run.rows("select count(*) from credential_report where \"user\" = 'bob'") == [(1,)]
    assert run.notes("credential_report") == [
        (A, "user 'bob' appears twice (lines 3 and 5); kept the first")
    ]


# --- nothing is skipped silently -------------------------------------------------------------------


def test_report_naming_no_account_is_kept_as_evidence_and_noted(tmp_path: Path):
    folder = folder_of(tmp_path, {f"{A}.csv": report(A), "march.csv": "user,arn\n"})
    run = audit_files(folder, tmp_path)

    [(account_id, message)] = run.notes("unattributed_file")
    assert account_id is None
    assert message.startswith(
        "file march.csv, line 1: header has missing column(s) user_creation_time"
    )
    assert message.endswith(
        ". No account id in the file name or its ARNs — name the file <12-digit account id>.csv"
    )
    assert (run.store.run_dir / "unattributed-march.csv").read_bytes() == b"user,arn\n"
    assert run.rows(
        "select status, account_id, evidence_path from input_files where file_name = 'march.csv'"
    ) == [("unattributed", None, "unattributed-march.csv")]
    assert run.rows("select count(*) from accounts") == [(1,)]


def stopped_before_loading(tmp_path: Path, files: dict[str, str]) -> AuditRequest:
    """A files run read and recorded but never loaded; the request that resumes it."""
    config = write_config(tmp_path / "keyaudit.toml", data_dir=tmp_path)
    request = AuditRequest(
        source="files",
        config_file=config,
        files_dir=folder_of(tmp_path, files),
        as_of=AS_OF,
        db=tmp_path / "w.duckdb",
        run_id=RUN_ID,
    )
    run_until(request, RecordingSteps(stop_before="load"), now=lambda: AS_OF)
    return AuditRequest(config_file=config, db=tmp_path / "w.duckdb", resume=RUN_ID)


def test_resume_of_a_files_run_loads_the_report_it_kept_at_run_level(tmp_path: Path):
    resume = stopped_before_loading(tmp_path, {f"{A}.csv": report(A), "march.csv": "user,arn\n"})
    steps = run_until(resume, RecordingSteps(stop_after="load"), now=lambda: AS_OF)
    assert steps.called == ["load"]


def test_resume_of_a_files_run_refuses_a_changed_report_kept_at_run_level(tmp_path: Path):
    resume = stopped_before_loading(tmp_path, {f"{A}.csv": report(A), "march.csv": "user,arn\n"})
    kept = tmp_path / "evidence" / RUN_ID / "unattributed-march.csv"
    before = sha256_file(kept)
    kept.write_bytes(b"user,arn\nmallory,arn:aws:iam::111122223333:user/mallory\n")
    with pytest.raises(ResumeError) as refused:
        run_until(resume, RecordingSteps(stop_after="load"), now=lambda: AS_OF)
    assert str(refused.value) == (
        f"run {RUN_ID}: unattributed-march.csv was changed after it was collected (SHA-256 is "
        f"{sha256_file(kept)[:12]}…; run.json {before[:12]}…) — a resume loads evidence only "
        "as it was collected; start a new run"
    )


def test_broken_report_with_one_account_in_its_arns_is_that_accounts_not_assessed(tmp_path: Path):
    broken = "\n".join([HEADER, root(B), ci_deploy(B)[:80]])
    run = audit_files(folder_of(tmp_path, {"from-owner.csv": broken}), tmp_path)
    status, error = run.account(B)
    assert status == "not_assessed"
    assert error.startswith(f"account {B}: file from-owner.csv, line 3: ")


def test_other_files_and_folders_are_listed_as_ignored(tmp_path: Path):
    folder = folder_of(tmp_path, {f"{A}.csv": report(A), "README.txt": "from the owners"})
    (folder / "old").mkdir()
    run = audit_files(folder, tmp_path)

    assert run.notes("ignored_file") == [
        (
            None,
            "file README.txt ignored: neither a credential report (*.csv) nor <12-digit account id>.access_keys.json",
        ),
        (None, "folder old ignored: reports are read from the folder itself, not subfolders"),
    ]
    assert run.rows("select file_name, status from input_files order by file_name") == [
        (f"{A}.csv", "assessed"),
        ("README.txt", "ignored"),
        ("old", "ignored"),
    ]


def test_unreadable_report_is_not_assessed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = folder_of(tmp_path, {f"{A}.csv": report(A)})
    unreadable = folder / f"{A}.csv"
    real_open = os.open

    def refused(path, flags, *args):  # what chmod 000 does, for root too (CI runs as root)
        if Path(path) == unreadable:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refused)
    run = audit_files(folder, tmp_path)
    assert run.account(A) == (
        "not_assessed",
        f"account {A}: file {A}.csv cannot be read (Permission denied) — fix its permissions",
    )


# --- access keys beside a report -------------------------------------------------------------------


@pytest.mark.parametrize("last_used_name", ["LastUsed", "AccessKeyLastUsed"])
def test_access_keys_file_adds_key_ids_and_last_use(tmp_path: Path, last_used_name: str):
    folder = folder_of(
        tmp_path,
        {
            f"{A}.csv": report(A),
            f"{A}.access_keys.json": json.dumps(access_keys(last_used_name=last_used_name)),
        },
    )
    run = audit_files(folder, tmp_path)

    assert run.account(A) == ("assessed", None)
    keys = run.rows(
        "select user_name, access_key_id, source, last_used_region from keys order by user_name"
    )
    assert keys == [
        ("alice", ALICE_KEY, "report+api", "eu-west-1"),
        ("ci-deploy", CI_DEPLOY_KEY, "report+api", "ap-south-1"),
    ]
    assert run.rows(
        "select access_key_id from findings where rule_id = 'ACCESS_KEY_NOT_ROTATED'"
    ) == [(CI_DEPLOY_KEY,)]
    stored = json.loads((run.store.run_dir / A / "access_keys.json").read_text())
    assert stored[1] == {
        "UserName": "ci-deploy",
        "AccessKeyId": CI_DEPLOY_KEY,
        "Status": "Active",
        "CreateDate": "2025-06-01T14:22:05+00:00",
        "LastUsed": {
            "LastUsedDate": "2026-11-29T23:45:00+00:00",
            "ServiceName": "sts",
            "Region": "ap-south-1",
        },
    }


def _without_last_used() -> str:
    keys = access_keys()
    del keys[1]["LastUsed"]
    return json.dumps(keys)


def _naive_date() -> str:
    keys = access_keys()
    keys[0]["CreateDate"] = "2026-10-01 08:30:12"
    return json.dumps(keys)


BAD_KEYS = {
    "not JSON": (
        "[{",
        f"file {A}.access_keys.json: not valid JSON (Expecting property name enclosed in double "
        "quotes at line 1, column 3) — fix the file, or leave it out to audit from the credential "
        "report alone",
    ),
    "no last use": (
        _without_last_used(),
        f"file {A}.access_keys.json, key 2 ({CI_DEPLOY_KEY}): no last-use data (LastUsed or "
        "AccessKeyLastUsed from GetAccessKeyLastUsed) — add it; fix the file, or leave it out to "
        "audit from the credential report alone",
    ),
    "date without zone": (
        _naive_date(),
        f"file {A}.access_keys.json, key 1 ({ALICE_KEY}): CreateDate '2026-10-01 08:30:12' is not "
        "a timestamp with a time zone (e.g. 2024-01-15T08:30:12+00:00) — fix the file, or leave it "
        "out to audit from the credential report alone",
    ),
}


@pytest.mark.parametrize("case", list(BAD_KEYS))
def test_bad_access_keys_file_leaves_the_account_partial_with_the_reason(tmp_path: Path, case: str):
    content, problem = BAD_KEYS[case]
    folder = folder_of(tmp_path, {f"{A}.csv": report(A), f"{A}.access_keys.json": content})
    run = audit_files(folder, tmp_path)

    assert run.account(A) == (
        "partial",
        f"account {A}: {problem}; findings use the credential report only",
    )
    assert run.rows("select count(*) from access_keys") == [(0,)]
    assert ("ACCESS_KEY_NOT_ROTATED", "ci-deploy") in findings(run, A)
    assert run.rows("select status from input_files where kind = 'access_keys'") == [("not_used",)]


def test_access_keys_file_without_a_report_is_that_accounts_not_assessed(tmp_path: Path):
    folder = folder_of(
        tmp_path, {f"{A}.csv": report(A), f"{B}.access_keys.json": json.dumps(access_keys())}
    )
    run = audit_files(folder, tmp_path)
    assert run.account(B) == (
        "not_assessed",
        f"account {B}: {B}.access_keys.json has no credential report beside it — add the "
        f"account's report ({B}.csv)",
    )


# --- the folder itself --------------------------------------------------------------------------


def test_missing_folder_is_refused_in_one_line(tmp_path: Path):
    with pytest.raises(FilesSourceError) as caught:
        check_folder(tmp_path / "nope")
    assert str(caught.value) == (
        f"credential report folder {tmp_path / 'nope'} does not exist — give the folder holding "
        "the reports (<account id>.csv)"
    )


def test_folder_without_any_report_is_refused(tmp_path: Path):
    folder = folder_of(tmp_path, {"notes.txt": "x"})
    with pytest.raises(FilesSourceError) as caught:
        check_folder(folder)
    assert str(caught.value) == (
        f"credential report folder {folder} holds no credential report (*.csv) — put one "
        "<12-digit account id>.csv per account in it"
    )


def test_a_file_instead_of_a_folder_is_refused(tmp_path: Path):
    path = tmp_path / f"{A}.csv"
    path.write_text(report(A))
    with pytest.raises(FilesSourceError, match="is not a folder"):
        check_folder(path)


def test_files_source_never_opens_an_aws_session(monkeypatch: pytest.MonkeyPatch):
    from keyaudit.config import Config
    from keyaudit.sources.provider import open_source

    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    with open_source("files", Config(), run_id="r", as_of=AS_OF) as src:
        assert src.name == "files"
