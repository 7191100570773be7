"""How keyaudit creates files and folders: new, owner-only from the first byte, never through a
link, and moved into place whole.

A run often writes as root into folders that other users can write too. A fixed temporary name
(`findings.csv.tmp`) opened with O_CREAT|O_TRUNC follows a link planted there, so the run would
overwrite, and chmod, any file on the machine. Here every file is created with
O_CREAT|O_EXCL|O_NOFOLLOW under a fresh random name beside its final name, at mode 0600 (never a
chmod of a path afterwards), flushed to disk and renamed over the final name: a rename replaces a
link found there, it never writes through it. A lock file is opened without following a link and
must be a regular file. What other code creates by name (DuckDB's `.wal`) is made owner-only by
`owner_only_umask`, which the CLI and the Prefect flow call where a run starts.
"""

from __future__ import annotations

import errno
import os
import pwd
import secrets
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from keyaudit.model import KeyauditError

FILE_MODE = 0o600
DIR_MODE = 0o700
PRIVATE_UMASK = 0o077  # what keyaudit creates is readable by its owner only
TMP_SUFFIX = ".tmp"  # temporary names end so; listings of a run's files leave them out
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_LOCK = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class UnsafeFileError(KeyauditError, OSError):
    """A path keyaudit would write through is a link or not a regular file; the message says
    which and what to do."""


# What a path is when it is not a regular file, by its type (stat.S_IFMT), in words.
FILE_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class NotRegularFile(KeyauditError, OSError):
    """A file keyaudit reads is a link, pipe, device, socket or folder: `file_type` (stat.S_IFMT)
    says which, `facts` is what was opened (None when it was not)."""

    def __init__(self, path: Path | str, file_type: int, facts: os.stat_result | None = None):
        self.file_type = file_type
        self.kind = FILE_KINDS.get(file_type, "not a file")
        self.facts = facts
        super().__init__(f"{path} is {self.kind}, not a regular file")


class FileTooLarge(KeyauditError, ValueError):
    """A file keyaudit reads is larger than its bound; `facts` is what was opened."""

    def __init__(self, path: Path | str, max_bytes: int, facts: os.stat_result):
        self.max_bytes = max_bytes
        self.facts = facts
        super().__init__(f"{path} is larger than {max_bytes:,} bytes")


def read_regular(path: Path | str, max_bytes: int) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file, and what was opened, read through one descriptor: a path
    that is not a regular file is never opened (lstat first: opening a device can act), a
    symbolic link never followed (O_NOFOLLOW), a FIFO never waited on (O_NONBLOCK), what was
    opened checked again (fstat: not what the path named a moment before), and never more than
    `max_bytes` + 1 bytes read, whatever stat said. NotRegularFile or FileTooLarge (the caller
    words the fix); OSError when it cannot be read."""
    mode = os.lstat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotRegularFile(path, stat.S_IFMT(mode))
    try:
        fd = os.open(path, _READ)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # became a link since the lstat
            raise NotRegularFile(path, stat.S_IFLNK) from None
        raise
    try:
        facts = os.fstat(fd)
        if not stat.S_ISREG(facts.st_mode):
            raise NotRegularFile(path, stat.S_IFMT(facts.st_mode), facts)
        if facts.st_size > max_bytes:
            raise FileTooLarge(path, max_bytes, facts)
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:  # stop one byte past the bound, whatever stat said
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > max_bytes:
        raise FileTooLarge(path, max_bytes, facts)
    return b"".join(chunks), facts


def owner_only_umask() -> int:
    """From now on, every file and folder this process creates is owner-only (umask 077), those
    created by libraries included (DuckDB's `.wal`); returns the umask it replaces."""
    return os.umask(PRIVATE_UMASK)


def create_new(path: Path) -> int:
    """A new file at `path`, open for writing, mode 0600; fails if anything (a link too) is there."""
    return os.open(path, _CREATE, FILE_MODE)


def _create_temporary(path: Path) -> tuple[int, Path]:
    """A new file beside `path` under a name nobody could have guessed and planted."""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}{TMP_SUFFIX}")
        try:
            return create_new(tmp), tmp
        except FileExistsError:
            continue  # 2**64 names: a clash is someone guessing; take another


class AtomicFile:
    """A new owner-only file beside `path` (its `handle`), which `commit` moves over `path`
    (flushed to disk first) and `discard` removes: `path` never holds half of it."""

    def __init__(
        self,
        path: Path,
        *,
        text: bool = False,
        encoding: str | None = None,
        newline: str | None = None,
    ) -> None:
        self.path = Path(path)
        fd, self.tmp = _create_temporary(self.path)
        try:
            self.handle: IO[Any] = (
                os.fdopen(fd, "w", encoding=encoding, newline=newline)
                if text
                else os.fdopen(fd, "wb")
            )
        except BaseException:
            os.close(fd)
            self.tmp.unlink(missing_ok=True)
            raise

    def commit(self) -> None:
        try:
            with self.handle:
                self.handle.flush()
                os.fsync(self.handle.fileno())
            os.replace(self.tmp, self.path)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        self.handle.close()
        self.tmp.unlink(missing_ok=True)


@contextmanager
def atomic_file(
    path: Path, *, text: bool = False, encoding: str | None = None, newline: str | None = None
) -> Iterator[IO[Any]]:
    """An `AtomicFile`'s handle, committed when the block ends without an error and discarded
    when it raises."""
    file = AtomicFile(path, text=text, encoding=encoding, newline=newline)
    try:
        yield file.handle
    except BaseException:
        file.discard()
        raise
    file.commit()


def write_atomic(path: Path, data: bytes) -> None:
    """`data` as the new content of `path`, owner-only, whole or not at all."""
    with atomic_file(path) as handle:
        handle.write(data)


def check_can_create(folder: Path) -> None:
    """Create and remove a file in `folder`, as keyaudit's writers will: raises OSError if it
    cannot (no permission, full disk, read-only file system)."""
    fd, tmp = _create_temporary(Path(folder) / ".keyaudit-write-test")
    os.close(fd)
    tmp.unlink()


def open_lock(path: Path) -> IO[str]:
    """The lock file at `path` (created 0600 if missing) for reading and writing; a link or
    anything but a regular file there is refused, never followed or opened."""
    fix = f"remove it, and check who else can write in {path.parent}"
    try:
        fd = os.open(path, _LOCK, FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFileError(
                f"lock file {path} is a symbolic link; keyaudit never writes through a link — {fix}"
            ) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafeFileError(f"lock file {path} is not a regular file — {fix}")
    return os.fdopen(fd, "r+", encoding="utf-8")


def make_private_dirs(path: Path) -> list[Path]:
    """Create `path` and any missing parents as 0700 and return those created, top first; a
    folder that already exists keeps its mode.

    Only what keyaudit creates is made private: a chmod of an existing folder would turn a
    shared /tmp (1777) or a user's 0755 folder into 0700 for everyone else."""
    path = Path(path)
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if os.path.lexists(folder):
            break
        missing.append(folder)
    created: list[Path] = []
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:
            continue  # made by someone else meanwhile: not ours to change
        created.append(folder)
        owner_only_if_ours(folder, DIR_MODE)
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(path))
    return created


def make_private_dir(path: Path) -> Path:
    """`make_private_dirs`, returning `path`."""
    make_private_dirs(path)
    return Path(path)


def owner_only_if_ours(path: Path, mode: int) -> None:
    """`mode` for a file or folder this process has just made, should the umask have taken an
    owner bit off; through a descriptor of the thing itself, so a link swapped in meanwhile is
    never followed, and only if this user owns it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return  # gone or replaced by a link: not ours any more
    try:
        facts = os.fstat(fd)
        if facts.st_uid == os.geteuid() and stat.S_IMODE(facts.st_mode) != mode:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)


def remove_empty(folders: Iterable[Path]) -> None:
    """Remove the folders given, deepest first, each only if it is (still) an empty folder."""
    for folder in sorted(folders, key=lambda f: len(Path(f).parts), reverse=True):
        try:
            os.rmdir(folder)  # never a link, never a folder with anything in it
        except OSError:
            continue


def others_can_write(folder: Path) -> str | None:
    """Why a user other than this one (or root) could create names in `folder`, or None.

    Whoever can do so can plant a link, or a file, under a name that code writing by path
    (DuckDB's `.wal`) will open."""
    facts = os.stat(folder)
    mode = stat.S_IMODE(facts.st_mode)
    if facts.st_uid not in (os.geteuid(), 0):
        return f"it belongs to another user ({_user(facts.st_uid)})"
    if mode & 0o002:
        return f"every user can write in it (mode {mode:04o})"
    if mode & 0o020:
        return f"its group can write in it (mode {mode:04o})"
    return None


def _user(uid: int) -> str:
    try:
        return f"{pwd.getpwuid(uid).pw_name}, uid {uid}"
    except KeyError:
        return f"uid {uid}"
