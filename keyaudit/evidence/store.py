"""Raw evidence store: every AWS response written verbatim before anything is loaded.

Layout: `<root>/<run_id>/<account_id>/<file>` plus a per-account `manifest.json`, and a run-level
`manifest.json` listing every file of the run with its SHA-256 and size. Folders are 0700 and
files 0600: evidence names people and keys and stays private to the auditor.
"""

from __future__ import annotations

import errno
import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keyaudit.evidence.scps import SCP_FILE, SCP_KIND
from keyaudit.model import KeyauditError, is_account_id
from keyaudit.safefile import TMP_SUFFIX, make_private_dir, write_atomic

MANIFEST = "manifest.json"
SHA256SUMS = "SHA256SUMS"  # the run's hashes for `sha256sum -c` (keyaudit.evidence.sums)
# Records of `keyaudit remediate --apply`, added after the run: never in the run manifest (that
# would change the manifest the run's signature covers); each file's SHA-256 is in the
# warehouse's remediation_actions, and `keyaudit verify` checks them there.
REMEDIATION_DIR = "remediation"
SIGNATURE_FILE = "manifest.sig.json"  # the manifest's signature (keyaudit.evidence.signing)
# Added after the run (review files, sign-offs; keyaudit.evidence.after_run): never the run's own.
REVIEW_DIR = "review"


@dataclass(frozen=True)
class EvidenceFile:
    path: str  # relative to the run folder, with forward slashes
    kind: str
    sha256: str
    bytes: int
    fetched_at: str


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class EvidenceWriteError(KeyauditError, OSError):
    """A file could not be written (disk full, no permission); nothing half-written is left."""


def write_private(path: Path, data: bytes) -> None:
    """Write atomically with owner-only permissions, never through a link (a crash never leaves
    half a file, a failed write leaves no temporary file behind; keyaudit.safefile)."""
    try:
        write_atomic(path, data)
    except OSError as exc:
        error = EvidenceWriteError(f"cannot write {path} ({exc.strerror or exc}) — {_fix(exc)}")
        error.errno = exc.errno  # callers may still tell a full disk from a denied write
        raise error from None


def _fix(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free some space on its disk, or choose another folder"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "fix the folder's permissions, or choose another folder"
    return "check the folder and its disk"


def to_json_bytes(data: Any) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True, default=_json_default).encode() + b"\n"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"cannot store {type(value).__name__} as JSON evidence")


class EvidenceStore:
    """Writes the evidence of one run; safe to use from one thread per account."""

    def __init__(self, root: Path, run_id: str) -> None:
        self.root = Path(root)
        self.run_id = run_id
        self.run_dir = self.root / run_id

    def prepare(self) -> Path:
        make_private_dir(self.root)
        return make_private_dir(self.run_dir)

    def account_dir(self, account_id: str) -> Path:
        # folder names come from account ids only: 12 ASCII digits, never a path
        if not is_account_id(account_id):
            raise ValueError(
                f"account id {account_id!r} is not 12 digits — refusing it as a folder name"
            )
        return make_private_dir(self.run_dir / account_id)

    def write(self, account_id: str | None, name: str, data: bytes, kind: str) -> EvidenceFile:
        folder = self.account_dir(account_id) if account_id else make_private_dir(self.run_dir)
        path = folder / name
        write_private(path, data)
        relative = path.relative_to(self.run_dir).as_posix()
        return EvidenceFile(
            path=relative,
            kind=kind,
            sha256=hashlib.sha256(data).hexdigest(),
            bytes=len(data),
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )

    def write_json(self, account_id: str | None, name: str, data: Any, kind: str) -> EvidenceFile:
        return self.write(account_id, name, to_json_bytes(data), kind)

    def write_account_manifest(self, account_id: str, files: list[EvidenceFile]) -> EvidenceFile:
        listing = {
            "run_id": self.run_id,
            "account_id": account_id,
            "files": [asdict(f) for f in files],
        }
        return self.write_json(account_id, MANIFEST, listing, "manifest")

    def write_run_manifest(self, *, keep: bool = False) -> tuple[str, list[EvidenceFile]]:
        """List every file of the run (account manifests included); return the manifest's hash.

        With `keep` (a resume), a file the manifest already lists keeps its entry as it is: a
        resume adds the files it collected itself and never re-lists what it found on disk."""
        earlier = keep and (self.run_dir / MANIFEST).exists()
        listed = {f.path: f for f in self.read_run_manifest()} if earlier else {}
        files = [
            listed.get(relative) or self._entry(path, relative)
            for path in sorted(self.run_dir.rglob("*"))
            if path.is_file()
            and (relative := path.relative_to(self.run_dir).as_posix()) not in _NOT_EVIDENCE
            and not is_after_run(relative)
            and not is_partial_write(path)
            and not is_remediation_record(relative)
        ]
        listing = {"run_id": self.run_id, "files": [asdict(f) for f in files]}
        written = self.write_json(None, MANIFEST, listing, "manifest")
        return written.sha256, files

    def _entry(self, path: Path, relative: str) -> EvidenceFile:
        return EvidenceFile(
            path=relative,
            kind=_kind_of(path, self.run_dir),
            sha256=sha256_file(path),
            bytes=path.stat().st_size,
            fetched_at=datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(
                timespec="seconds"
            ),
        )

    def read_run_manifest(self) -> list[EvidenceFile]:
        listing = json.loads((self.run_dir / MANIFEST).read_text(encoding="utf-8"))
        return [EvidenceFile(**item) for item in listing["files"]]


# Written into the run folder but never evidence: the manifest itself, its signature (made after
# it), and SHA256SUMS, derived from the warehouse after loading (keyaudit.evidence.sums).
_NOT_EVIDENCE = frozenset({MANIFEST, SIGNATURE_FILE, SHA256SUMS})


def is_remediation_record(relative: str) -> bool:
    """A file `keyaudit remediate` added to the run's folder after the run (REMEDIATION_DIR)."""
    return relative.startswith(REMEDIATION_DIR + "/")


def is_after_run(relative: str) -> bool:
    """A review file or sign-off added after the run (keyaudit.evidence.after_run)."""
    return relative.startswith(REVIEW_DIR + "/")


def is_partial_write(path: Path) -> bool:
    """A temporary file a write left behind when its process died (keyaudit.safefile): never
    evidence."""
    return path.name.endswith(TMP_SUFFIX)


_KINDS = {
    "credential_report.csv": "credential_report",
    "credential_report.json": "credential_report_meta",
    "users.json": "list_users",
    "access_keys.json": "access_keys",
    "access_keys.input.json": "access_keys_input",  # keys file as handed in (files source)
    "account_summary.json": "account_summary",
    "authorization_details.json": "authorization_details",
    "aws_managed_policies.json": "aws_managed_policies",
    "privilege.json": "privilege_outcome",
    "collection.json": "collection_outcome",
    MANIFEST: "manifest",
    SIGNATURE_FILE: "manifest_signature",
    "run.json": "run",  # named once in keyaudit.evidence.run_record (RUN_FILE), above this module
    SCP_FILE: SCP_KIND,  # run level: the organization's service control policies
}


def _kind_of(path: Path, run_dir: Path) -> str:
    return _KINDS.get(path.name, "other")
