"""Fixtures for rule tests: a fresh warehouse and the given-rows builder."""

from __future__ import annotations

from typing import Any

import pytest
from rules_given import Given


@pytest.fixture
def given(warehouse: Any) -> Given:
    return Given(warehouse)
