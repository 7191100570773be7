"""Delivery fixtures: a loopback SMTP server with a certificate made for the session, and the
injected sleep. The finished demo run they deliver is tests/conftest.py's `demo_run`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.delivery.smtp_server import SmtpServer, make_certificate, smtp_server


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("smtp-cert"))


@pytest.fixture
def smtp(certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    with smtp_server(certificate) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    """The injected sleep: waits are recorded, never slept."""
    return []
