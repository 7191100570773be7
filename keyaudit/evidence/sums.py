"""SHA256SUMS in a run's evidence folder: the run's evidence as `sha256sum -c SHA256SUMS` checks
it, with no keyaudit installed. It is derived from the warehouse's record of the run (what was
loaded), so a file changed on disk afterwards fails the check; `keyaudit verify` does not count it
as evidence. report.pdf embeds the same text (`evidence_sums_text`), written or re-rendered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from keyaudit.evidence.store import MANIFEST, SHA256SUMS, write_private

__all__ = ["SHA256SUMS", "evidence_sums_text", "sha256sums_text", "write_sha256sums"]


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


def evidence_sums_text(files: Iterable[Mapping[str, Any]], manifest_sha256: str | None) -> str:
    """A run's SHA256SUMS from the warehouse's evidence rows (path, sha256; as the report's
    `evidence_files` query lists them) and the run manifest's recorded hash, listed last."""
    entries = [(f["sha256"], f["path"]) for f in files if f["path"] != SHA256SUMS]
    if manifest_sha256:
        entries.append((manifest_sha256, MANIFEST))
    return sha256sums_text(entries)


def write_sha256sums(run_dir: Path, text: str) -> Path:
    """Write `text` as `run_dir/SHA256SUMS` (0600, atomically) and return its path."""
    path = Path(run_dir) / SHA256SUMS
    write_private(path, text.encode("utf-8"))
    return path
