"""Prove a run's evidence is what was loaded: every file's SHA-256 against the run manifest, the
account manifests and the warehouse's `evidence` rows, and the run manifest's own hash against
the one stored with the run (`runs.manifest_sha256`), so editing a file *and* the manifest is
caught too. Each difference names the file; nothing here writes anything.

A resume asks the same before it loads (`verify_before_resume`), of a run that may not be loaded
yet: then the account manifests, and the run manifest once its load began, are all there is.

A signed run's manifest.sig.json is checked last, against a public key the auditor trusts (not
one the evidence names): an insider who edits a file and rewrites every manifest and the
warehouse consistently passes the hash checks, never the signature (keyaudit.evidence.signing).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb

from keyaudit.evidence.after_run import recorded_after_run
from keyaudit.evidence.run_record import RUN_FILE
from keyaudit.evidence.signing import PublicKey, read_signature, signature_problem
from keyaudit.evidence.store import (
    MANIFEST,
    SHA256SUMS,
    SIGNATURE_FILE,
    is_after_run,
    is_partial_write,
    is_remediation_record,
    sha256_file,
)
from keyaudit.model import KeyauditError

RUN_MANIFEST_SOURCE = "run manifest"
WAREHOUSE_SOURCE = "warehouse"
RUN_FILE_SOURCE = RUN_FILE  # a files run lists the files it keeps at run level there
NOT_SIGNED = (
    "not signed — the hashes show the files are those the warehouse recorded, but no signature "
    "means no protection against an insider who can rewrite the evidence and the warehouse "
    "together ([signing] in keyaudit.toml signs each run)"
)
# Derived after the manifest (SHA256SUMS from the warehouse, the signature of the manifest): not
# evidence the manifests list; the signature is checked on its own.
NOT_LISTED = (SHA256SUMS, SIGNATURE_FILE)


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
    signature: str = NOT_SIGNED  # what the signature check found, in words
    signed: bool = False  # the signature checked against the trusted key

    @property
    def ok(self) -> bool:
        return not self.differences


def _short(digest: str | None) -> str:
    return (digest or "none")[:12]


@dataclass(frozen=True)
class Recorded:
    """What the warehouse holds about a loaded run: the run manifest's hash and each file's."""

    manifest_sha256: str | None
    files: dict[str, str]  # run-relative path -> SHA-256, as loaded


def recorded_run(con: duckdb.DuckDBPyConnection, run_id: str) -> Recorded | None:
    """The warehouse's record of the run's evidence; None when the run was never loaded."""
    row = con.execute("select manifest_sha256 from runs where run_id = ?", [run_id]).fetchone()
    if row is None:
        return None
    files = con.execute(
        "select path, sha256 from evidence where run_id = ? order by path", [run_id]
    ).fetchall()
    return Recorded(manifest_sha256=row[0], files=dict(files))


def verify_run(
    con: duckdb.DuckDBPyConnection,
    evidence_root: Path,
    run_id: str,
    trusted: tuple[PublicKey, str] | None = None,
) -> Verification:
    """Compare disk, manifests and warehouse for one run, and check a signed run's signature
    with `trusted` (a public key and where it came from); never raises for a difference."""
    recorded = recorded_run(con, run_id)
    if recorded is None:
        raise VerifyError(f"run {run_id} is not in the warehouse — `keyaudit runs` lists the runs")
    run_dir = Path(evidence_root) / run_id
    if not run_dir.is_dir():
        raise VerifyError(
            f"run {run_id}: no evidence folder {run_dir} — pass --evidence DIR, the folder "
            "that holds the run's evidence (data/evidence by default)"
        )
    result = Verification(run_id=run_id, run_dir=run_dir)
    on_disk = {
        relative: sha256_file(p)
        for p in sorted(run_dir.rglob("*"))
        if p.is_file() and (relative := p.relative_to(run_dir).as_posix()) not in NOT_LISTED
    }
    records = {p: d for p, d in on_disk.items() if is_remediation_record(p)}
    after = {p: d for p, d in on_disk.items() if is_after_run(p)}
    on_disk = {p: d for p, d in on_disk.items() if p not in records and p not in after}
    _check(result, on_disk, recorded, _Rules())
    _check_signature(con, run_dir, run_id, on_disk.get(MANIFEST), trusted, result)
    _check_added_later(records, _remediation_records(con, run_id), "remediation record", result)
    _check_added_later(after, recorded_after_run(con, run_id), "review file or sign-off", result)
    result.files_checked += len(records) + len(after)
    return result


def _remediation_records(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, str]:
    """The records `keyaudit remediate` added after the run (remediation/…json) and the SHA-256
    the warehouse's remediation_actions holds for each."""
    try:
        return dict(
            con.execute(
                "select distinct record_path, record_sha256 from remediation_actions "
                "where run_id = ?",
                [run_id],
            ).fetchall()
        )
    except duckdb.CatalogException:  # a warehouse from before remediation, opened read-only
        return {}


def _check_added_later(
    on_disk: dict[str, str], stored: dict[str, str], what: str, result: Verification
) -> None:
    """Files added to the run's folder after the run (remediation records, review files and
    sign-offs) against the SHA-256 the warehouse holds for each: added later, so in no
    manifest."""
    for path in sorted(set(stored) | set(on_disk)):
        actual, recorded = on_disk.get(path), stored.get(path)
        if actual is None:
            result.differences.append(
                Difference("missing", path, f"a {what} the warehouse lists is gone")
            )
        elif recorded is None:
            result.differences.append(
                Difference(
                    "extra",
                    path,
                    f"on disk (SHA-256 {_short(actual)}…) but no {what} the warehouse records "
                    "is this file",
                )
            )
        elif actual != recorded:
            result.differences.append(
                Difference(
                    "altered", path, f"SHA-256 is {_short(actual)}…; warehouse {_short(recorded)}…"
                )
            )


def _check_signature(
    con: duckdb.DuckDBPyConnection,
    run_dir: Path,
    run_id: str,
    manifest_sha256: str | None,
    trusted: tuple[PublicKey, str] | None,
    result: Verification,
) -> None:
    """The run's signature against the trusted key, over the manifest as it is on disk."""
    try:
        recorded = con.execute(
            "select signature, public_key_sha256 from run_signatures where run_id = ?", [run_id]
        ).fetchone()
    except duckdb.CatalogException:  # a warehouse from before signing, opened read-only
        recorded = None
    try:
        signed = read_signature(run_dir)
    except ValueError as exc:
        result.differences.append(
            Difference("signature", SIGNATURE_FILE, f"not a readable signature file ({exc})")
        )
        return
    if signed is None and recorded is None:
        return  # not signed: result.signature says so
    problem = None
    if signed is None:
        result.differences.append(
            Difference(
                "missing",
                SIGNATURE_FILE,
                "the warehouse records that the run was signed, but its signature file is gone",
            )
        )
        return
    if recorded is None:
        problem = "on disk, but the warehouse records no signature for this run"
    elif tuple(recorded) != (signed.signature, signed.public_key_sha256):
        problem = "differs from the signature the warehouse recorded with the run"
    elif trusted is None:
        problem = (
            f"the run is signed (public key SHA-256 {signed.public_key_sha256[:16]}…) but no "
            "public key is configured to check it — set [signing] public_key_file or kms_key_id"
        )
    elif manifest_sha256 is not None:
        problem = signature_problem(signed, trusted[0], run_id, manifest_sha256)
    if problem:
        result.differences.append(Difference("signature", SIGNATURE_FILE, problem))
        return
    if trusted is not None and manifest_sha256 is not None:
        result.signed = True
        result.signature = (
            f"signed ({signed.algorithm}, {signed.key_id or 'a key file'}, public key SHA-256 "
            f"{signed.public_key_sha256}) at {signed.signed_at}; the signature checks against "
            f"{trusted[1]}"
        )


def verify_before_resume(
    run_dir: Path,
    run_id: str,
    recorded: Recorded | None,
    *,
    collecting: Collection[str],
    written_before_load: Collection[str],
    listed_by_run_file: Mapping[str, str],
) -> Verification:
    """Before a resume loads anything: every saved file against the account manifests, the run
    manifest (once the run's load began) and the warehouse's record (`recorded`, when the run
    was loaded). The folders of the accounts the resume is `collecting` again hold no evidence
    yet: their files are checked only where a record lists them. A run never loaded records
    its run-level files by name (`written_before_load`: run.json and the like) or in run.json
    (`listed_by_run_file`: the reports a files run could attribute to no account)."""
    result = Verification(run_id=run_id, run_dir=run_dir)
    on_disk = {
        relative: sha256_file(p)
        for p in sorted(run_dir.rglob("*"))
        if p.is_file()
        and not is_partial_write(p)
        and (relative := p.relative_to(run_dir).as_posix()) not in NOT_LISTED
        and not is_remediation_record(relative)  # checked by `keyaudit verify` (verify_run)
        and not is_after_run(relative)
    }
    loaded = recorded is not None or MANIFEST in on_disk
    rules = _Rules(
        run_manifest=loaded,
        warehouse=recorded is not None,
        collecting=frozenset(collecting),
        written_before_load=None if loaded else frozenset(written_before_load),
    )
    _check(result, on_disk, recorded, rules, {RUN_FILE_SOURCE: listed_by_run_file})
    return result


@dataclass(frozen=True)
class _Rules:
    """Which listings must list each file of a run (`required`)."""

    run_manifest: bool = True  # the run manifest, checked against the warehouse's hash of it
    warehouse: bool = True  # the warehouse's evidence rows
    collecting: frozenset[str] = frozenset()  # account folders whose files are not evidence yet
    # A run never loaded: an account's files must be in its account manifest, and a run-level
    # file must have one of these names or be listed by run.json.
    written_before_load: frozenset[str] | None = None

    def required(self, path: str) -> tuple[str, ...]:
        folder, _, name = path.rpartition("/")
        if folder in self.collecting:
            return ()
        needed = (RUN_MANIFEST_SOURCE,) * self.run_manifest + (WAREHOUSE_SOURCE,) * self.warehouse
        if needed or self.written_before_load is None:
            return needed
        if not folder:
            return () if name in self.written_before_load else (RUN_FILE_SOURCE,)
        return () if name == MANIFEST else (f"{folder}/{MANIFEST}",)


def _check(
    result: Verification,
    on_disk: dict[str, str],
    recorded: Recorded | None,
    rules: _Rules,
    more: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Every file on disk against every listing (the manifests, the warehouse's, `more` by
    their source); differences into `result`. `rules` says which must list each file."""
    result.files_checked = len(on_disk)
    manifest = (
        _run_manifest(result.run_dir, on_disk, recorded, result) if rules.run_manifest else {}
    )
    on_disk = {p: d for p, d in on_disk.items() if p != MANIFEST}  # checked against its hash
    stored = dict(recorded.files) if recorded is not None else {}
    manifest.pop(SHA256SUMS, None)  # listed by a manifest rewritten after a report (resume)
    stored.pop(SHA256SUMS, None)
    if not (manifest or stored) and rules.written_before_load is None:
        rules = replace(rules, run_manifest=False, warehouse=False)  # nothing lists anything
    listed: dict[str, dict[str, str]] = {}
    for path, digest in manifest.items():
        listed.setdefault(path, {})[RUN_MANIFEST_SOURCE] = digest
    for path, digest in stored.items():
        listed.setdefault(path, {})[WAREHOUSE_SOURCE] = digest
    for source, listing in (more or {}).items():
        for path, digest in listing.items():
            listed.setdefault(path, {})[source] = digest
    folders = [
        p.split("/")[0]
        for p in on_disk
        if p.count("/") == 1
        and p.endswith("/" + MANIFEST)
        and p.split("/")[0] not in rules.collecting
    ]
    for path, digest in _account_manifests(result.run_dir, folders, result).items():
        listed.setdefault(path, {})[f"{path.split('/')[0]}/{MANIFEST}"] = digest
    _compare(listed, on_disk, rules, result)


def _run_manifest(
    run_dir: Path, on_disk: dict[str, str], recorded: Recorded | None, result: Verification
) -> dict[str, str]:
    """The run manifest's listing, after checking the manifest against the hash the warehouse
    stored with the run (when the run was loaded)."""
    actual = on_disk.get(MANIFEST)
    if actual is None:
        result.differences.append(
            Difference("missing", MANIFEST, "the run manifest is gone; no file can be checked")
        )
        return {}
    if recorded is not None and recorded.manifest_sha256 is None:
        result.differences.append(
            Difference(
                "manifest",
                MANIFEST,
                "the warehouse holds no manifest hash for this run, so the manifest itself "
                "cannot be proven unchanged — reload the run with the audit flow",
            )
        )
    elif recorded is not None and actual != recorded.manifest_sha256:
        result.differences.append(
            Difference(
                "altered",
                MANIFEST,
                f"SHA-256 is {_short(actual)}…, the run record says "
                f"{_short(recorded.manifest_sha256)}… — "
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
    run_dir: Path, folders: Collection[str], result: Verification
) -> dict[str, str]:
    """Hashes the per-account manifests recorded at collection time, by run-relative path."""
    hashes: dict[str, str] = {}
    for path in sorted(f"{folder}/{MANIFEST}" for folder in folders):
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
    rules: _Rules,
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
        needed = rules.required(path)
        if not sources:
            if needed:
                result.differences.append(
                    Difference(
                        "extra", path, f"on disk (SHA-256 {_short(actual)}…) but {_not_in(needed)}"
                    )
                )
            continue
        differ = {s: d for s, d in sources.items() if d != actual}
        if differ:
            said = ", ".join(f"{s} {_short(d)}…" for s, d in differ.items())
            result.differences.append(
                Difference("altered", path, f"SHA-256 is {_short(actual)}…; {said}")
            )
        for source in needed:
            if source not in sources:
                result.differences.append(
                    Difference("unlisted", path, f"on disk but not listed by the {source}")
                )


def _not_in(needed: tuple[str, ...]) -> str:
    if needed == (RUN_MANIFEST_SOURCE, WAREHOUSE_SOURCE):
        return "in neither the run manifest nor the warehouse"
    if needed == (RUN_FILE_SOURCE,):
        return "not a file a run writes before it is loaded, nor listed by its run.json"
    return f"not listed by the {_and(dict.fromkeys(needed, ''))}"


def _and(sources: dict[str, str]) -> str:
    names = list(sources)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
