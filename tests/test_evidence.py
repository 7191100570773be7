"""The evidence store keeps raw responses private and lists them with their hashes."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

from keyaudit.evidence.store import EvidenceStore


def test_manifest_lists_every_file_with_its_sha256_and_size(tmp_path: Path):
    store = EvidenceStore(tmp_path / "evidence", "run-1")
    store.prepare()
    report = b"user,arn\n"
    written = store.write("111122223333", "credential_report.csv", report, "credential_report")
    store.write_json("111122223333", "access_keys.json", [{"AccessKeyId": "AKIA1"}], "access_keys")
    store.write_account_manifest("111122223333", [written])
    digest, files = store.write_run_manifest()

    manifest_bytes = (store.run_dir / "manifest.json").read_bytes()
    assert digest == hashlib.sha256(manifest_bytes).hexdigest()
    listed = {f.path: f for f in files}
    assert set(listed) == {
        "111122223333/credential_report.csv",
        "111122223333/access_keys.json",
        "111122223333/manifest.json",
    }
    on_disk = (store.run_dir / "111122223333" / "credential_report.csv").read_bytes()
    assert (
        listed["111122223333/credential_report.csv"].sha256 == hashlib.sha256(on_disk).hexdigest()
    )
    assert listed["111122223333/credential_report.csv"].bytes == len(report)
    assert listed["111122223333/credential_report.csv"].kind == "credential_report"
    assert json.loads(manifest_bytes)["run_id"] == "run-1"
    assert [f.path for f in store.read_run_manifest()] == [f.path for f in files]


def test_evidence_is_private_to_its_owner(tmp_path: Path):
    store = EvidenceStore(tmp_path / "evidence", "run-1")
    store.prepare()
    store.write("111122223333", "credential_report.csv", b"x", "credential_report")
    file_mode = stat.S_IMODE(
        (store.run_dir / "111122223333" / "credential_report.csv").stat().st_mode
    )
    dir_mode = stat.S_IMODE((store.run_dir / "111122223333").stat().st_mode)
    assert (file_mode, dir_mode) == (0o600, 0o700)


def test_evidence_is_written_verbatim(tmp_path: Path):
    store = EvidenceStore(tmp_path / "evidence", "run-1")
    raw = b"user,arn\r\n\xef\xbb\xbfodd bytes kept\r\n"
    store.write("111122223333", "credential_report.csv", raw, "credential_report")
    assert (store.run_dir / "111122223333" / "credential_report.csv").read_bytes() == raw
    assert not list(store.run_dir.rglob("*.tmp"))
