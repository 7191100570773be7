"""Flows run under Prefect's test harness: the session-scoped `prefect_harness` fixture lives in
tests/conftest.py, shared with the other suites that run the whole flow. The demo flow on
threads runs once per test process and is shared by the modules that compare against it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# the loopback SMTP server of the delivery tests serves the end-to-end flow tests too
sys.path.append(str(Path(__file__).parents[1] / "delivery"))

from flow_helpers import AS_OF, clean_aws_environment


@pytest.fixture(scope="session")
def threads_demo_run(prefect_harness, tmp_path_factory) -> Iterator:
    """The demo audited by the flow with the default (threads) task runner."""
    from flows.audit import audit_flow

    folder = tmp_path_factory.mktemp("demo")
    monkey = pytest.MonkeyPatch()
    clean_aws_environment(monkey, folder)
    monkey.chdir(folder)
    try:
        result = audit_flow(
            source="demo", as_of=AS_OF, db=str(folder / "w.duckdb"), out=str(folder / "out")
        )
    finally:
        monkey.undo()
    yield result
