"""Prove a run's evidence is what was loaded: every file's SHA-256 against the run manifest, the
account manifests and the warehouse's `evidence` rows, and the run manifest's own hash against
the one stored with the run (`runs.manifest_sha256`), so editing a file *and* the manifest is
caught too. Each difference names the file; nothing here writes anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from keyaudit.evidence.store import MANIFEST, sha256_file
from keyaudit.evidence.sums import SHA256SUMS
from keyaudit.model import KeyauditError

RUN_MANIFEST_SOURCE = "run manifest"
WAREHOUSE_SOURCE = "warehouse"


class VerifyError(KeyauditError, ValueError):
    """The run cannot be verified at all (unknown run, no evidence folder)."""


@dataclass(frozen=True)
class Difference:
    kind: str  # missing | altered | extra | unlisted | manifest
    path: str  # relative to the run's evidence folder
    detail: str

    def line(self) -> str:
        return f"{self.kind.upper():<8} {self.path}: {self.detail}"


@dataclass
class Verification:
    run_id: str
    run_dir: Path
    files_checked: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def _short(digest: str | None) -> str:
    return (digest or "none")[:12]


def verify_run(con: duckdb.DuckDBPyConnection, evidence_root: Path, run_id: str) -> Verification:
    """Compare disk, manifests and warehouse for one run; never raises for a difference."""
    row = con.execute("select manifest_sha256 from runs where run_id = ?", [run_id]).fetchone()
    if row is None:
        raise VerifyError(f"run {run_id} is not in the warehouse — `keyaudit runs` lists the runs")
    run_dir = Path(evidence_root) / run_id
    if not run_dir.is_dir():
        raise VerifyError(
            f"run {run_id}: no evidence folder {run_dir} — pass --evidence DIR, the folder "
            "that holds the run's evidence (data/evidence by default)"
        )
    result = Verification(run_id=run_id, run_dir=run_dir)
    # SHA256SUMS is derived from the warehouse after loading (sums.py): not evidence to count.
    on_disk = {
        p.relative_to(run_dir).as_posix(): sha256_file(p)
        for p in sorted(run_dir.rglob("*"))
        if p.is_file() and p != run_dir / SHA256SUMS
    }
    result.files_checked = len(on_disk)
    manifest = _run_manifest(run_dir, on_disk, row[0], result)
    on_disk.pop(MANIFEST, None)  # the run manifest is checked against its stored hash only
    stored = dict(
        con.execute(
            "select path, sha256 from evidence where run_id = ? order by path", [run_id]
        ).fetchall()
    )
    listed: dict[str, dict[str, str]] = {}
    manifest.pop(SHA256SUMS, None)  # listed by a manifest rewritten after a report (resume)
    stored.pop(SHA256SUMS, None)
    for path, digest in manifest.items():
        listed.setdefault(path, {})[RUN_MANIFEST_SOURCE] = digest
    for path, digest in stored.items():
        listed.setdefault(path, {})[WAREHOUSE_SOURCE] = digest
    for path, digest in _account_manifests(run_dir, on_disk, result).items():
        listed.setdefault(path, {})[f"{path.split('/')[0]}/{MANIFEST}"] = digest
    _compare(listed, on_disk, bool(manifest or stored), result)
    return result


def _run_manifest(
    run_dir: Path, on_disk: dict[str, str], recorded: str | None, result: Verification
) -> dict[str, str]:
    """The run manifest's listing, after checking the manifest against the run record."""
    actual = on_disk.get(MANIFEST)
    if actual is None:
        result.differences.append(
            Difference("missing", MANIFEST, "the run manifest is gone; no file can be checked")
        )
        return {}
    if recorded is None:
        result.differences.append(
            Difference(
                "manifest",
                MANIFEST,
                "the warehouse holds no manifest hash for this run, so the manifest itself "
                "cannot be proven unchanged — reload the run with the audit flow",
            )
        )
    elif actual != recorded:
        result.differences.append(
            Difference(
                "altered",
                MANIFEST,
                f"SHA-256 is {_short(actual)}…, the run record says {_short(recorded)}… — "
                "the manifest was changed after the run was loaded",
            )
        )
    try:
        listing = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
        return {f["path"]: f["sha256"] for f in listing["files"]}
    except (ValueError, KeyError, TypeError) as exc:
        result.differences.append(
            Difference("altered", MANIFEST, f"not a readable manifest ({exc})")
        )
        return {}


def _account_manifests(
    run_dir: Path, on_disk: dict[str, str], result: Verification
) -> dict[str, str]:
    """Hashes the per-account manifests recorded at collection time, by run-relative path."""
    hashes: dict[str, str] = {}
    for path in sorted(p for p in on_disk if p.count("/") == 1 and p.endswith("/" + MANIFEST)):
        try:
            listing = json.loads((run_dir / path).read_text(encoding="utf-8"))
            hashes.update({f["path"]: f["sha256"] for f in listing["files"]})
        except (ValueError, KeyError, TypeError) as exc:
            result.differences.append(
                Difference("altered", path, f"not a readable account manifest ({exc})")
            )
    return hashes


def _compare(
    listed: dict[str, dict[str, str]],
    on_disk: dict[str, str],
    have_listing: bool,
    result: Verification,
) -> None:
    for path in sorted(set(listed) | set(on_disk)):
        sources = listed.get(path, {})
        actual = on_disk.get(path)
        if actual is None:
            result.differences.append(
                Difference("missing", path, f"listed by the {_and(sources)} but not on disk")
            )
            continue
        if not sources:
            if have_listing:
                result.differences.append(
                    Difference(
                        "extra",
                        path,
                        f"on disk (SHA-256 {_short(actual)}…) but in neither the run manifest "
                        "nor the warehouse",
                    )
                )
            continue
        differ = {s: d for s, d in sources.items() if d != actual}
        if differ:
            said = ", ".join(f"{s} {_short(d)}…" for s, d in differ.items())
            result.differences.append(
                Difference("altered", path, f"SHA-256 is {_short(actual)}…; {said}")
            )
        for needed in (RUN_MANIFEST_SOURCE, WAREHOUSE_SOURCE):
            if needed not in sources:
                result.differences.append(
                    Difference("unlisted", path, f"on disk but not listed by the {needed}")
                )


def _and(sources: dict[str, str]) -> str:
    names = list(sources)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
