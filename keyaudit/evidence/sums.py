"""SHA256SUMS in a run's evidence folder: the run's evidence as `sha256sum -c SHA256SUMS` checks
it, with no keyaudit installed. It is derived from the warehouse's record of the run (what was
loaded), so a file changed on disk afterwards fails the check; `keyaudit verify` does not count it
as evidence."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from keyaudit.evidence.store import write_private

SHA256SUMS = "SHA256SUMS"


def sha256sums_line(sha256: str, path: str) -> str:
    """One line as GNU sha256sum writes it: hash, two spaces (text mode), the relative path; a
    path holding a backslash or a line break is escaped and the line starts with a backslash."""
    if "\\" in path or "\n" in path or "\r" in path:
        escaped = path.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        return f"\\{sha256}  {escaped}"
    return f"{sha256}  {path}"


def sha256sums_text(entries: Iterable[tuple[str, str]]) -> str:
    """(sha256, run-relative path) pairs as a SHA256SUMS file, in the order given."""
    return "".join(sha256sums_line(sha, path) + "\n" for sha, path in entries)


def write_sha256sums(run_dir: Path, entries: Iterable[tuple[str, str]]) -> Path:
    """Write `run_dir/SHA256SUMS` (0600, atomically) and return its path."""
    path = Path(run_dir) / SHA256SUMS
    write_private(path, sha256sums_text(entries).encode("utf-8"))
    return path
