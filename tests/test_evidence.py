"""The evidence store keeps raw responses private and lists them with their hashes."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from keyaudit.evidence.store import (
    EvidenceStore,
    EvidenceWriteError,
    make_private_dir,
    write_private,
)
from keyaudit.model import KeyauditError


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


# --- folders it did not make, and a full disk ------------------------------------------------------


@pytest.mark.parametrize("mode", [0o1777, 0o755])
def test_an_existing_folder_keeps_its_mode(tmp_path: Path, mode: int):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, mode)  # e.g. /tmp (1777) holding the warehouse
    make_private_dir(shared)
    EvidenceStore(shared, "run-1").prepare()
    assert stat.S_IMODE(shared.stat().st_mode) == mode


def test_folders_it_creates_are_private_parents_included(tmp_path: Path):
    os.chmod(tmp_path, 0o755)
    old_umask = os.umask(0o002)  # a umask that would leave created folders group-writable
    try:
        make_private_dir(tmp_path / "a" / "b" / "c")
    finally:
        os.umask(old_umask)
    for folder in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


def test_a_file_where_a_folder_should_be_is_refused(tmp_path: Path):
    (tmp_path / "taken").write_text("x")
    with pytest.raises(NotADirectoryError):
        make_private_dir(tmp_path / "taken")


def test_a_full_disk_names_the_file_and_leaves_no_tmp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    store = EvidenceStore(tmp_path / "evidence", "run-1")
    store.prepare()
    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, fd: int, mode: str) -> None:
            self.handle = real_fdopen(fd, mode)

        def __enter__(self) -> FullDisk:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def close(self) -> None:
            self.handle.close()

        def write(self, data: bytes) -> int:
            self.handle.write(data[:3])  # half written, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fdopen", FullDisk)
    target = store.run_dir / "111122223333" / "credential_report.csv"
    with pytest.raises(EvidenceWriteError) as raised:
        store.write("111122223333", "credential_report.csv", b"user,arn\n", "credential_report")
    assert str(raised.value) == (
        f"cannot write {target} (No space left on device) — free some space on its disk, "
        "or choose another folder"
    )
    assert isinstance(raised.value, KeyauditError) and raised.value.errno == errno.ENOSPC
    assert list(store.run_dir.rglob("*.tmp")) == [] and not target.exists()


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = tmp_path / "run.json"
    write_private(target, b"old\n")

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(os, "replace", denied)
    with pytest.raises(EvidenceWriteError, match="fix the folder's permissions"):
        write_private(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]
