"""One real demo run of the pipeline, inspected from the outside: no assumed-role secret in any
log line, result or file; every file owner-only and named from account ids; every API call granted
by deploy/; the report says who ran the audit. (What Prefect records of a flow run is checked for
the same secrets in tests/flows/test_on_prefect.py.)"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from keyaudit.evidence.scps import SCP_FILE
from keyaudit.outcome import AuditResult
from keyaudit.pipeline import AuditRequest, run_audit
from keyaudit.report import FILE_NAMES
from tests.runs import isolated
from tests.security.deploy_files import actions, policy
from tests.security.watch import KeepLogs, SecretWatch

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
EVIDENCE_FILES = {
    "credential_report.csv",
    "credential_report.json",
    "users.json",
    "access_keys.json",
    "account_summary.json",
    "authorization_details.json",
    "aws_managed_policies.json",
    "privilege.json",
    "ssh_public_keys.json",
    "service_specific_credentials.json",
    "signing_certificates.json",
    "credentials.json",
    "collection.json",
    "manifest.json",
}


@dataclass
class Run:
    folder: Path
    result: AuditResult
    watch: SecretWatch
    log_lines: list[str]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("secrets")
    with isolated(folder) as patch, SecretWatch().on(patch) as watch, KeepLogs().on() as logs:
        patch.chdir(folder)
        patch.setenv("KEYAUDIT_REPORT__PDF_DETAIL_LIMIT", "0")  # a smaller PDF, same checks
        result = run_audit(AuditRequest(source="demo", as_of=AS_OF)).result
    return Run(folder, result, watch, logs.lines)


def _warehouse_text(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()]
        return "\n".join(str(con.execute(f'select * from "{t}"').fetchall()) for t in tables)
    finally:
        con.close()


def test_the_run_assumed_roles_and_its_secrets_were_seen(run: Run):
    assert len(run.watch.secrets) >= 2 * 7  # a secret key and a session token per reachable member
    assert all(len(s) >= 20 for s in run.watch.secrets)


def test_no_log_line_or_result_holds_an_assumed_role_secret(run: Run):
    assert run.log_lines, "nothing was logged: the capture is broken"
    assert any("collected" in line for line in run.log_lines)
    assert not run.watch.leaked("\n".join(run.log_lines)), "assumed-role secrets in the log"
    assert not run.watch.leaked(run.result.model_dump_json()), "assumed-role secrets in the result"


def test_no_file_of_the_run_holds_an_assumed_role_secret(run: Run):
    files = [p for p in run.folder.rglob("*") if p.is_file()]
    assert any(p.suffix == ".duckdb" for p in files) and any(p.suffix == ".pdf" for p in files)
    for path in files:
        leaked = run.watch.leaked(path.read_bytes())
        assert not leaked, f"assumed-role secrets in {path}: {leaked}"
    text = _warehouse_text(Path(run.result.warehouse))  # compressed columns, read back
    assert not run.watch.leaked(text)


def test_every_file_and_folder_of_the_run_is_owner_only(run: Run):
    data = run.folder / "data"
    checked = 0
    for path in [data, *data.rglob("*")]:
        mode = path.stat().st_mode & 0o777
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
        checked += 1
    assert checked > 50


def test_evidence_and_report_files_are_named_from_account_ids_only(run: Run):
    evidence = Path(run.result.evidence)
    meta = json.loads((evidence / "run.json").read_text(encoding="utf-8"))
    accounts = {a["account_id"] for a in meta["accounts"]}
    for path in evidence.iterdir():
        if path.is_dir():
            assert re.fullmatch(r"[0-9]{12}", path.name) and path.name in accounts, path
            assert {p.name for p in path.iterdir()} <= EVIDENCE_FILES, path
        else:
            assert path.name in {"run.json", "manifest.json", "SHA256SUMS", SCP_FILE}, path
    report_dir = Path(run.result.html).parent
    names = {p.name for p in report_dir.iterdir()}
    assert set(FILE_NAMES.values()) & names >= {"report.html", "report.pdf"}
    for name in names:  # fixed names, or derived from an account id: never from AWS's data
        assert re.fullmatch(r"([a-z][a-z0-9-]*|[0-9]{12})(\.[a-z0-9-]+)*", name), name


def test_every_api_call_of_the_demo_run_is_granted_by_the_deploy_policies(run: Run):
    caller = {"base", "123456789012"}
    calls = run.watch.recorder.principal_calls
    by_caller = {a for who, a in calls if who in caller}
    by_role = {a for who, a in calls if who not in caller}
    assert by_caller - {"sts:GetCallerIdentity"} <= actions(policy("management-policy.json"))
    assert by_role <= actions(policy("audit-role-policy.json"))
    assert "iam:GetAccessKeyLastUsed" in by_role


def test_the_report_and_the_warehouse_say_who_ran_the_audit(run: Run):
    con = duckdb.connect(run.result.warehouse, read_only=True)
    try:
        (arn,) = con.execute(
            "select caller_arn from runs where run_id = ?", [run.result.run_id]
        ).fetchone()
    finally:
        con.close()
    assert re.fullmatch(r"arn:aws:(iam|sts)::123456789012:user/moto", arn)  # GetCallerIdentity
    assert arn in Path(run.result.html).read_text(encoding="utf-8")
