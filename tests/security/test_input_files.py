"""A folder handed in by account owners cannot hurt the run: only regular files directly in it are
opened, never more than files.max_file_mb of one, and a reason quotes at most a short escaped
excerpt of a file. A link, pipe, device or subfolder named for an account (`<id>.csv`) keeps that
account in scope, not assessed with the reason, so coverage never claims it; any other one is
listed as ignored, with the reason."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import duckdb
import pytest
from markupsafe import escape
from typer.testing import CliRunner

import keyaudit.sources.files as files_source
from keyaudit.cli import app
from keyaudit.config import ConfigError, load_config
from keyaudit.evidence.store import EvidenceStore
from keyaudit.exits import COVERAGE_BELOW_MINIMUM
from keyaudit.sources.files import FilesSourceError, check_folder, collect_files
from tests.auditor.given import HEADER, A, B, audit_files, ci_deploy, folder_of, report, root
from tests.runs import write_config

SECRET = "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
MB = 1024 * 1024


def _collect(folder: Path, tmp_path: Path, max_bytes: int = 256 * MB):
    store = EvidenceStore(tmp_path / "evidence", "run-1")
    store.prepare()
    return collect_files(folder, store, max_bytes), store


def _listed(found) -> dict[str, tuple[str, str | None]]:
    return {f.name: (f.status, f.reason) for f in found.files}


def _everything_written(store: EvidenceStore) -> bytes:
    return b"".join(p.read_bytes() for p in store.run_dir.rglob("*") if p.is_file())


# --- what is never opened ------------------------------------------------------------------------


LINK = "symbolic link: not followed — copy the file itself into the folder"
FIFO = "a named pipe (FIFO), not a regular file: not opened"


def test_a_link_named_for_an_account_is_not_followed_and_the_account_is_not_assessed(
    tmp_path: Path,
):
    secrets = tmp_path / "credentials"
    secrets.write_text(f"[default]\n{SECRET}\n")
    folder = folder_of(tmp_path, {f"{A}.csv": report(A)})
    (folder / f"{B}.csv").symlink_to(secrets)
    (folder / "passwd.csv").symlink_to("/etc/passwd")
    found, store = _collect(folder, tmp_path)

    refused = f"account {B}: file {B}.csv: {LINK}"
    assert [a.account_id for a in found.accounts] == [A, B]
    assert (found.outcomes[B].status, found.outcomes[B].error) == ("not_assessed", refused)
    assert _listed(found)[f"{B}.csv"] == ("not_assessed", refused)
    assert _listed(found)["passwd.csv"] == ("ignored", f"file passwd.csv ignored: {LINK}")
    written = _everything_written(store)
    assert b"wJalrXUtnFEMI" not in written and b"root:" not in written


def test_a_fifo_named_for_an_account_is_never_opened_and_the_account_is_not_assessed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder = folder_of(tmp_path, {f"{A}.csv": report(A)})
    os.mkfifo(folder / f"{B}.csv")
    os.mkfifo(folder / f"{A}.access_keys.json")
    opened: list[Path] = []
    real_open = os.open

    def watched(path, flags, *args):  # opening a FIFO to read waits for a writer: never do it
        opened.append(Path(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", watched)
    found, _ = _collect(folder, tmp_path)

    assert not {folder / f"{B}.csv", folder / f"{A}.access_keys.json"} & set(opened)
    assert (found.outcomes[B].status, found.outcomes[B].error) == (
        "not_assessed",
        f"account {B}: file {B}.csv: {FIFO} — put a regular file named {B}.csv in its place",
    )
    keys_refused = (
        f"file {A}.access_keys.json: {FIFO} — put a regular file named {A}.access_keys.json in "
        "its place"
    )
    assert (found.outcomes[A].status, found.outcomes[A].error) == (
        "partial",
        f"account {A}: {keys_refused}; findings use the credential report only",
    )
    assert _listed(found)[f"{A}.access_keys.json"] == ("not_used", keys_refused)


def test_link_to_dev_zero_is_never_read(tmp_path: Path):
    folder = folder_of(tmp_path, {f"{A}.csv": report(A)})
    (folder / "zero.csv").symlink_to("/dev/zero")
    found, _ = _collect(folder, tmp_path)
    assert _listed(found)["zero.csv"][0] == "ignored"


def test_a_subfolder_named_like_a_report_leaves_its_account_not_assessed(tmp_path: Path):
    folder = folder_of(tmp_path, {f"{A}.csv": report(A)})
    (folder / f"{B}.csv").mkdir()
    found, _ = _collect(folder, tmp_path)
    refused = (
        f"account {B}: folder {B}.csv: reports are read from the folder itself, not subfolders "
        f"— put a regular file named {B}.csv in its place"
    )
    assert (found.outcomes[B].status, found.outcomes[B].error) == ("not_assessed", refused)
    assert _listed(found)[f"{B}.csv"] == ("not_assessed", refused)


def test_entries_are_checked_again_after_opening(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An entry swapped between the look (lstat) and the open is caught on the descriptor."""
    folder = folder_of(tmp_path, {f"{A}.csv": report(A)})
    (folder / f"{B}.csv").symlink_to(tmp_path / "elsewhere.csv")
    (tmp_path / "elsewhere.csv").write_text(report(B))
    os.mkfifo(folder / "pipe.csv")
    monkeypatch.setattr(files_source, "_why_not_read", lambda path: None)  # the lstat "said" file
    found, _ = _collect(folder, tmp_path)

    assert found.outcomes[B].status == "not_assessed"
    assert found.outcomes[B].error == (
        f"account {B}: file {B}.csv: symbolic link: not followed — copy the file itself into the folder"
    )
    assert _listed(found)["pipe.csv"] == (
        "unattributed",
        "file pipe.csv: a named pipe (FIFO), not a regular file: not opened. No account id in the "
        "file name or its ARNs — name the file <12-digit account id>.csv",
    )


def test_a_device_is_refused_after_opening(tmp_path: Path):
    content, _, reason = files_source._read_regular(Path("/dev/zero"), 1 * MB)
    assert content is None
    assert reason == "file zero: a device, not a regular file: not opened"


def test_a_folder_of_only_links_is_refused_in_one_line(tmp_path: Path):
    (tmp_path / "real.csv").write_text(report(A))
    folder = folder_of(tmp_path, {})
    (folder / f"{A}.csv").symlink_to(tmp_path / "real.csv")
    with pytest.raises(FilesSourceError) as raised:
        check_folder(folder)
    assert str(raised.value) == (
        f"credential report folder {folder} holds no credential report (*.csv) ({A}.csv not "
        "regular files: not opened) — put one <12-digit account id>.csv per account in it"
    )


# --- how much is read ------------------------------------------------------------------------------


def test_a_file_above_the_size_cap_is_refused_unread(tmp_path: Path):
    big = report(A).encode() + b"x" * MB
    folder = folder_of(tmp_path, {f"{A}.csv": big, f"{B}.csv": report(B), "big.txt": big})
    found, store = _collect(folder, tmp_path, max_bytes=1 * MB)

    too_big = (
        "is larger than files.max_file_mb = 1 MB: not read — check that it is a credential "
        "report, or raise files.max_file_mb in keyaudit.toml"
    )
    assert found.outcomes[A].status == "not_assessed"
    assert found.outcomes[A].error == f"account {A}: file {A}.csv {too_big}"
    assert found.outcomes[B].status == "assessed"
    assert _listed(found)["big.txt"][1].endswith(f"(file big.txt {too_big})")
    assert not (store.run_dir / A / "credential_report.csv").exists()


def test_a_lying_size_reads_no_more_than_the_cap_plus_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "grows.csv"
    path.write_bytes(b"y" * 5000)
    real_fstat, real_read = os.fstat, os.read
    read: list[int] = []

    def small_fstat(fd: int) -> os.stat_result:
        facts = list(real_fstat(fd))
        facts[stat.ST_SIZE] = 0  # like /proc files or a file still growing
        return os.stat_result(facts)

    def counting_read(fd: int, n: int) -> bytes:
        chunk = real_read(fd, n)
        read.append(len(chunk))
        return chunk

    monkeypatch.setattr(os, "fstat", small_fstat)
    monkeypatch.setattr(os, "read", counting_read)
    content, _, reason = files_source._read_regular(path, 100)
    assert content is None and reason is not None and "larger than" in reason
    assert sum(read) == 101


def test_max_file_mb_is_configurable_and_validated(tmp_path: Path):
    config = tmp_path / "keyaudit.toml"
    config.write_text("[files]\nmax_file_mb = 64\n")
    assert load_config(config, environ={}).files.max_file_bytes == 64 * MB
    assert load_config(environ={}).files.max_file_mb == 256
    config.write_text("[files]\nmax_file_mb = 0\n")
    with pytest.raises(ConfigError, match=r"files.max_file_mb = 0 is invalid"):
        load_config(config, environ={})


# --- what a reason may quote -----------------------------------------------------------------------


def test_a_reason_quotes_at_most_a_short_escaped_excerpt_of_a_file(tmp_path: Path):
    folder = folder_of(tmp_path, {f"{A}.csv": f"{SECRET}\n", f"{B}.csv": report(B)})
    found, _ = _collect(folder, tmp_path)
    error = found.outcomes[A].error
    assert error is not None
    assert f"(found {SECRET[:40]!r}…)" in error
    assert SECRET not in error and "EXAMPLEKEY" not in error


def test_a_long_cell_is_quoted_short(tmp_path: Path):
    long_user = "u" * 30 + SECRET
    row = ci_deploy(A).replace("2025-06-01T14:22:05+00:00,false", f"{long_user},false", 1)
    folder = folder_of(tmp_path, {f"{A}.csv": "\n".join([HEADER, root(A), row]) + "\n"})
    found, _ = _collect(folder, tmp_path)
    error = found.outcomes[A].error
    assert error is not None and "EXAMPLEKEY" not in error
    assert f"{long_user[:40]!r}…" in error


def test_a_long_value_in_a_keys_file_is_quoted_short(tmp_path: Path):
    keys = [{"UserName": "ci", "AccessKeyId": SECRET, "Status": "Active"}]
    folder = folder_of(tmp_path, {f"{A}.csv": report(A), f"{A}.access_keys.json": json.dumps(keys)})
    found, _ = _collect(folder, tmp_path)
    assert found.outcomes[A].status == "partial"
    assert "EXAMPLEKEY" not in (found.outcomes[A].error or "")
    assert f"{SECRET[:40]!r}…" in (found.outcomes[A].error or "")


def test_a_file_name_with_a_newline_cannot_forge_a_line(tmp_path: Path):
    folder = folder_of(tmp_path, {f"{A}.csv": report(A), "x\nkeyaudit: all clear.txt": "hi"})
    found, _ = _collect(folder, tmp_path)
    [ignored] = [f for f in found.files if f.status == "ignored"]
    assert ignored.reason is not None and "\n" not in ignored.reason
    assert ignored.reason.startswith("file 'x\\nkeyaudit: all clear.txt' ignored")


# --- a folder from which no account can be read ----------------------------------------------------


def test_a_folder_of_only_unattributable_reports_is_refused_in_one_line(tmp_path: Path):
    folder = folder_of(tmp_path, {"march.csv": "user,arn\n"})
    with pytest.raises(FilesSourceError) as raised:
        check_folder(folder)
    assert str(raised.value) == (
        f"credential report folder {folder}: no account can be read from any report in it "
        "(march.csv: no account id in the file name or its ARNs) — name the file "
        "<12-digit account id>.csv"
    )


def test_unattributable_after_reading_is_refused_before_any_evidence(tmp_path: Path):
    """Two accounts' ARNs in a broken file pass the first look; reading refuses the folder."""
    mixed = "\n".join([HEADER, root(A), ci_deploy(B)[:80]])
    folder = folder_of(tmp_path, {"mixed.csv": mixed})
    store = EvidenceStore(tmp_path / "evidence", "run-1")
    store.prepare()
    with pytest.raises(FilesSourceError, match=r"no account can be read from any report in it"):
        collect_files(folder, store)
    assert list(store.run_dir.iterdir()) == []


def test_run_on_an_unattributable_folder_exits_2_with_one_line(tmp_path: Path):
    folder = folder_of(tmp_path, {"march.csv": "user,arn\n"})
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--source",
            "files",
            "--files",
            str(folder),
            "--db",
            str(tmp_path / "w.duckdb"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        f"keyaudit: error: credential report folder {folder}: no account can be read from any "
        "report in it (march.csv: no account id in the file name or its ARNs) — name the file "
        "<12-digit account id>.csv"
    ]
    assert not (tmp_path / "w.duckdb").exists() and not (tmp_path / "out").exists()


def test_an_unattributable_file_beside_a_good_one_is_noted_and_the_run_loads(tmp_path: Path):
    folder = folder_of(tmp_path, {f"{A}.csv": report(A), "march.csv": "user,arn\n"})
    run = audit_files(folder, tmp_path)
    assert run.account(A) == ("assessed", None)
    assert len(run.notes("unattributed_file")) == 1


# --- an account's report refused, through `keyaudit run` ------------------------------------------


@pytest.mark.slow  # a whole run again: make test-slow
def test_a_run_where_reports_are_refused_keeps_their_accounts_and_is_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Each kind of `<id>.csv` keyaudit will not read (a link to a report outside the folder or
    inside it, a FIFO, a folder, a file no one may read) leaves its account in scope and not
    assessed with the reason: coverage is 1 of 6, not 100 %, and the run exits 3."""
    linked_out, linked_in, fifo, subfolder, unreadable = (
        "444455556666",
        "777788889999",
        "123412341234",
        "567856785678",
        "999900001111",
    )
    folder = folder_of(tmp_path, {f"{A}.csv": report(A), f"{linked_in}.txt": report(linked_in)})
    (tmp_path / "outside.csv").write_text(report(linked_out))
    (folder / f"{linked_out}.csv").symlink_to(tmp_path / "outside.csv")
    (folder / f"{linked_in}.csv").symlink_to(f"{linked_in}.txt")
    os.mkfifo(folder / f"{fifo}.csv")
    (folder / f"{subfolder}.csv").mkdir()
    (folder / f"{unreadable}.csv").write_text(report(unreadable))
    (folder / f"{unreadable}.csv").chmod(0)
    real_open = os.open

    def as_chmod_000_for_root_too(path, flags, *args):  # tests may run as root (CI does)
        if Path(path) == folder / f"{unreadable}.csv":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", as_chmod_000_for_root_too)
    config = write_config(tmp_path / "keyaudit.toml", data_dir=tmp_path)
    run = ["run", "--config", str(config), "--source", "files", "--files", str(folder)]
    result = CliRunner().invoke(
        app, [*run, "--out", str(tmp_path / "out"), "--as-of", "2026-12-01T06:00:00Z"]
    )

    assert result.exit_code == COVERAGE_BELOW_MINIMUM, result.output
    assert "coverage 16.7% (1 of 6 accounts in scope assessed)" in result.stderr
    fix = "— put a regular file named {}.csv in its place"
    why = {
        linked_out: f"file {linked_out}.csv: {LINK}",
        linked_in: f"file {linked_in}.csv: {LINK}",
        fifo: f"file {fifo}.csv: {FIFO} {fix.format(fifo)}",
        subfolder: f"folder {subfolder}.csv: reports are read from the folder itself, not "
        f"subfolders {fix.format(subfolder)}",
        unreadable: f"file {unreadable}.csv cannot be read (Permission denied) — fix its "
        "permissions",
    }
    con = duckdb.connect(str(tmp_path / "keyaudit.duckdb"), read_only=True)
    try:
        assert con.execute(
            "select accounts_in_scope, accounts_assessed, accounts_not_assessed from runs"
        ).fetchall() == [(6, 1, 5)]
        assert dict(
            con.execute(
                "select account_id, error from accounts where status = 'not_assessed'"
            ).fetchall()
        ) == {account: f"account {account}: {reason}" for account, reason in why.items()}
        assert con.execute(
            "select count(*) from findings where rule_id = 'ACCOUNT_NOT_ASSESSED'"
        ).fetchone() == (5,)
    finally:
        con.close()
    html = (tmp_path / "out" / "report.html").read_text()
    assert "INCOMPLETE" in html
    for account, reason in why.items():
        assert str(escape(f"account {account}: {reason}")) in html
    evidence = [p.read_bytes() for p in (tmp_path / "evidence").rglob("*") if p.is_file()]
    assert not any(report(linked_out).encode() in content for content in evidence)
