"""The Prefect flow reads its `as_of` as the command line does (keyaudit.model.utc_instant): a time
without a zone is UTC, never the local time of the machine the flow runs on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from keyaudit.model import KeyauditError

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

SIX_UTC = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


class _Stop(KeyauditError):
    """Raised by the stand-in pipeline once it has the request: the flow's reading is the test."""


@pytest.fixture
def machine_in_tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "JST-9")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def requests_seen(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    from keyaudit import pipeline

    seen: list[Any] = []

    def run_audit(request: pipeline.AuditRequest, **_: Any) -> Any:
        seen.append(request.as_of)
        raise _Stop("the test only wanted the request")

    monkeypatch.setattr(pipeline, "run_audit", run_audit)
    return seen


@pytest.mark.parametrize(
    "given",
    ["2026-12-01T06:00:00", datetime(2026, 12, 1, 6, 0), "2026-12-01T15:00:00+09:00"],
    ids=["text without zone", "datetime without zone", "text with zone"],
)
def test_the_flow_reads_as_of_without_a_zone_as_utc(
    prefect_harness, machine_in_tokyo, requests_seen, given
):
    from keyaudit.flows.audit import audit_flow

    state = audit_flow(source="demo", as_of=given, return_state=True)
    assert state.is_failed()
    assert requests_seen == [SIX_UTC]
