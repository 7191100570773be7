"""The watchdog of Prefect's temporary server: it ends the server when keyaudit ends.

Run as `python -I -S server_watch.py` by flows/temporary_server.py, in a session of its own (a
Ctrl-C or a closed terminal reaches keyaudit, not this), with a pipe from keyaudit as its
standard input. keyaudit writes the pid of each server process it starts, one a line. When the
pipe closes, keyaudit has ended — normally, by an exception, or by `kill -9`, which runs no
clean-up in keyaudit — and the watchdog stops every server it was told of: SIGTERM, then SIGKILL
after STOP_SECONDS. A server keyaudit already stopped is left alone: on Linux the watchdog holds
a pidfd of each, so a reused pid is never signalled.

Standard library only, and no import of keyaudit or Prefect: it starts in milliseconds and holds
a few megabytes for the life of the run.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time

STOP_SECONDS = 5.0  # as Prefect's own stop: terminate, then kill after 5 s


def _handle(pid: int) -> int | None:
    """A pidfd for `pid` (Linux 5.3+), or None where there is none: then the pid itself."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _signal(pid: int, handle: int | None, signum: int) -> bool:
    """Send `signum`; False when the process is gone already."""
    try:
        if handle is not None:
            signal.pidfd_send_signal(handle, signum)
        else:
            os.kill(pid, signum)
    except ProcessLookupError:
        return False
    return True


def _ended(pid: int, handle: int | None, within: float) -> bool:
    if handle is not None:  # readable once the process has exited
        return bool(select.select([handle], [], [], within)[0])
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def stop(pid: int, handle: int | None) -> None:
    if _signal(pid, handle, signal.SIGTERM) and not _ended(pid, handle, STOP_SECONDS):
        _signal(pid, handle, signal.SIGKILL)


def main() -> None:
    for name in ("SIGINT", "SIGHUP", "SIGTERM"):  # only the pipe's end means keyaudit ended
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    watched: list[tuple[int, int | None]] = []
    for line in sys.stdin:
        with contextlib.suppress(ValueError):
            pid = int(line)
            watched.append((pid, _handle(pid)))
    for pid, handle in watched:
        stop(pid, handle)


if __name__ == "__main__":
    main()
