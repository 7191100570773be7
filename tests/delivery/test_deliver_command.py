"""`keyaudit deliver --run RUN_ID`: re-send a past run; exit 4 with one line when it fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from keyaudit.cli import app
from tests.delivery.delivery_helpers import COMPLIANCE
from tests.delivery.smtp_server import PASSWORD, USER, SmtpServer, free_port
from tests.runs import DemoRun, copy_run

pytestmark = pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")
runner = CliRunner()


def write_config(run: DemoRun, port: int, cert: Path, **extra: str) -> Path:
    folder = run.warehouse.parent
    lines = [
        "[paths]",
        f'warehouse = "{run.warehouse}"',
        f'evidence_dir = "{folder / "evidence"}"',
        f'reports_dir = "{folder / "reports"}"',
        "[delivery]",
        "attempts = 2",
        "backoff_seconds = 0",
        "[delivery.email]",
        'smtp_host = "127.0.0.1"',
        f"smtp_port = {port}",
        f'ca_file = "{cert}"',
        'sender = "keyaudit@example.com"',
        f'compliance = ["{COMPLIANCE}"]',
        "owners = false",
        *(f"{k} = {v}" for k, v in extra.items()),
    ]
    path = folder / "keyaudit.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def run(demo_run: DemoRun, tmp_path: Path, monkeypatch) -> DemoRun:
    monkeypatch.setenv("SMTP_USERNAME", USER)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    return copy_run(demo_run, tmp_path)


def test_deliver_resends_a_past_run_and_says_where_it_went(run, smtp: SmtpServer, certificate):
    config = write_config(run, smtp.port, certificate[0])
    result = runner.invoke(app, ["deliver", "--run", run.run_id, "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        # 7 report files, evidence-manifest.json, remediation-plan.csv and .json
        f"  folder  {run.report_dir} (10 files)",
        "  e-mail  1 of 1 messages sent",
    ]
    (received,) = smtp.recorder.messages
    assert received.rcpt_tos == [COMPLIANCE]
    assert received.message["Subject"].startswith("[keyaudit] AWS access key audit 2026-12: ")


def test_deliver_exits_4_with_one_line_when_the_mail_server_is_down(run, certificate):
    port = free_port()
    config = write_config(run, port, certificate[0])
    result = runner.invoke(app, ["deliver", "--run", run.run_id, "--config", str(config)])
    assert result.exit_code == 4
    assert result.stderr == (
        f"keyaudit: error: delivery of run {run.run_id} failed for 1 of 2 items (email "
        f"{COMPLIANCE}: cannot reach 127.0.0.1:{port} (starttls): ConnectionRefusedError: "
        f"[Errno 111] Connection refused) — the report files are safe in {run.report_dir}; "
        f"resend with `keyaudit deliver --run {run.run_id}`\n"
    )
    assert (run.report_dir / "report.pdf").is_file()


def test_deliver_of_an_unknown_run_names_the_fix(run, certificate):
    config = write_config(run, 25, certificate[0])
    result = runner.invoke(app, ["deliver", "--run", "no-such-run", "--config", str(config)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"keyaudit: error: run 'no-such-run' is not in the warehouse '{run.warehouse}' — "
        "check the run id; `keyaudit runs` lists the runs\n"
    )


def test_deliver_with_nothing_configured_keeps_the_folder_and_says_what_to_set(run):
    folder = run.warehouse.parent
    config = folder / "plain.toml"
    config.write_text(
        f'[paths]\nwarehouse = "{run.warehouse}"\nreports_dir = "{folder / "reports"}"\n'
    )
    result = runner.invoke(app, ["deliver", "--run", run.run_id, "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "  nothing else to send: set [delivery.s3] bucket or [delivery.email] smtp_host in "
        "keyaudit.toml"
    )
