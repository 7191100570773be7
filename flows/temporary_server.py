"""Prefect's temporary API server, tied to the life of the keyaudit process that started it.

Without PREFECT_API_URL, a flow run makes Prefect start a temporary server: `python -m uvicorn`
in a child process (prefect.server.api.server.SubprocessASGIServer), stopped by an atexit hook.
`kill -9` runs no atexit hook, so the server used to outlive keyaudit (255 MB after 5 minutes),
and Prefect has no setting for it. keyaudit therefore starts that server itself, before the flow
— Prefect keeps one per process and the flow uses it — and gives the pid of the server process,
the moment it exists, to a watchdog (flows/server_watch.py) that stops the server when keyaudit
ends, however it ends.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from prefect.settings import PREFECT_API_URL

WATCHDOG = Path(__file__).with_name("server_watch.py")
_watchdogs: list[subprocess.Popen[bytes]] = []  # alive as long as this process: its pipe is the tie


def start_temporary_server() -> str | None:
    """Start Prefect's temporary server now, bound to this process; its API URL. None when
    PREFECT_API_URL names a server (not ours to stop)."""
    if PREFECT_API_URL.value():
        return None
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    if not server.running:
        watchdog = _start_watchdog()
        spawn = server._run_uvicorn_command

        def spawn_watched() -> Any:
            process = spawn()
            _watch(watchdog, process.pid)
            return process

        server._run_uvicorn_command = spawn_watched  # type: ignore[method-assign]
        server.start()
    return server.api_url


def _start_watchdog() -> subprocess.Popen[bytes]:
    """The watchdog, in a session of its own, reading a pipe only this process writes to."""
    watchdog = subprocess.Popen(  # noqa: S603 — this Python, a file of this package
        [sys.executable, "-I", "-S", str(WATCHDOG)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _watchdogs.append(watchdog)
    return watchdog


def _watch(watchdog: subprocess.Popen[bytes], pid: int) -> None:
    assert watchdog.stdin is not None
    watchdog.stdin.write(f"{pid}\n".encode())
    watchdog.stdin.flush()
