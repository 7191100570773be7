"""Security tests reuse the fault harness (tests/faults/fault_harness.py): virtual time and the
call recorder."""

from __future__ import annotations

import pytest

from tests.faults.fault_harness import FaultInjector, VirtualTime, install_virtual_time


@pytest.fixture
def vt(monkeypatch: pytest.MonkeyPatch) -> VirtualTime:
    vt = VirtualTime()
    install_virtual_time(monkeypatch, vt)
    return vt


@pytest.fixture
def recorder() -> FaultInjector:
    """Records every API call (an injector without faults)."""
    return FaultInjector()
