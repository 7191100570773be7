"""How a run ends, as the CLI tells it: exit 4 with the resend line when delivery failed, by
either way of running (the Prefect flow, or the pipeline in this process); and which failures
Prefect retries. (Below-coverage runs, exit 3 and what Prefect is told: tests/flows/test_on_prefect.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.outcome import AuditResult, IncompleteRun
from keyaudit.sources.aws.errors import CollectionError
from keyaudit.warehouse.load import RunSummary

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

runner = CliRunner()
PROBLEM = (
    "delivery of run r-1 failed for 1 of 2 items (email grc@example.com: cannot reach "
    "smtp.example.com:587 (starttls)) — the report files are safe in /r; resend with "
    "`keyaudit deliver --run r-1`"
)


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


def test_a_flow_run_whose_delivery_failed_exits_4_with_the_line_naming_the_resend(
    monkeypatch, tmp_path
):
    import keyaudit.flows.audit

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        keyaudit.flows.audit,
        "audit_flow",
        FakeFlow(IncompleteRun(result_with(delivery_problem=PROBLEM))),
    )
    result = runner.invoke(app, ["demo", "--prefect"])
    assert result.exit_code == 4
    assert result.stderr.splitlines()[-1] == f"keyaudit: error: {PROBLEM}"
    assert "Run r-1" in result.stdout


def test_an_in_process_run_whose_delivery_failed_exits_4_with_the_line_naming_the_resend(
    monkeypatch, tmp_path
):
    from keyaudit import pipeline

    def finished(request: pipeline.AuditRequest, **_: Any) -> Any:
        assert request.source == "demo"
        return pipeline.Finished(result_with(delivery_problem=PROBLEM), None)  # type: ignore[arg-type]

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pipeline, "run_audit", finished)
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 4
    assert result.stderr.splitlines()[-1] == f"keyaudit: error: {PROBLEM}"
    assert "Run r-1" in result.stdout
    assert "in this process" in result.stderr.splitlines()[0]


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

    from keyaudit.flows.scale import only_throttling_or_5xx

    error = ClientError(
        {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op"
    )
    assert only_throttling_or_5xx(None, None, Failed(data=error)) is retried
    try:
        raise CollectionError("wrapped") from error
    except CollectionError as wrapped:
        assert only_throttling_or_5xx(None, None, Failed(data=wrapped)) is retried
