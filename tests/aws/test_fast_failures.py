"""A run that cannot start says one line, fast (issue 14, item 2).

Through the command itself: exit 2, exactly one `keyaudit: error: …` line on stderr naming the
thing and the fix, no traceback, no progress line before it, nothing retried for minutes. The
output folders and the warehouse are checked first, then who calls AWS (sts:GetCallerIdentity),
all before a run (or Prefect) starts. Nothing here waits: botocore's retry sleep fails the test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import botocore.endpoint
import botocore.httpsession
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from keyaudit import pipeline
from keyaudit.cli import app
from keyaudit.config import DiscoveryConfig
from keyaudit.evidence.store import EvidenceStore
from keyaudit.model import Account, VirtualClock
from keyaudit.sources.aws.collect import collect_account
from keyaudit.sources.aws.organizations import discover
from keyaudit.sources.aws.session import CONNECTION_ATTEMPTS, AccountSessions

runner = CliRunner()
NO_CREDENTIALS = (
    "keyaudit: error: no AWS credentials found — set AWS_PROFILE, run `aws sso login`, or set "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; or audit without AWS: `keyaudit demo`, "
    "`keyaudit run --source files --files DIR`"
)


def free_port() -> int:
    """A port nothing listens on: bound once to pick it, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def refused_endpoint(monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    return url


def without_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS_* keys and empty AWS config files (the metadata endpoint stays disabled)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, file in (("AWS_CONFIG_FILE", "config"), ("AWS_SHARED_CREDENTIALS_FILE", "creds")):
        (tmp_path / file).write_text("", encoding="utf-8")
        monkeypatch.setenv(name, str(tmp_path / file))


@pytest.fixture(autouse=True)
def never_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    def sleep(seconds: float) -> None:
        raise AssertionError(f"botocore waited {seconds} s before a retry")

    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=sleep))


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every HTTP request botocore sends, by URL."""
    urls: list[str] = []
    original = botocore.httpsession.URLLib3Session.send

    def send(self: Any, request: Any) -> Any:
        urls.append(request.url)
        return original(self, request)

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", send)
    return urls


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def one_error_line(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # typer.Exit: no traceback
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# --------------------------------------------------------------------------- outputs first


@pytest.mark.parametrize("prefect", [[], ["--prefect"]], ids=["in-process", "prefect"])
def test_unwritable_out_folder_is_one_line_before_any_aws_call_or_prefect(
    in_tmp, monkeypatch, sent, prefect
):
    refused_endpoint(monkeypatch)  # were AWS asked first, the line would name the endpoint
    Path("blocker").write_text("a file where a folder should be", encoding="utf-8")
    line = one_error_line(["run", "--out", "blocker/report", *prefect])
    assert line == (
        f"keyaudit: error: output folder blocker/report is not writable ({in_tmp / 'blocker'} "
        "is not a folder) — fix permissions or choose another path"
    )
    assert sent == []
    assert not Path("data").exists()  # the check makes no folder


def test_full_disk_is_one_line_before_any_aws_call(in_tmp, monkeypatch, sent):
    refused_endpoint(monkeypatch)
    monkeypatch.setattr(pipeline.shutil, "disk_usage", lambda _: SimpleNamespace(free=3 * 2**20))
    assert one_error_line(["run"]) == (
        "keyaudit: error: output folder data/evidence has only 3.0 MiB free; a run needs at "
        "least 50 MiB — free some space or choose another path"
    )
    assert sent == []


def test_wrong_db_is_one_line_before_any_aws_call(in_tmp, monkeypatch, sent):
    refused_endpoint(monkeypatch)
    Path("w.duckdb").write_text("not a database", encoding="utf-8")
    line = one_error_line(["run", "--db", "w.duckdb"])
    assert line.startswith("keyaudit: error: warehouse w.duckdb is not a DuckDB database")
    assert sent == []


# --------------------------------------------------------------------------- credentials


def test_missing_credentials_say_how_to_sign_in(in_tmp, monkeypatch):
    without_credentials(monkeypatch, in_tmp)
    assert one_error_line(["run"]) == NO_CREDENTIALS


def test_missing_credentials_stop_a_prefect_run_before_prefect_starts(in_tmp, monkeypatch):
    without_credentials(monkeypatch, in_tmp)
    assert one_error_line(["run", "--prefect"]) == NO_CREDENTIALS


def test_unknown_aws_profile_is_named(in_tmp, monkeypatch):
    without_credentials(monkeypatch, in_tmp)
    monkeypatch.setenv("AWS_PROFILE", "org-audti")
    assert one_error_line(["run"]) == (
        "keyaudit: error: AWS profile 'org-audti' not found in the AWS config files — fix "
        "AWS_PROFILE (`aws configure list-profiles` lists them) or add the profile"
    )


def test_partial_credentials_name_the_missing_value(in_tmp, monkeypatch):
    without_credentials(monkeypatch, in_tmp)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    assert one_error_line(["run"]) == (
        "keyaudit: error: incomplete AWS credentials: Partial credentials found in env, "
        "missing: AWS_SECRET_ACCESS_KEY — set the missing value or unset the others"
    )


def test_unreadable_aws_config_file_is_named(in_tmp, monkeypatch):
    without_credentials(monkeypatch, in_tmp)
    Path("config").write_text("[default\nregion = us-east-1\n", encoding="utf-8")
    assert one_error_line(["run"]) == (
        f"keyaudit: error: Unable to parse config file: {in_tmp / 'config'} — fix the file's "
        "syntax, or point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at another"
    )


def sts_answering(code: str, message: str) -> ThreadingHTTPServer:
    """An STS endpoint that answers every request with one error."""
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
        f"<Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>stub</RequestId></ErrorResponse>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(403)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def sts_error(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def answer(code: str, message: str) -> None:
        server = sts_answering(code, message)
        servers.append(server)
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")

    yield answer
    for server in servers:
        server.shutdown()
        server.server_close()


def test_expired_credentials_say_to_sign_in_again(in_tmp, sts_error, sent):
    sts_error("ExpiredToken", "The security token included in the request is expired")
    assert one_error_line(["run"]) == (
        "keyaudit: error: the AWS credentials have expired (ExpiredToken) — run `aws sso "
        "login`, or renew the session credentials (AWS_SESSION_TOKEN)"
    )
    assert len(sent) == 1  # not retried


def test_rejected_credentials_name_what_to_check(in_tmp, sts_error):
    sts_error("InvalidClientTokenId", "The security token included in the request is invalid.")
    assert one_error_line(["run"]) == (
        "keyaudit: error: AWS does not accept the credentials (InvalidClientTokenId) — check "
        "AWS_PROFILE or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (a deactivated or deleted "
        "key, or a session token missing)"
    )


# --------------------------------------------------------------------------- the endpoint


@pytest.mark.parametrize("prefect", [[], ["--prefect"]], ids=["in-process", "prefect"])
def test_refused_aws_endpoint_url_is_fatal_at_once_and_named(in_tmp, monkeypatch, sent, prefect):
    url = refused_endpoint(monkeypatch)
    assert one_error_line(["run", *prefect]) == (
        f"keyaudit: error: cannot connect to {url} (AWS_ENDPOINT_URL): connection refused — "
        "start the endpoint or unset AWS_ENDPOINT_URL"
    )
    assert sent == [f"{url}/"]  # one attempt, no retry


def test_caller_check_is_the_first_aws_call_of_discovery(monkeypatch):
    calls: list[str] = []

    def record(account_id: str, session: Any) -> None:
        session.events.register(
            "before-call",
            lambda model, **_: calls.append(f"{model.service_model.signing_name}:{model.name}"),
        )

    with mock_aws():
        discover(AccountSessions(customizers=[record]), DiscoveryConfig())
    assert calls[0] == "sts:GetCallerIdentity"
    assert calls[1].startswith("organizations:")


def test_collection_gives_up_on_a_refused_connection_after_a_few_attempts(
    tmp_path, monkeypatch, sent
):
    url = refused_endpoint(monkeypatch)
    slept: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=slept.append))
    outcome = collect_account(
        Account(account_id="123456789012"),
        sessions=AccountSessions(),
        store=EvidenceStore(tmp_path, "r1"),
        is_caller_account=True,
        clock=VirtualClock().as_clock(),
    )
    assert (outcome.status, outcome.error) == (
        "not_assessed",
        f"account 123456789012: cannot connect to {url} (AWS_ENDPOINT_URL): connection refused "
        "— start the endpoint or unset AWS_ENDPOINT_URL",
    )
    assert len(sent) == CONNECTION_ATTEMPTS == 3
    assert len(slept) == CONNECTION_ATTEMPTS - 1 and sum(slept) <= 3  # botocore's first backoffs


# --------------------------------------------------------------------------- the real command


def command_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test process's environment (fake credentials, no metadata endpoint), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_URL")}
    return {**env, **extra}


@pytest.mark.parametrize(
    "case", ["refused endpoint", "no credentials", "unwritable --out"], ids=str
)
def test_the_real_command_fails_in_one_line_within_seconds(tmp_path, case):
    env = command_env(tmp_path)
    args = [sys.executable, "-m", "keyaudit", "run"]
    if case == "refused endpoint":
        env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
        expected = "(AWS_ENDPOINT_URL): connection refused — start the endpoint or unset"
    elif case == "no credentials":
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.pop(name, None)
        for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            (tmp_path / name).write_text("", encoding="utf-8")
            env[name] = str(tmp_path / name)
        expected = NO_CREDENTIALS
    else:
        (tmp_path / "blocker").write_text("", encoding="utf-8")
        args += ["--out", "blocker/report"]
        expected = "is not a folder) — fix permissions or choose another path"
    started = time.monotonic()
    done = subprocess.run(
        args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("keyaudit: error: ")
    assert expected in done.stderr
    assert elapsed < 20  # before: 24 s to 5 min of retries; now the time to start Python
