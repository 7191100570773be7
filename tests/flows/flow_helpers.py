"""Helpers of the flow tests."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def clean_aws_environment(monkey: pytest.MonkeyPatch, home: Path) -> None:
    """What tests/conftest.py's isolated_aws does, for fixtures wider than one test."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "KEYAUDIT_")):
            monkey.delenv(name, raising=False)
    monkey.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkey.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkey.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkey.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkey.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkey.setenv("AWS_EC2_METADATA_DISABLED", "true")
