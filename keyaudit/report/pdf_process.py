"""The report PDF laid out in a process of its own, beside the report's other outputs.

WeasyPrint lays a document out in Python on one core (about 0.25 s of CPU a page, whatever is on
it), and the report's other outputs (HTML, CSV, JSON, OCSF, XLSX, tickets) are Python and DuckDB
work of the same process: written one after the other, their times add up. Where the machine has
a second core, the PDF goes to a child process and the parent writes the other outputs
meanwhile, so the report takes the longer of the two instead of their sum. The child is started
ahead (`warm_up`, called when a run starts and when a report is asked for), so WeasyPrint's
import and font set-up (about 1 s) happen while the run collects or the report context is read.

The child gets the finished HTML and the archive record, nothing else: it never opens the
warehouse, so DuckDB's one-writer lock is never shared. It is spawned, not forked: the parent has
threads (DuckDB's, Prefect's, the collection pool's), and a fork copies the locks other threads
hold. WeasyPrint's warnings in the child (an anchor it cannot resolve, a CSS rule it ignores)
come back with the result and are logged again in the parent, under the same logger, so nothing
the in-process renderer would have said is lost.

Where only the PDF is asked for, or on one core, there is nothing to overlap: the PDF is laid out
in this process, as before.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from keyaudit.evidence.store import write_private
from keyaudit.model import KeyauditError
from keyaudit.report.pdf_archive import PdfArchive, archival_pdf

log = logging.getLogger("keyaudit.report")

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


class PdfRenderError(KeyauditError, RuntimeError):
    """The PDF's process ended before it returned the PDF (killed, or out of memory)."""


def render_pdf(html: str, path: Path, base_url: Path, archive: PdfArchive | None = None) -> int:
    """Lay out `html` with WeasyPrint, write it to `path` as PDF/A-3b, tagged, with `archive`'s
    metadata and associated files (mode 0600, atomically), return pages."""
    from weasyprint import (
        HTML,
    )  # here, not at the top: a parent that hands the PDF on never loads it

    document = HTML(string=html, base_url=str(base_url)).render()
    write_private(path, archival_pdf(document, archive))
    return len(document.pages)


@dataclass(frozen=True)
class Rendered:
    """What the child sends back: the page count, and the warnings WeasyPrint logged there."""

    pages: int
    warnings: tuple[tuple[str, int, str], ...] = ()  # (logger name, level, message)


class _Kept(logging.Handler):
    """Keeps the records of one render, to be logged again by the parent."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def _render_in_child(html: str, path: Path, base_url: Path, archive: PdfArchive | None) -> Rendered:
    kept = _Kept()
    weasyprint_log = logging.getLogger("weasyprint")
    weasyprint_log.addHandler(kept)
    try:
        pages = render_pdf(html, path, base_url, archive)
    finally:
        weasyprint_log.removeHandler(kept)
    return Rendered(pages, tuple(kept.records))


def _prepare_child() -> None:
    """The child's start: import WeasyPrint and lay out one line, which loads Pango and the
    fonts, so the first real PDF does not pay for them."""
    from weasyprint import HTML

    logging.getLogger("weasyprint").propagate = False  # its warnings travel back in `Rendered`
    HTML(string="<p>keyaudit</p>").render()


def _ready() -> bool:
    return True


def second_core() -> bool:
    """True when this process may run on more than one CPU (its affinity, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0)) > 1
    except AttributeError:  # not on Linux
        return (os.cpu_count() or 1) > 1


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_prepare_child,
            )
        return _pool


def _forget(pool: ProcessPoolExecutor) -> None:
    """A broken pool is dropped, so the next PDF starts a new child."""
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def warm_up() -> None:
    """Start the child now, where a second core can take the PDF: its start-up then overlaps
    the caller's work. Idempotent; a no-op on one core."""
    if second_core():
        _executor().submit(_ready)


def shutdown() -> None:
    """Stop the child (tests, and a long-lived process that will render no more PDFs)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True)


class PdfJob:
    """A PDF being written: `pages()` waits for it and says how many pages it has."""

    def __init__(self, future: Future[Rendered], pool: ProcessPoolExecutor | None) -> None:
        self._future = future
        self._pool = pool
        self._started = time.perf_counter()
        self.seconds: float | None = None
        self.beside = pool is not None

    def pages(self) -> int:
        try:
            rendered = self._future.result()
        except BrokenProcessPool as exc:
            if self._pool is not None:
                _forget(self._pool)
            raise PdfRenderError(
                "the process laying out report.pdf ended before it finished (killed, or out of "
                "memory?): run the report again, or leave pdf out of --formats"
            ) from exc
        finally:
            if self.seconds is None:
                self.seconds = time.perf_counter() - self._started
        for name, level, message in rendered.warnings:
            logging.getLogger(name).log(level, "%s", message)
        return rendered.pages

    def abandon(self) -> None:
        """Wait for the PDF without wanting it: the caller is failing for another reason, and
        must not return while the child still writes into its folder. Its own error, if any, is
        logged, never raised over the caller's."""
        try:
            self.pages()
        except Exception as exc:  # the caller's error is the one to report
            log.warning("report.pdf was not written either: %s", exc)


def start(
    renderer: Callable[[str, Path, Path, PdfArchive | None], int],
    html: str,
    path: Path,
    base_url: Path,
    archive: PdfArchive | None,
    *,
    beside: bool,
) -> PdfJob:
    """Write the PDF: in the child when `beside` (the caller has other outputs to write
    meanwhile), a second core is there and `renderer` is this module's `render_pdf`; otherwise
    here, now. A renderer replaced by a caller (the tests' one-page stub) always runs here: the
    child knows only the real one."""
    if beside and renderer is render_pdf and second_core():
        pool = _executor()
        try:
            return PdfJob(pool.submit(_render_in_child, html, path, base_url, archive), pool)
        except BrokenProcessPool:  # a child that died idle: start another, once
            _forget(pool)
            pool = _executor()
            return PdfJob(pool.submit(_render_in_child, html, path, base_url, archive), pool)
    done: Future[Rendered] = Future()
    started = time.perf_counter()
    done.set_result(Rendered(renderer(html, path, base_url, archive)))
    job = PdfJob(done, None)
    job.seconds = time.perf_counter() - started
    return job
