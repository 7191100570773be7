"""Security tests reuse the fault harness (tests/faults/fault_harness.py): virtual time and the
call recorder."""

from __future__ import annotations

import pytest

from tests.faults.fault_harness import FaultInjector


@pytest.fixture
def recorder() -> FaultInjector:
    """Records every API call (an injector without faults)."""
    return FaultInjector()
