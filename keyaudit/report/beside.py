"""Report outputs written in a process beside this one: report.pdf and findings.xlsx.

The report's outputs are single-core Python and DuckDB work of one process: WeasyPrint lays a
document out at about 0.25 s of CPU a page, XlsxWriter writes a cell in about 20 µs (at 1,000
accounts, 442,000 findings: 220 s of CPU for findings.xlsx alone), and the HTML, CSV, JSON, OCSF
and tickets files follow. Written one after the other, their times add up. Where the process may
use a second core, the longest of them goes to a child process (the workbook of a large report,
else the PDF: keyaudit.report.render.write_report decides) and this one writes the rest
meanwhile: the report takes about the longer of the two shares, not the sum. The child lives as
long as this process (a `keyaudit serve` flow run is a process of its own).

The child is started ahead (`warm_up`, when a run starts collecting and when a report is asked
for), so its imports and WeasyPrint's font set-up (about 1 s) happen while the run collects or
the report context is read. It is spawned, not forked: this process has threads (DuckDB's,
Prefect's, the collection pool's), and a fork copies the locks other threads hold. It gets what
it needs by value (the HTML and the archive record for the PDF; the warehouse's path for the
workbook, which it opens read-only, as a second reader DuckDB allows beside this one's read-only
connection). The warnings logged in the child come back with the result and are logged again
here, under the same logger names, so nothing said in the child is lost.

On one core, or where there is nothing to write meanwhile, the work is done here, now (`here`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keyaudit.exits import is_interruption
from keyaudit.model import KeyauditError

log = logging.getLogger("keyaudit.report")

_pool: ProcessPoolExecutor | None = None
_child_pid: Future[int] | None = None  # the child says its pid first: `_stop_child` needs it
_pool_lock = threading.Lock()


class BesideError(KeyauditError, RuntimeError):
    """The child process ended before it returned its output (killed, or out of memory)."""


@dataclass(frozen=True)
class _Returned:
    """What the child sends back: the function's value and the warnings logged meanwhile."""

    value: Any
    seconds: float  # the function's own time, not the time the caller waited
    warnings: tuple[tuple[str, int, str], ...] = ()  # (logger name, level, message)


class _Kept(logging.Handler):
    """Keeps one job's warnings, to be logged again by the parent."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def _call_in_child(function: Callable[..., Any], args: tuple[Any, ...]) -> _Returned:
    kept = _Kept()
    root = logging.getLogger()
    root.addHandler(kept)
    started = time.perf_counter()
    try:
        value = function(*args)
    finally:
        root.removeHandler(kept)
    return _Returned(value, time.perf_counter() - started, tuple(kept.records))


def _prepare_child() -> None:
    """The child's start: WeasyPrint imported and one line laid out (Pango and the fonts loaded),
    and the modules the jobs run, so the first job pays for none of it.

    Ctrl-C is the parent's to handle (the terminal sends it to both): the child ignores SIGINT,
    and the parent, when interrupted, stops the child's job with SIGTERM, which ends the job as
    an exception so that its half-written file is removed (`safefile`) before the parent exits.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_job)
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger().addHandler(logging.NullHandler())  # warnings travel back, never to stderr
    from weasyprint import HTML

    import keyaudit.report.exports  # noqa: F401  (findings.xlsx)

    HTML(string="<p>keyaudit</p>").render()


def _stop_job(signum: int, frame: object) -> None:
    sys.exit(128 + signum)


def _pid() -> int:
    return os.getpid()


@contextmanager
def _children_ignore_ctrl_c() -> Iterator[None]:
    """A child spawned inside the block starts with SIGINT ignored (an ignored signal stays
    ignored across exec, and Python keeps it so): a Ctrl-C during its start-up, before
    `_prepare_child` runs, must not print a traceback from the child. Only the main thread may
    change a signal's handling; elsewhere (a Prefect task's thread) `_prepare_child` does it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:  # None: a handler set outside Python; Python's own is what it replaced
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)


def second_core() -> bool:
    """True when this process may run on more than one CPU (its affinity, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0)) > 1
    except AttributeError:  # not on Linux
        return (os.cpu_count() or 1) > 1


def _executor() -> ProcessPoolExecutor:
    """The pool of one child, started (spawned, in the calling thread) on first use."""
    global _pool, _child_pid
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_prepare_child,
            )
            with _children_ignore_ctrl_c():
                _child_pid = _pool.submit(_pid)
        return _pool


def _stop_child() -> None:
    """End the child's job now (SIGTERM: `_prepare_child`), if the child has started."""
    with _pool_lock:
        pid = _child_pid
    if pid is None:
        return
    try:
        found = pid.result(timeout=60)  # a child still starting says it within seconds
    except Exception:  # it never started, or died: nothing to stop
        return
    with suppress(ProcessLookupError):  # already gone
        os.kill(found, signal.SIGTERM)


def _forget(pool: ProcessPoolExecutor) -> None:
    """A broken pool is dropped, so the next job starts a new child."""
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def warm_up() -> None:
    """Start the child now, where a second core is there: its start-up then overlaps the
    caller's work. Idempotent; a no-op on one core."""
    if second_core():
        _executor()


class Job:
    """An output being written (`what`, for messages): `result()` waits for it."""

    def __init__(
        self, what: str, future: Future[_Returned], pool: ProcessPoolExecutor | None
    ) -> None:
        self.what = what
        self._future = future
        self._pool = pool
        self.beside = pool is not None
        self._told = False
        self._abandoned = False

    @property
    def seconds(self) -> float | None:
        """The job's own time (in the child: not the time the caller waited), once it is done;
        None before, or when it failed."""
        if not self._future.done() or self._future.exception() is not None:
            return None
        return float(self._future.result().seconds)

    def result(self) -> Any:
        try:
            returned = self._future.result()
        except BrokenProcessPool as exc:
            if self._pool is not None:
                _forget(self._pool)
            raise BesideError(
                f"the process writing {self.what} ended before it finished (killed, or out of "
                "memory?): write the report again, or leave that format out of --formats"
            ) from exc
        if not self._told:  # once, however often the result is asked for
            self._told = True
            for name, level, message in returned.warnings:
                logging.getLogger(name).log(level, "%s", message)
        return returned.value

    def abandon(self, because: BaseException) -> None:
        """The caller is failing (`because`) and must not return while the child still writes
        into its folder: wait for the job, or, when the caller was interrupted (Ctrl-C), stop it
        first, so that nothing is left half-written and nobody waits minutes for a workbook. The
        job's own error, if any, is logged, never raised over the caller's."""
        if self._abandoned:
            return
        self._abandoned = True
        interrupted = is_interruption(because)
        if interrupted and self.beside:
            _stop_child()
        try:
            self.result()
        except BaseException as exc:  # the caller's error is the one to report
            if not interrupted:
                log.warning("%s was not written either: %s", self.what, exc)


def here(what: str, function: Callable[..., Any], *args: Any) -> Job:
    """Run `function(*args)` in this process, now, as a finished Job."""
    started = time.perf_counter()
    done: Future[_Returned] = Future()
    done.set_result(_Returned(function(*args), time.perf_counter() - started))
    return Job(what, done, None)


def submit(what: str, function: Callable[..., Any], *args: Any) -> Job:
    """Run `function(*args)` in the child (a second core is there: see `second_core`).
    `function` must be a module-level function of keyaudit and `args` picklable. A relative
    Path is made absolute here: the child keeps the folder it started in, and the caller may
    have changed its own since."""
    args = tuple(a.absolute() if isinstance(a, Path) else a for a in args)
    pool = _executor()
    try:
        return Job(what, pool.submit(_call_in_child, function, args), pool)
    except BrokenProcessPool:  # a child that died idle: start another, once
        _forget(pool)
        pool = _executor()
        return Job(what, pool.submit(_call_in_child, function, args), pool)
