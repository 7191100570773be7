"""One real demo flow run, inspected from the outside: no assumed-role secret in any log line,
Prefect record, artifact or file; every file owner-only and named from account ids; every API
call granted by deploy/; the report says who ran the audit."""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
from deploy_files import actions, policy
from fault_harness import FaultInjector

import keyaudit.sources.provider
from keyaudit.report.render import FILE_NAMES
from keyaudit.sources.aws.session import AccountSessions

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
EVIDENCE_FILES = {
    "credential_report.csv",
    "credential_report.json",
    "users.json",
    "access_keys.json",
    "account_summary.json",
    "collection.json",
    "manifest.json",
}


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text}")


@dataclass
class Run:
    folder: Path
    result: dict[str, Any]
    secrets: set[str]
    recorder: FaultInjector
    log_lines: list[str]
    prefect_records: list[str] = field(default_factory=list)
    started: float = 0.0


@pytest.fixture(scope="module")
def run(flow_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Run:
    import flows.audit as audit

    folder = tmp_path_factory.mktemp("secrets")
    recorder = FaultInjector()
    secrets: set[str] = set()

    def keep_secrets(account_id: str, session: boto3.Session) -> None:
        def grab(parsed: dict[str, Any], **_: Any) -> None:
            creds = parsed.get("Credentials") or {}
            secrets.update(v for k, v in creds.items() if k in ("SecretAccessKey", "SessionToken"))

        if account_id == "base":
            session.events.register("after-call.sts.AssumeRole", grab)

    class Recording(AccountSessions):
        def __init__(self, base: Any = None, settings: Any = None, customizers: Any = ()):
            super().__init__(base, settings, [*customizers, recorder.customize, keep_secrets])

    keep = _Keep()
    loggers = [logging.getLogger(n) for n in ("", "keyaudit", "prefect", "botocore", "moto")]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(keep)
    logging.getLogger("").setLevel(logging.INFO)  # the run's own loggers: everything they say
    logging.getLogger("keyaudit").setLevel(logging.DEBUG)
    logging.getLogger("prefect").setLevel(logging.DEBUG)
    started = time.time()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(folder)
            patch.setenv("KEYAUDIT_REPORT__PDF_DETAIL_LIMIT", "0")  # a smaller PDF, same checks
            patch.setattr(keyaudit.sources.provider, "AccountSessions", Recording)
            state = audit.audit_flow(source="demo", as_of=AS_OF, return_state=True)
            result = state.result()
    finally:
        for lg, level in saved:
            lg.removeHandler(keep)
            lg.setLevel(level)
    found = Run(folder, result, secrets, recorder, keep.lines, started=started)
    found.prefect_records = _prefect_records(state.state_details.flow_run_id)
    return found


def _prefect_records(flow_run_id: Any) -> list[str]:
    """Everything the Prefect API holds about the run: logs, artifacts, parameters, task runs."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )

    runs = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        artifacts = client.read_artifacts(flow_run_filter=runs)
        flow_run = client.read_flow_run(flow_run_id)
        task_runs = client.read_task_runs(flow_run_filter=runs)
    return [
        *(log.message for log in logs),
        *(a.model_dump_json() for a in artifacts),
        flow_run.model_dump_json(),
        *(t.model_dump_json() for t in task_runs),
    ]


def _warehouse_text(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()]
        return "\n".join(str(con.execute(f'select * from "{t}"').fetchall()) for t in tables)
    finally:
        con.close()


def test_the_run_assumed_roles_and_its_secrets_were_seen(run: Run):
    assert len(run.secrets) >= 2 * 7  # a secret key and a session token per reachable member
    assert all(len(s) >= 20 for s in run.secrets)


def test_no_log_line_or_prefect_record_holds_an_assumed_role_secret(run: Run):
    assert run.log_lines, "nothing was logged: the capture is broken"
    assert any("collected" in line for line in run.log_lines)
    assert run.prefect_records
    haystacks = {"log": "\n".join(run.log_lines), "prefect": "\n".join(run.prefect_records)}
    haystacks["result"] = json.dumps(run.result, default=str)
    for where, text in haystacks.items():
        leaked = [s[:6] + "…" for s in run.secrets if s in text]
        assert not leaked, f"assumed-role secrets in the {where}: {leaked}"


def test_no_file_of_the_run_holds_an_assumed_role_secret(run: Run):
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH

    files = [p for p in run.folder.rglob("*") if p.is_file()]
    storage = Path(PREFECT_LOCAL_STORAGE_PATH.value()).expanduser()
    if storage.is_dir():  # results persisted by Prefect during this run, if any
        files += [p for p in storage.rglob("*") if p.is_file() and p.stat().st_mtime >= run.started]
    assert any(p.suffix == ".duckdb" for p in files) and any(p.suffix == ".pdf" for p in files)
    for path in files:
        data = path.read_bytes()
        leaked = [s[:6] + "…" for s in run.secrets if s.encode() in data]
        assert not leaked, f"assumed-role secrets in {path}: {leaked}"
    text = _warehouse_text(Path(run.result["warehouse"]))  # compressed columns, read back
    assert not [s for s in run.secrets if s in text]


def test_every_file_and_folder_of_the_run_is_owner_only(run: Run):
    data = run.folder / "data"
    checked = 0
    for path in [data, *data.rglob("*")]:
        mode = path.stat().st_mode & 0o777
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
        checked += 1
    assert checked > 50


def test_evidence_and_report_files_are_named_from_account_ids_only(run: Run):
    evidence = Path(run.result["evidence"])
    meta = json.loads((evidence / "run.json").read_text(encoding="utf-8"))
    accounts = {a["account_id"] for a in meta["accounts"]}
    for path in evidence.iterdir():
        if path.is_dir():
            assert re.fullmatch(r"[0-9]{12}", path.name) and path.name in accounts, path
            assert {p.name for p in path.iterdir()} <= EVIDENCE_FILES, path
        else:
            assert path.name in {"run.json", "manifest.json"}, path
    report_dir = Path(run.result["html"]).parent
    names = {p.name for p in report_dir.iterdir()}
    assert set(FILE_NAMES.values()) & names >= {"report.html", "report.pdf"}
    for name in names:  # fixed names, or derived from an account id: never from AWS's data
        assert re.fullmatch(r"([a-z][a-z0-9-]*|[0-9]{12})(\.[a-z0-9-]+)*", name), name


def test_every_api_call_of_the_demo_run_is_granted_by_the_deploy_policies(run: Run):
    caller = {"base", "123456789012"}
    by_caller = {a for who, a in run.recorder.principal_calls if who in caller}
    by_role = {a for who, a in run.recorder.principal_calls if who not in caller}
    assert by_caller - {"sts:GetCallerIdentity"} <= actions(policy("management-policy.json"))
    assert by_role <= actions(policy("audit-role-policy.json"))
    assert "iam:GetAccessKeyLastUsed" in by_role


def test_the_report_and_the_warehouse_say_who_ran_the_audit(run: Run):
    con = duckdb.connect(run.result["warehouse"], read_only=True)
    try:
        (arn,) = con.execute(
            "select caller_arn from runs where run_id = ?", [run.result["summary"]["run_id"]]
        ).fetchone()
    finally:
        con.close()
    assert re.fullmatch(r"arn:aws:(iam|sts)::123456789012:user/moto", arn)  # GetCallerIdentity
    assert arn in Path(run.result["html"]).read_text(encoding="utf-8")
