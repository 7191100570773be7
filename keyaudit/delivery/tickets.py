"""Tickets: the webhook that tells a ticket system what changed, and `keyaudit track`'s record.

A ticket system wants to hear once that a finding appeared and once that it went away, not the
whole list every run: the webhook POSTs one JSON document per finding new in the run
(findings_new) or resolved by it (findings_resolved). Each carries the finding id, stable across
runs, for the receiver to find its ticket, and the same in an Idempotency-Key header. What was
delivered is recorded in the warehouse (ticket_events), so a resend of the run (`keyaudit
deliver`) posts only what did not get through. Retries back off as the rest of the delivery does
(keyaudit.delivery.dispatch.Backoff, with an injected sleep).

The URL may carry a token (Slack, Jira Automation and Teams put one in the path): it is never
logged or printed in full, only as `redacted_url` shows it.
"""

from __future__ import annotations

import json
import re
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import duckdb

from keyaudit.config import Config
from keyaudit.config.delivery import TicketsConfig, redacted_url
from keyaudit.delivery.dispatch import Backoff, DeliveryReport, DeliveryResult
from keyaudit.model import KeyauditError
from keyaudit.report.exports import JIRA_PRIORITY
from keyaudit.report.queries import execute, rows

# A Jira issue key: a project key (a capital letter, then capitals, digits or _) and a number.
TICKET_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,254}-[1-9][0-9]{0,17}$")
USER_AGENT = "keyaudit-tickets"


class TrackError(KeyauditError):
    """A ticket cannot be recorded against a finding; the message names the fix."""


def check_ticket_key(ticket: str) -> str:
    """`ticket` when it looks like an issue key (SEC-123), else TrackError naming the shape."""
    if not TICKET_KEY.match(ticket):
        shown = ticket if len(ticket) <= 40 and ticket.isprintable() else f"{ticket[:40]!r}…"
        raise TrackError(
            f"ticket {shown!r} is not an issue key like SEC-123 (project key in capitals, "
            "a hyphen, the issue number)"
        )
    return ticket


def track(
    con: duckdb.DuckDBPyConnection, finding_id: str, ticket: str, *, now: datetime
) -> str | None:
    """Record `ticket` against the finding `finding_id` (seen in any run); returns the ticket
    it replaces, if any. An unknown finding id is refused: a typo would track nothing."""
    check_ticket_key(ticket)
    found = execute(con, "finding_latest_run", {"finding_id": finding_id}).fetchone()
    if not found:
        raise TrackError(
            f"finding {finding_id!r} is in no run of this warehouse — copy its id from the "
            "report, findings.csv or `keyaudit query`"
        )
    before = execute(con, "finding_ticket", {"finding_id": finding_id}).fetchone()
    execute(
        con,
        "record_finding_ticket",
        {"finding_id": finding_id, "run_id": found[0], "ticket": ticket, "recorded_at": now},
    )
    return before[0] if before and before[0] != ticket else None


@dataclass(frozen=True)
class Response:
    status: int


class WebhookError(Exception):
    """One POST that failed; `transient` when trying again may help (5xx, 429, no connection)."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


Post = Callable[[bytes, Mapping[str, str]], Response]


def https_post(config: TicketsConfig) -> Post:
    """A POST to the configured URL over HTTPS, verified against the system's CAs or
    `[tickets] ca_file`; any status but 2xx is a WebhookError."""
    context = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
    shown = redacted_url(config.url)

    def post(body: bytes, headers: Mapping[str, str]) -> Response:
        request = urllib.request.Request(  # noqa: S310 (TicketsConfig allows https only)
            config.url, data=body, headers=dict(headers), method="POST"
        )
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=config.timeout_seconds, context=context
            ) as response:
                return Response(response.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            transient = exc.code >= 500 or exc.code == 429
            raise WebhookError(f"{shown} answered HTTP {exc.code}", transient=transient) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, ssl.SSLCertVerificationError):  # a wrong CA will not heal
                raise WebhookError(
                    f"{shown}: certificate not trusted ({reason.verify_message}) — set "
                    "[tickets] ca_file to the CA that signed it",
                    transient=False,
                ) from None
            raise WebhookError(f"{shown}: {reason}", transient=True) from None

    return post


def event_document(event: Mapping[str, Any], run: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON document one event sends."""
    first_seen = event["first_seen_as_of"]
    return {
        "source": "keyaudit",
        "event": event["event"],
        "finding_id": event["finding_id"],
        "run_id": run["run_id"],
        "as_of": run["as_of"].astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "rule_id": event["rule_id"],
        "severity": event["severity"],
        "priority": JIRA_PRIORITY.get(event["severity"], "Medium"),
        "account_id": event["account_id"],
        "user_name": event["user_name"],
        "access_key_id": event["access_key_id"],
        "reason": event["reason"],
        "first_seen_as_of": first_seen.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if first_seen
        else None,
        "ticket": event["ticket"],
    }


def send_ticket_events(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    config: TicketsConfig,
    *,
    backoff: Backoff,
    post: Post | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[DeliveryResult]:
    """POST each new or resolved finding of the run not delivered yet, and record each one
    delivered on `con` (a writer) as soon as it is: a run stopped half-way resends only the
    rest. One DeliveryResult per event tried; nothing when no webhook is configured."""
    if not config.url:
        return []
    found = rows(con, "run", {"run_id": run_id})
    if not found:
        raise KeyauditError(f"run {run_id} is not in the warehouse — see `keyaudit runs`")
    sender = post or https_post(config)
    results = []
    for event in rows(con, "ticket_events", {"run_id": run_id}):
        if event["delivered"]:
            continue
        body = json.dumps(
            event_document(event, {"run_id": run_id, "as_of": found[0]["as_of"]}),
            ensure_ascii=False,
        ).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            # the finding's event of this run: a receiver that saw it (a retry after a lost
            # answer) drops it; the same finding new again in a later run is a new key
            "Idempotency-Key": f"{event['finding_id']}/{event['event']}/{run_id}",
        }
        _, attempts, error = backoff.run(
            partial(sender, body, headers),
            lambda exc: isinstance(exc, WebhookError) and exc.transient,
        )
        name = f"{event['event']} {event['finding_id']}"
        if error is None:
            execute(
                con,
                "record_ticket_event",
                {
                    "run_id": run_id,
                    "finding_id": event["finding_id"],
                    "event": event["event"],
                    "delivered_at": now(),
                },
            )
        detail = "posted" if error is None else str(error)
        results.append(DeliveryResult("webhook", name, error is None, detail, attempts))
    return results


def deliver_tickets(
    warehouse: Path,
    run_id: str,
    config: Config,
    report: DeliveryReport,
    *,
    sleep: Callable[[float], None] = time.sleep,
    post: Post | None = None,
) -> None:
    """The webhook part of a delivery (`keyaudit run`, `keyaudit deliver`): each event's result
    into `report`, and a resend's note when everything was posted before. Opens the warehouse
    as its writer, once the run's own writer is done."""
    if not config.tickets.url:
        return
    from keyaudit.warehouse.db import WarehouseError, connect

    backoff = Backoff(config.delivery.attempts, config.delivery.backoff_seconds, sleep)
    try:
        con = connect(warehouse, storage_version=config.warehouse.storage_version)
    except WarehouseError as exc:
        report.results.append(DeliveryResult("webhook", "ticket events", False, str(exc), 0))
        return
    try:
        results = send_ticket_events(con, run_id, config.tickets, backoff=backoff, post=post)
    except KeyauditError as exc:
        results = [DeliveryResult("webhook", "ticket events", False, str(exc), 0)]
    finally:
        con.close()
    report.results += results
    if not results:
        report.notes.append(
            "tickets: no new or resolved finding left to post (each is posted once per run)"
        )
