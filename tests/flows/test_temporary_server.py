"""Prefect's temporary server ends with the keyaudit process that started it, even on `kill -9`
(flows/temporary_server.py): a Python process starts it as `keyaudit run --prefect` does, the
test kills that process with SIGKILL, and the server and its watchdog are gone within seconds.
About 15 s, most of it Prefect starting its server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GONE_WITHIN = 10.0  # the watchdog stops the server with SIGTERM, SIGKILL after 5 s

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = [pytestmark, pytest.mark.slow]


def state(pid: int) -> str | None:
    """The process's state letter (R, S, Z, ...); None once it no longer exists."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def alive(pid: int) -> bool:
    return state(pid) not in (None, "Z")  # a zombie has ended; only its exit status is left


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def ended_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def keyaudit_with_a_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A Python process that started Prefect's temporary server as the CLI does, and the
    server's pid; whatever the test leaves running is stopped afterwards."""
    code = textwrap.dedent(
        """
        import sys
        from keyaudit.flows.temporary_server import start_temporary_server
        from prefect.server.api.server import SubprocessASGIServer

        start_temporary_server()
        print(SubprocessASGIServer().server_process.pid, flush=True)
        sys.stdin.read()
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PYTHONPATH=str(ROOT), PREFECT_HOME=str(tmp_path / "prefect"))
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    server = None
    try:
        line = proc.stdout.readline()
        assert line.strip().isdigit(), proc.stderr.read() if proc.poll() is not None else line
        server = int(line)
        yield proc, server
    finally:
        for pid in [*children(proc.pid), *([server] if server else [])]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def test_kill_9_of_keyaudit_ends_prefects_temporary_server(keyaudit_with_a_server):
    proc, server = keyaudit_with_a_server
    watchdogs = [p for p in children(proc.pid) if p != server]
    assert alive(server) and len(watchdogs) == 1

    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)

    assert ended_within([server, *watchdogs], GONE_WITHIN), (state(server), watchdogs)
