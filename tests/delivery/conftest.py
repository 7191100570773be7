"""Delivery fixtures: a loopback SMTP server with a certificate made for the session, the
injected sleep, and the plan that delivers a copy of tests/conftest.py's finished `demo_run`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from keyaudit.config import Config
from keyaudit.delivery.dispatch import DeliveryPlan, prepare_delivery
from keyaudit.rules.catalogue import load_catalogue
from keyaudit.warehouse.db import connect
from tests.delivery.smtp_server import SmtpServer, make_certificate, smtp_server
from tests.runs import DemoRun, copy_run


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


@pytest.fixture(scope="module")
def plan(demo_run: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> DeliveryPlan:
    """The demo run's folder, completed for delivery (no e-mail, so no owner reports); one copy
    per test module."""
    run = copy_run(demo_run, tmp_path_factory.mktemp("delivery"))
    con = connect(run.warehouse, read_only=True)
    try:
        return prepare_delivery(
            con,
            run.run_id,
            config=Config(),
            rules=load_catalogue(),
            report_dir=run.report_dir,
            evidence_run_dir=run.evidence_run_dir,
        )
    finally:
        con.close()
