"""Tickets (issue 22, part 4): findings.tickets.csv imports into Jira, the webhook tells a ticket
system once about each new and resolved finding of a run, and `keyaudit track` records the
ticket that covers a finding, which the report and the tickets CSV then show."""

from __future__ import annotations

import csv
import json
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from report_rows import RULES, RUN_ID, open_copy
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.config import ConfigError, load_config
from keyaudit.config.delivery import TicketsConfig
from keyaudit.delivery.dispatch import Backoff
from keyaudit.delivery.tickets import send_ticket_events
from keyaudit.report import build_report_context, render_html, write_report
from keyaudit.report.exports import JIRA_PRIORITY, TICKET_COLUMNS
from keyaudit.warehouse.db import connect
from tests.delivery.smtp_server import make_certificate

runner = CliRunner()
# The given warehouse's run (report_rows.py) against its previous run: six findings are new and
# not waived (f-carol is new but waived), and frank's key was fixed since.
NEW = {"f-alice-mfa", "f-bob2", "f-dave", "f-bob-multi", "f-erin", "f-formula", "f-na"}
RESOLVED = {"f-frank"}


@pytest.fixture(scope="module")
def tickets_csv(shared_db, tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = write_report(
        shared_db, RUN_ID, tmp_path_factory.mktemp("tickets"), rules=RULES, formats="tickets"
    )
    assert files.tickets is not None and files.tickets.name == "findings.tickets.csv"
    return files.tickets


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_tickets_csv_has_jiras_columns_and_reads_back(tickets_csv):
    with tickets_csv.open(newline="", encoding="utf-8") as handle:
        assert tuple(next(csv.reader(handle))) == TICKET_COLUMNS
    rows = {r["External ID"]: r for r in _rows(tickets_csv)}
    alice = rows["f-alice"]
    assert alice["Summary"].startswith(
        "ACCESS_KEY_NOT_ROTATED: alice key AKIAALICE00000000001 in 012345678901"
    )
    assert alice["Labels"].split(" ") == ["keyaudit", "ACCESS_KEY_NOT_ROTATED", "high"]
    assert alice["Priority"] == "High"
    assert "AKIAALICE00000000001" in alice["Description"]
    assert "limit 90" in alice["Description"]  # the reason, for whoever fixes it
    assert alice["Ticket"] == ""


def test_tickets_csv_holds_only_open_findings_that_are_not_waived(tickets_csv):
    ids = {r["External ID"] for r in _rows(tickets_csv)}
    assert "f-carol" not in ids  # waived: the decision was not to fix it
    assert "f-frank" not in ids  # closed since the previous run: no ticket to open
    assert {"f-root", "f-alice", "f-bob1", "f-formula"} <= ids


def test_tickets_csv_cells_are_spreadsheet_safe(tickets_csv):
    formula = next(r for r in _rows(tickets_csv) if r["External ID"] == "f-formula")
    assert not formula["Summary"].startswith(("=", "+", "-", "@"))
    assert formula["Summary"].startswith("ACCESS_KEY_UNUSED: ")
    text = tickets_csv.read_text(encoding="utf-8")
    assert "\n=" not in text and ',"=' not in text and ",=" not in text


@pytest.mark.parametrize(
    ("severity", "priority"),
    [("critical", "Highest"), ("high", "High"), ("medium", "Medium"), ("low", "Low")],
)
def test_severity_maps_to_jiras_priority(severity, priority, tickets_csv):
    assert JIRA_PRIORITY[severity] == priority
    shown = {r["Labels"].split(" ")[2]: r["Priority"] for r in _rows(tickets_csv)}
    assert shown[severity] == priority


# --------------------------------------------------------------------------- webhook


class Receiver:
    """A loopback HTTPS server that answers with `statuses` in turn (then 200) and keeps every
    request it received."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.url = ""


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("webhook-cert"))


@pytest.fixture
def receiver(cert: tuple[Path, Path]) -> Iterator[Receiver]:
    found = Receiver([])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            found.requests.append((dict(self.headers), json.loads(body)))
            status = found.statuses.pop(0) if found.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*cert)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    found.url = f"https://127.0.0.1:{server.server_address[1]}/hooks/secret-token"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


def _send(con, receiver: Receiver, cert, sleeps: list[float]):
    config = TicketsConfig(webhook_url=receiver.url, ca_file=cert[0])
    backoff = Backoff(attempts=3, first_seconds=2.0, sleep=sleeps.append, rand=lambda: 0.0)
    return send_ticket_events(con, RUN_ID, config, backoff=backoff)


def test_webhook_posts_each_new_and_resolved_finding_once(report_db, receiver, cert):
    results = _send(report_db, receiver, cert, [])
    assert all(r.ok for r in results)
    posted = [(doc["event"], doc["finding_id"]) for _, doc in receiver.requests]
    assert sorted(posted) == sorted([("new", f) for f in NEW] + [("resolved", f) for f in RESOLVED])
    headers, doc = next(r for r in receiver.requests if r[1]["finding_id"] == "f-bob2")
    assert headers["Idempotency-Key"] == f"f-bob2/new/{RUN_ID}"
    assert headers["Content-Type"] == "application/json"
    assert doc["run_id"] == RUN_ID and doc["priority"] == "Medium"
    assert doc["rule_id"] == "ACCESS_KEY_UNUSED"


def test_a_second_send_of_the_same_run_posts_nothing(report_db, receiver, cert):
    _send(report_db, receiver, cert, [])
    first = len(receiver.requests)
    assert _send(report_db, receiver, cert, []) == []
    assert len(receiver.requests) == first
    recorded = report_db.execute(
        "select count(*) from ticket_events where run_id = ?", [RUN_ID]
    ).fetchone()
    assert recorded == (len(NEW) + len(RESOLVED),)


def test_a_503_is_retried_after_the_injected_sleep(report_db, receiver, cert):
    receiver.statuses = [503, 429]
    sleeps: list[float] = []
    results = _send(report_db, receiver, cert, sleeps)
    assert all(r.ok for r in results)
    assert sleeps == [1.0, 2.0]  # half of 2 s, then half of 4 s (no jitter)
    assert results[0].attempts == 3
    assert len(receiver.requests) == len(NEW) + len(RESOLVED) + 2


def test_a_failed_event_is_not_recorded_and_a_resend_posts_it(report_db, receiver, cert):
    receiver.statuses = [400]  # not transient: no retry
    results = _send(report_db, receiver, cert, [])
    assert [r.ok for r in results].count(False) == 1
    assert "HTTP 400" in results[0].detail and "secret-token" not in results[0].detail
    again = _send(report_db, receiver, cert, [])
    assert [r.name for r in again] == [results[0].name]


def test_an_untrusted_certificate_is_refused_once_not_retried(report_db, receiver):
    sleeps: list[float] = []
    config = TicketsConfig(webhook_url=receiver.url)  # the system's CAs do not know it
    backoff = Backoff(attempts=3, first_seconds=2.0, sleep=sleeps.append, rand=lambda: 0.0)
    results = send_ticket_events(report_db, RUN_ID, config, backoff=backoff)
    assert results and not any(r.ok for r in results) and sleeps == []
    assert "ca_file" in results[0].detail
    assert receiver.requests == []


@pytest.mark.parametrize(
    "url",
    ["http://hooks.example.com/T0/secret-token", "ftp://hooks.example.com/secret-token"],
)
def test_a_webhook_that_is_not_https_is_refused_in_one_line(tmp_path, url):
    path = tmp_path / "keyaudit.toml"
    path.write_text(f'[tickets]\nwebhook_url = "{url}"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert "\n" not in message
    assert "tickets.webhook_url" in message and "https://" in message
    assert "secret-token" not in message  # the path of a webhook URL is often its token


def test_the_webhook_url_is_stored_with_the_run_as_stars(tmp_path):
    config = load_config(
        None, environ={}, overrides={"tickets": {"webhook_url": "https://h.example/secret-token"}}
    )
    assert "secret-token" not in config.to_json()
    assert config.tickets.url == "https://h.example/secret-token"


# --------------------------------------------------------------------------- keyaudit track


@pytest.fixture
def warehouse_copy(warehouse_file: Path, tmp_path: Path) -> Path:
    open_copy(warehouse_file, tmp_path).close()
    return tmp_path / "report.duckdb"


def _track(db: Path, *args: str):
    return runner.invoke(app, ["track", *args, "--db", str(db)], env={})


def test_track_records_a_ticket_the_report_and_csv_show(warehouse_copy, tmp_path):
    result = _track(warehouse_copy, "f-alice", "SEC-123")
    assert result.exit_code == 0, result.output
    assert "f-alice is tracked by SEC-123" in result.output
    con = connect(warehouse_copy, read_only=True)
    try:
        html = render_html(build_report_context(con, RUN_ID, rules=RULES))
        files = write_report(con, RUN_ID, tmp_path / "out", rules=RULES, formats="tickets")
    finally:
        con.close()
    assert "ticket SEC-123" in html
    rows = {r["External ID"]: r for r in _rows(files.tickets)}
    assert rows["f-alice"]["Ticket"] == "SEC-123"
    assert rows["f-bob1"]["Ticket"] == ""


def test_tracking_again_replaces_the_ticket(warehouse_copy):
    _track(warehouse_copy, "f-alice", "SEC-123")
    result = _track(warehouse_copy, "f-alice", "SEC-124")
    assert result.exit_code == 0
    assert "tracked by SEC-124 (was SEC-123)" in result.output


@pytest.mark.parametrize("ticket", ["sec-123", "SEC123", "SEC-0", "SEC-12 ; rm", "=HYPERLINK(1)"])
def test_a_bad_ticket_key_is_refused_in_one_line(warehouse_copy, ticket):
    result = _track(warehouse_copy, "f-alice", ticket)
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "SEC-123" in result.output  # the shape it wants


def test_an_unknown_finding_is_refused_in_one_line(warehouse_copy):
    result = _track(warehouse_copy, "f-nobody", "SEC-1")
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "f-nobody" in result.output and "no run" in result.output


def test_a_tracked_ticket_goes_with_the_webhook_event(report_db, receiver, cert):
    from keyaudit.delivery.tickets import track

    track(report_db, "f-bob2", "SEC-9", now=datetime(2026, 12, 2, tzinfo=UTC))
    _send(report_db, receiver, cert, [])
    doc = next(d for _, d in receiver.requests if d["finding_id"] == "f-bob2")
    assert doc["ticket"] == "SEC-9"
