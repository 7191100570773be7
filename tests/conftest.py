"""Shared fixtures: AWS isolated from the machine, warehouses in tmp folders, one finished demo
run per test session for the tests that only read it, and Prefect's temporary API server for the
few tests that run the Prefect flow."""

from __future__ import annotations

import fcntl
import os
import pickle
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from keyaudit.warehouse.db import connect
from tests.faults.fault_harness import VirtualTime, install_virtual_time
from tests.runs import DemoRun, clean_aws_environment, isolated, make_demo_run, process_state

# Prefect's temporary API server (prefect_harness): quiet, offline and patient.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def isolated_aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test may see the developer's AWS profile or reach a real endpoint, and the CLI runs
    the pipeline in-process unless a test asks for Prefect (--prefect)."""
    clean_aws_environment(monkeypatch, tmp_path_factory.mktemp("aws-home"))


@pytest.fixture(autouse=True)
def no_state_left_by_the_cli() -> Iterator[None]:
    """A CLI command sets Prefect defaults in os.environ and a progress handler for its process;
    each test starts without what an earlier one left."""
    with process_state():
        yield


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Prefect's temporary API server, once per test process (≈ 15 s to start): only for the
    tests whose subject is Prefect itself (tests/flows/test_on_prefect.py)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> DemoRun:
    """The simulated organization audited by the pipeline (a real PDF), once per test session:
    for the tests that only read it. Copy it (tests.runs.copy_run) to change anything.

    Under xdist the first worker to ask audits it and the others wait for it and read it back
    (the xdist recipe: a lock in the session's shared temporary folder), so `make test` pays
    for one demo audit, not one per worker."""
    if worker_id == "master":  # no xdist: the base folder's parent is not this session's own
        folder = tmp_path_factory.mktemp("demo-run")
        with isolated(folder):
            return make_demo_run(folder)
    shared = tmp_path_factory.getbasetemp().parent  # pytest-N/, shared by this session's workers
    with (shared / "demo-run.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        done = shared / "demo-run.pickle"
        if done.exists():
            return pickle.loads(done.read_bytes())
        folder = shared / "demo-run"
        folder.mkdir()
        with isolated(folder):
            run = make_demo_run(folder)
        done.write_bytes(pickle.dumps(run))
        return run


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated warehouse per test process; each test gets a copy (migrating takes ~0.4 s)."""
    path = tmp_path_factory.mktemp("template") / "keyaudit.duckdb"
    connect(path).close()
    return path


@pytest.fixture
def warehouse(migrated_template: Path, tmp_path: Path) -> Iterator:
    """A fresh, migrated warehouse: a copy of the template, opened as connect() leaves it."""
    path = tmp_path / "keyaudit.duckdb"
    shutil.copyfile(migrated_template, path)
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")
    yield con
    con.close()


# The longest files first. `make test` runs `--dist loadfile`: xdist hands whole files to the two
# workers in collection order, and a long file handed out last leaves one core idle at the end.
SLOW_FILES_FIRST = (
    "tests/lifecycle/test_two_demo_runs.py",
    "tests/lifecycle/test_demo_reruns.py",
    "tests/flows/test_on_prefect.py",
    "tests/delivery/test_email.py",
    "tests/auditor/test_on_demo_warehouse.py",
    "tests/report/test_report_reads_right.py",
    "tests/report/test_last_used_modes.py",
    # make test's longest: one worker starts on the shared demo run, the other on files without it
    "tests/auditor/test_review.py",
    "tests/report/test_report_context.py",
    "tests/report/test_exports.py",
    "tests/report/test_report_html.py",
)


# Tests whose subject is Prefect itself, outside tests/flows/ (which is all about Prefect).
PREFECT_FILES = ("tests/delivery/test_counted_words.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the long files first, and mark what a quick run leaves out (`make test-quick`):
    `prefect` for tests that run or load Prefect, `demo` for tests that read the shared demo
    run (one whole audit per test process, ~20 s)."""
    rank = {path: i for i, path in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable
    for item in items:
        path = item.nodeid.split("::")[0]
        fixtures = getattr(item, "fixturenames", ())
        if (
            path.startswith("tests/flows/")
            or path in PREFECT_FILES
            or "prefect_harness" in fixtures
        ):
            item.add_marker(pytest.mark.prefect)
        if "demo_run" in fixtures:
            item.add_marker(pytest.mark.demo)


@pytest.fixture
def vt(monkeypatch: pytest.MonkeyPatch) -> VirtualTime:
    """Virtual time for the fault harness: sleeps and clocks advance without waiting."""
    vt = VirtualTime()
    install_virtual_time(monkeypatch, vt)
    return vt
