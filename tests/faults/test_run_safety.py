"""Fault matrix, concurrent-run rows: a second run while one writes is refused with a clear
message (warehouse and evidence folder), across processes too, and a killed run leaves no lock."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from keyaudit.evidence.runlock import RunIdError, RunLockedError, check_run_id, exclusive_run
from keyaudit.evidence.store import EvidenceStore
from keyaudit.pipeline import new_run_id
from keyaudit.warehouse.db import WarehouseError, connect

STARTED = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


@contextmanager
def other_process(code: str) -> Iterator[subprocess.Popen[str]]:
    """A second Python process that runs `code`, says "ready", and holds on until stdin closes."""
    script = textwrap.dedent(code) + "\nprint('ready', flush=True)\nsys.stdin.read()\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys\n" + script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        line = proc.stdout.readline()
        assert line.strip() == "ready", proc.stderr.read()
        yield proc
    finally:
        if proc.poll() is None:
            proc.stdin.close()
            proc.wait(timeout=30)


def test_second_run_on_the_same_warehouse_is_refused_with_a_clear_message(tmp_path):
    warehouse = tmp_path / "keyaudit.duckdb"
    first = EvidenceStore(tmp_path / "evidence", "20261201T060000Z-aaaaaa")
    second = EvidenceStore(tmp_path / "evidence", "20261201T061500Z-bbbbbb")
    with (
        exclusive_run(warehouse, first, STARTED),
        pytest.raises(RunLockedError) as refused,
        exclusive_run(warehouse, second, STARTED),
    ):
        pass
    assert str(refused.value).startswith(
        f"warehouse {warehouse} is being written by another keyaudit run "
        "(run 20261201T060000Z-aaaaaa, pid "
    )
    assert str(refused.value).endswith(
        "started 2026-12-01T06:00:00+00:00) — wait for it to finish, or use another --db"
    )
    with exclusive_run(warehouse, second, STARTED):  # free again once the first is done
        pass


def test_same_run_cannot_be_written_by_two_processes(tmp_path):
    store = EvidenceStore(tmp_path / "evidence", "run-1")
    holder = f"""
        from datetime import UTC, datetime
        from pathlib import Path
        from keyaudit.evidence.store import EvidenceStore
        from keyaudit.evidence.runlock import exclusive_run
        lock = exclusive_run(Path({str(tmp_path / "a.duckdb")!r}),
                             EvidenceStore(Path({str(store.root)!r}), "run-1"),
                             datetime(2026, 12, 1, 6, 0, tzinfo=UTC))
        lock.__enter__()
    """
    with (
        other_process(holder) as proc,
        pytest.raises(RunLockedError) as refused,
        exclusive_run(tmp_path / "b.duckdb", store, STARTED),
    ):
        pass
    assert str(refused.value).startswith(
        f"run run-1 is in use by another keyaudit process (run run-1, pid {proc.pid} on "
    )
    assert str(refused.value).endswith(
        "— wait for it to finish before running or resuming it again"
    )


def test_a_killed_run_leaves_no_stale_lock(tmp_path):
    store = EvidenceStore(tmp_path / "evidence", "run-1")
    holder = f"""
        from datetime import UTC, datetime
        from pathlib import Path
        from keyaudit.evidence.store import EvidenceStore
        from keyaudit.evidence.runlock import exclusive_run
        held = exclusive_run(Path({str(tmp_path / "w.duckdb")!r}),
                             EvidenceStore(Path({str(store.root)!r}), "run-1"),
                             datetime(2026, 12, 1, 6, 0, tzinfo=UTC))
        held.__enter__()  # kept referenced: a dropped context manager would release the lock
    """
    with other_process(holder) as proc:
        with pytest.raises(RunLockedError):  # the holder really has the lock …
            exclusive_run(tmp_path / "w.duckdb", store, STARTED).__enter__()
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    # … and its death releases it: the run can be resumed at once, no stale lock to clear
    with exclusive_run(tmp_path / "w.duckdb", store, STARTED):
        pass


def test_warehouse_held_open_by_another_writer_is_refused_with_a_clear_message(tmp_path):
    warehouse = tmp_path / "keyaudit.duckdb"
    connect(warehouse).close()
    holder = f"import duckdb\ncon = duckdb.connect({str(warehouse)!r})"
    with other_process(holder), pytest.raises(WarehouseError) as refused:
        connect(warehouse)
    assert str(refused.value) == (
        f"warehouse {warehouse} is in use by another keyaudit process (DuckDB allows one writer)"
        " — wait for that run to finish, or use another --db"
    )


@pytest.mark.parametrize("run_id", ["../elsewhere", "a/b", "..", "", ".hidden", "x" * 65])
def test_run_ids_that_are_not_plain_names_are_refused(run_id):
    with pytest.raises(RunIdError, match="is not valid — use letters, digits"):
        check_run_id(run_id)


def test_generated_run_ids_are_valid_sortable_by_start_and_unique():
    started = datetime(2026, 12, 1, 7, 0, 5, 123456, tzinfo=timezone(timedelta(hours=1)))
    ids = [new_run_id(started) for _ in range(20)]
    for run_id in ids:
        assert re.fullmatch(r"20261201T060005Z-[0-9a-f]{6}", run_id), run_id  # in UTC
        assert check_run_id(run_id) == run_id
    # runs started in the same second differ by their random part (24 bits: one pair in 20 may
    # share it by chance with odds of 1 in 90 000, two pairs practically never)
    assert len(set(ids)) >= len(ids) - 1, "runs started in the same second share an id"
    later = new_run_id(started + timedelta(seconds=1), "000000")
    assert sorted([later, *ids])[-1] == later  # sorted by start time, whatever the random part
    assert new_run_id(started, "ffffff") < later
    assert new_run_id(STARTED, "3f9a1c") == "20261201T060000Z-3f9a1c"


def test_lock_files_stay_outside_the_run_folder(tmp_path):
    store = EvidenceStore(tmp_path / "evidence", "run-1")
    store.prepare()
    with exclusive_run(tmp_path / "w.duckdb", store, STARTED):
        assert list(store.run_dir.iterdir()) == []  # the manifest never lists a lock
        assert (tmp_path / "evidence" / ".run-1.lock").stat().st_mode & 0o777 == 0o600
