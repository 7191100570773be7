"""Shared fixtures: AWS isolated from the machine, warehouses in tmp folders, given-rows builders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from keyaudit.warehouse.db import connect

# Prefect's temporary API server (prefect_harness): quiet, offline and patient.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def isolated_aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test may see the developer's AWS profile or reach a real endpoint."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name.startswith("KEYAUDIT_"):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("aws-home")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API per test process (≈ 15 s to start), for tests of whole flows."""
    import prefect.settings
    from prefect.testing.utilities import prefect_test_harness

    if prefect.settings.PREFECT_API_URL.value():  # another suite's harness is already up
        yield
        return
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator:
    con = connect(tmp_path / "keyaudit.duckdb")
    yield con
    con.close()
