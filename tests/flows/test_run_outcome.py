"""How a run ends: completed with findings, failed below the coverage minimum or when delivery
failed — with the report written and delivered either way — and what Prefect is told."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from flow_helpers import AS_OF, clean_aws_environment
from smtp_server import PASSWORD, USER, make_certificate, smtp_server
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.outcome import AuditResult, IncompleteRun
from keyaudit.sources.aws.errors import CollectionError
from keyaudit.warehouse.load import RunSummary

pytestmark = pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")
runner = CliRunner()
COMPLIANCE = "grc@example.com"


@pytest.fixture(scope="module")
def strict_demo(prefect_harness, tmp_path_factory) -> dict[str, Any]:
    """`keyaudit demo` with min_coverage 0.95 (the demo assesses 8 of 9) and e-mail delivery to
    a loopback SMTP server with a private CA and a login from the environment."""
    folder = tmp_path_factory.mktemp("strict")
    cert = make_certificate(folder)
    monkey = pytest.MonkeyPatch()
    clean_aws_environment(monkey, folder)
    monkey.chdir(folder)
    monkey.setenv("SMTP_USERNAME", USER)
    monkey.setenv("SMTP_PASSWORD", PASSWORD)
    try:
        with smtp_server(cert) as server:
            (folder / "keyaudit.toml").write_text(
                "[run]\nmin_coverage = 0.95\n"
                "[delivery]\nbackoff_seconds = 0\n"
                "[delivery.email]\n"
                f'smtp_host = "127.0.0.1"\nsmtp_port = {server.port}\nca_file = "{cert[0]}"\n'
                f'sender = "keyaudit@example.com"\ncompliance = ["{COMPLIANCE}"]\n'
            )
            result = runner.invoke(app, ["demo", "--as-of", AS_OF.isoformat()])
    finally:
        monkey.undo()
    return {"result": result, "messages": server.recorder.messages, "folder": folder}


def test_run_below_minimum_coverage_exits_3_with_one_line_after_the_summary(strict_demo):
    result = strict_demo["result"]
    assert result.exit_code == 3, result.output
    error_lines = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(error_lines) == 1
    assert error_lines[0].startswith("keyaudit: error: run ")
    assert (
        ": coverage 88.9% (8 of 9 accounts in scope assessed) is below run.min_coverage 95% — "
        "the report, marked INCOMPLETE, is "
    ) in error_lines[0]
    assert error_lines[0].endswith(
        "/report.html; fix the accounts it lists as not assessed, then rerun"
    )
    assert "INCOMPLETE: 1 account(s) could not be assessed" in result.stdout
    assert "e-mails: 5 of 5 delivered" in result.stdout


def test_report_of_an_incomplete_run_is_still_written_and_delivered(strict_demo):
    (run_dir,) = (strict_demo["folder"] / "data" / "reports").iterdir()
    assert (run_dir / "report.pdf").is_file() and (run_dir / "evidence-manifest.json").is_file()
    subjects = {m.rcpt_tos[0]: m.message["Subject"] for m in strict_demo["messages"]}
    assert subjects[COMPLIANCE].endswith("8 of 9 accounts assessed — INCOMPLETE")
    assert len(subjects) == 5  # the compliance list and the demo's four owners


def test_prefect_sees_a_failed_run_with_the_message_and_both_artifacts(strict_demo):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    (run_dir,) = (strict_demo["folder"] / "data" / "reports").iterdir()
    run_id = run_dir.name
    with get_client(sync_client=True) as client:
        flow_runs = client.read_flow_runs(limit=50)
        failed = [r for r in flow_runs if r.state and run_id in (r.state.message or "")]
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["keyaudit-run"]))
        )
        tables = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["keyaudit-accounts"]))
        )
    (flow_run,) = failed
    assert flow_run.state.is_failed()
    assert flow_run.state.message.startswith(f"run {run_id}: coverage 88.9%")
    markdown = next(a.data for a in artifacts if run_id in a.data)
    assert "**INCOMPLETE**" in markdown and "| 9 | 8 | 0 | 1 | 1 | 88.9% | 95% |" in markdown
    assert "## Problems" in markdown and "e-mails: 5 of 5 delivered" in markdown
    table = next(a for a in tables if run_id in (a.description or ""))
    rows = json.loads(table.data)  # the API keeps a table as JSON text
    assert len(rows) == 10 and {"account", "status", "open", "critical"} <= set(rows[0])


def result_with(**problems: str) -> AuditResult:
    summary = RunSummary("r-1", "2026-12-01T06:00:00+00:00", 9, 9, 0, 0, 1, {"high": 1}, {"X": 1})
    return AuditResult(
        summary=summary,
        min_coverage=0.8,
        html="/r/report.html",
        pdf="/r/report.pdf",
        pdf_pages=2,
        report_dir="/r",
        warehouse="/w.duckdb",
        evidence="/e/r-1",
        **problems,
    )


class FakeFlow:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def with_options(self, **_: Any) -> FakeFlow:
        return self

    def __call__(self, **_: Any) -> Any:
        raise self.error


def test_a_run_whose_delivery_failed_exits_4_with_the_line_naming_the_resend(monkeypatch, tmp_path):
    import flows.audit

    problem = (
        "delivery of run r-1 failed for 1 of 2 items (email grc@example.com: cannot reach "
        "smtp.example.com:587 (starttls)) — the report files are safe in /r; resend with "
        "`keyaudit deliver --run r-1`"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        flows.audit, "audit_flow", FakeFlow(IncompleteRun(result_with(delivery_problem=problem)))
    )
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 4
    assert result.stderr.splitlines()[-1] == f"keyaudit: error: {problem}"
    assert "Run r-1" in result.stdout


def throttled() -> CollectionError:
    error = ClientError(
        {"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}}, "ListAccounts"
    )
    try:
        raise CollectionError("throttled beyond the retry budget") from error
    except CollectionError as exc:
        return exc


def denied() -> CollectionError:
    error = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListAccounts")
    try:
        raise CollectionError("AccessDenied on organizations:ListAccounts") from error
    except CollectionError as exc:
        return exc


class Sessions:
    """Just enough of AccountSessions for discovery.mode = caller: fails `failures` times."""

    def __init__(self, errors: list[Exception]) -> None:
        self.errors, self.calls = errors, 0

    def caller_identity(self) -> dict[str, str]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {"account_id": "111122223333", "arn": "arn:aws:iam::111122223333:user/audit"}


def discover_with(sessions: Sessions) -> Any:
    from prefect import flow

    from flows.audit import discover_task
    from keyaudit.config import Config

    @flow
    def just_discover() -> Any:
        quick = discover_task.with_options(retry_delay_seconds=0, retry_jitter_factor=None)
        return quick(sessions, Config.model_validate({"discovery": {"mode": "caller"}}))

    return just_discover(return_state=True)


def test_discovery_is_retried_when_aws_throttles(prefect_harness):
    sessions = Sessions([throttled(), throttled()])
    state = discover_with(sessions)
    assert state.is_completed() and sessions.calls == 3
    assert state.result().caller_account_id == "111122223333"


def test_discovery_is_not_retried_when_access_is_denied(prefect_harness):
    sessions = Sessions([denied()])
    state = discover_with(sessions)
    assert state.is_failed() and sessions.calls == 1


@pytest.mark.parametrize(
    ("code", "status", "retried"),
    [
        ("Throttling", 400, True),
        ("ServiceUnavailable", 503, True),
        ("InternalFailure", 500, True),
        ("AccessDenied", 403, False),
        ("ValidationError", 400, False),
    ],
)
def test_retry_condition_takes_only_throttling_and_server_errors(code, status, retried):
    from prefect.states import Failed

    from flows.scale import only_throttling_or_5xx

    error = ClientError(
        {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op"
    )
    assert only_throttling_or_5xx(None, None, Failed(data=error)) is retried
    try:
        raise CollectionError("wrapped") from error
    except CollectionError as wrapped:
        assert only_throttling_or_5xx(None, None, Failed(data=wrapped)) is retried
