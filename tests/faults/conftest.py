"""Fault-matrix fixtures: one small simulated organization per test module, a fault-free
baseline run of it, virtual time per test and a fresh fault injector."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from keyaudit.sources.demo import simulated_organization
from tests.faults.fault_harness import (
    AuditResult,
    FaultInjector,
    VirtualTime,
    install_virtual_time,
    run_audit,
)

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
MEMBERS = 5  # management + 5 members (one without its audit role) + one suspended account
USERS = 4


@pytest.fixture(scope="module")
def org() -> Iterator[Any]:
    with simulated_organization(AS_OF, members=MEMBERS, users_per_account=USERS) as org:
        yield org


@pytest.fixture
def faults() -> FaultInjector:
    return FaultInjector()


@pytest.fixture(scope="module")
def baseline(org: Any, tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    """The same organization audited without faults: what every fault run must match."""
    monkeypatch = pytest.MonkeyPatch()
    try:
        vt = VirtualTime()
        install_virtual_time(monkeypatch, vt)
        return run_audit(org, tmp_path_factory.mktemp("baseline"), vt=vt)
    finally:
        monkeypatch.undo()


@pytest.fixture(scope="module")
def healthy(org: Any) -> list[str]:
    """Member accounts the baseline assesses fully (not the management, not the roleless one)."""
    return [
        a.account_id
        for a in org.accounts
        if a.state == "ACTIVE"
        and not a.is_management
        and a.account_id != org.missing_role_account_id
    ]
