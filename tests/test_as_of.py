"""One rule for an audit's instant, wherever it comes from: a time without a zone is UTC, never
the machine's local time; a time with a zone is converted to UTC; anything else is one line.
The Prefect flow's `as_of` is read by the same rule: tests/flows/test_as_of.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.model import InstantError, utc_instant
from tests.runs import write_config

runner = CliRunner()
SIX_UTC = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def machine_in_tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time is 9 hours ahead of UTC (a POSIX rule: no zone database needed)."""
    monkeypatch.setenv("TZ", "JST-9")
    time.tzset()
    assert time.timezone == -9 * 3600
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_time_without_a_zone_is_utc_not_the_machines_local_time(machine_in_tokyo):
    assert utc_instant("2026-12-01T06:00:00") == SIX_UTC
    assert utc_instant(datetime(2026, 12, 1, 6, 0)) == SIX_UTC


def test_a_time_with_a_zone_is_converted_to_utc(machine_in_tokyo):
    berlin = timezone(timedelta(hours=1))
    assert utc_instant("2026-12-01T07:00:00+01:00") == SIX_UTC
    assert utc_instant(datetime(2026, 12, 1, 7, 0, tzinfo=berlin)) == SIX_UTC
    assert utc_instant("2026-12-01T06:00:00Z").tzinfo is UTC


def test_a_value_that_is_no_time_is_one_line_naming_it_and_an_example():
    with pytest.raises(InstantError) as caught:
        utc_instant("last tuesday", name="--as-of")
    assert str(caught.value) == (
        "--as-of 'last tuesday' is not an ISO 8601 time; e.g. 2026-12-01T06:00:00Z"
    )


def test_the_command_line_reads_as_of_without_a_zone_as_utc(
    machine_in_tokyo, monkeypatch, tmp_path
):
    from keyaudit import pipeline

    seen: list[Any] = []

    def run_audit(request: pipeline.AuditRequest, **_: Any) -> Any:
        seen.append(request.as_of)
        raise pipeline.OutputFolderError("stop here — the test only wanted the request")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pipeline, "run_audit", run_audit)
    result = runner.invoke(app, ["demo", "--as-of", "2026-12-01T06:00:00"])
    assert result.exit_code == 2
    assert seen == [SIX_UTC]


def test_the_pipeline_plans_a_naive_as_of_as_utc(machine_in_tokyo, tmp_path):
    from keyaudit import pipeline

    config = write_config(tmp_path / "keyaudit.toml", data_dir=tmp_path)
    plan = pipeline.plan_run(
        pipeline.AuditRequest(source="demo", config_file=config, as_of=datetime(2026, 12, 1, 6, 0))
    )
    assert plan.as_of == SIX_UTC
