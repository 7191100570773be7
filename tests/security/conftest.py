"""Security tests reuse the fault harness (tests/faults/fault_harness.py): virtual time, the
call recorder, the library-level run, and Prefect's harness for the flow-level checks."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "faults"))

from fault_harness import (
    FaultInjector,
    VirtualTime,
    install_virtual_time,
    prefect_harness_once,
)


@pytest.fixture
def vt(monkeypatch: pytest.MonkeyPatch) -> VirtualTime:
    vt = VirtualTime()
    install_virtual_time(monkeypatch, vt)
    return vt


@pytest.fixture
def recorder() -> FaultInjector:
    """Records every API call (an injector without faults)."""
    return FaultInjector()


@pytest.fixture(scope="session")
def flow_harness() -> Iterator[None]:
    yield from prefect_harness_once()
