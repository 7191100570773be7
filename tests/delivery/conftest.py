"""Delivery fixtures: one finished demo run per session (no Prefect), a prepared delivery per
module, a loopback SMTP server with a certificate made for the session, and moto S3."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from demo_run import DemoRun, make_demo_run
from smtp_server import SmtpServer, make_certificate, smtp_server


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """A finished demo run (warehouse, evidence, report) shared by the session: copy to change."""
    return make_demo_run(tmp_path_factory.mktemp("delivery-demo"))


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
