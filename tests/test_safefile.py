"""keyaudit.safefile: files are made new under unguessable names, owner-only from their first
byte, never written through a link, and moved into place whole; a lock at a link is refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from keyaudit.safefile import (
    UnsafeFileError,
    atomic_file,
    check_can_create,
    make_private_dirs,
    open_lock,
    others_can_write,
    owner_only_umask,
    remove_empty,
    write_atomic,
)

PRECIOUS = b"root:x:0:0:root:/root:/bin/bash\n"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file somebody would like keyaudit to overwrite: world-readable, outside the folder."""
    path = tmp_path / "victim"
    path.write_bytes(PRECIOUS)
    os.chmod(path, 0o644)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    return path


def untouched(victim: Path) -> bool:
    facts = victim.stat()
    return victim.read_bytes() == PRECIOUS and stat.S_IMODE(facts.st_mode) == 0o644


def test_a_file_is_written_whole_owner_only_and_leaves_nothing_else(folder: Path):
    old = os.umask(0o022)
    try:
        write_atomic(folder / "findings.csv", b"a,b\n")
    finally:
        os.umask(old)
    assert (folder / "findings.csv").read_bytes() == b"a,b\n"
    assert stat.S_IMODE((folder / "findings.csv").stat().st_mode) == 0o600
    assert [p.name for p in folder.iterdir()] == ["findings.csv"]


def test_a_link_at_the_old_fixed_temporary_name_is_never_followed(folder: Path, victim: Path):
    (folder / "findings.csv.tmp").symlink_to(victim)
    write_atomic(folder / "findings.csv", b"ours\n")
    assert untouched(victim)
    assert (folder / "findings.csv").read_bytes() == b"ours\n"


def test_a_link_at_the_final_name_is_replaced_never_written_through(folder: Path, victim: Path):
    (folder / "report.html").symlink_to(victim)
    write_atomic(folder / "report.html", b"<html>\n")
    assert untouched(victim)
    final = folder / "report.html"
    assert not final.is_symlink() and final.read_bytes() == b"<html>\n"
    assert stat.S_IMODE(final.stat().st_mode) == 0o600


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(folder: Path):
    write_atomic(folder / "findings.json", b"old\n")
    with pytest.raises(RuntimeError), atomic_file(folder / "findings.json", text=True) as handle:
        handle.write("half")
        raise RuntimeError("the disk went away")
    assert (folder / "findings.json").read_bytes() == b"old\n"
    assert [p.name for p in folder.iterdir()] == ["findings.json"]


def test_the_write_probe_never_follows_a_link_at_its_old_name(folder: Path, victim: Path):
    (folder / ".keyaudit-write-test").symlink_to(victim)
    check_can_create(folder)
    assert untouched(victim)
    assert {p.name for p in folder.iterdir()} == {".keyaudit-write-test"}


def test_a_lock_at_a_link_is_refused_in_one_line_and_its_target_untouched(
    folder: Path, victim: Path
):
    lock = folder / ".keyaudit.duckdb.run-lock"
    lock.symlink_to(victim)
    with pytest.raises(UnsafeFileError) as refused:
        open_lock(lock)
    assert str(refused.value) == (
        f"lock file {lock} is a symbolic link; keyaudit never writes through a link — remove it, "
        f"and check who else can write in {folder}"
    )
    assert untouched(victim)


def test_a_lock_that_is_not_a_regular_file_is_refused(folder: Path):
    lock = folder / ".run-1.lock"
    os.mkfifo(lock)
    with pytest.raises(UnsafeFileError, match=r"is not a regular file — remove it"):
        open_lock(lock)


def test_a_new_lock_is_owner_only(folder: Path):
    with open_lock(folder / ".run-1.lock"):
        pass
    assert stat.S_IMODE((folder / ".run-1.lock").stat().st_mode) == 0o600


def test_folders_made_are_named_and_removed_again_only_while_empty(tmp_path: Path):
    created = make_private_dirs(tmp_path / "a" / "b" / "c")
    assert created == [tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"]
    (tmp_path / "a" / "kept.txt").write_text("x")
    remove_empty(created)
    assert not (tmp_path / "a" / "b").exists()
    assert (tmp_path / "a" / "kept.txt").exists()
    assert make_private_dirs(tmp_path) == []


def test_owner_only_umask_makes_what_libraries_create_owner_only(tmp_path: Path):
    old = os.umask(0o022)
    try:
        assert owner_only_umask() == 0o022
        (tmp_path / "by-a-library").write_text("x")  # as DuckDB creates its .wal: by name
        os.mkdir(tmp_path / "folder")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "by-a-library").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "folder").stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("mode", "why"),
    [
        (0o700, None),
        (0o755, None),
        (0o775, "its group can write in it (mode 0775)"),
        (0o1777, "every user can write in it (mode 1777)"),
    ],
)
def test_a_folder_others_can_write_in_is_named_with_why(folder: Path, mode: int, why: str | None):
    os.chmod(folder, mode)
    assert others_can_write(folder) == why


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_of_another_user_is_named_with_its_owner(folder: Path):
    os.chown(folder, 65534, 65534)
    assert others_can_write(folder) in (
        "it belongs to another user (nobody, uid 65534)",
        "it belongs to another user (uid 65534)",
    )
