"""Audit from a folder of credential reports: the files become the same evidence layout an API
run writes, so loading, rules, reports and exports do not care where the data came from.

One report per account: `<12-digit id>.csv`, or any `*.csv` whose ARNs name one account. It is
copied byte for byte to `<run>/<account>/credential_report.csv` with a collection.json saying
whether the account is assessed and, if not, why. An optional `<id>.access_keys.json` beside it
adds key ids and last use. A wrong file makes its account "not assessed" with the reason; a file
that names no account is kept as `unattributed-<name>` evidence and recorded as a run note.
Every entry of the folder is listed in run.json (`files`), with its hash; nothing is skipped
silently.

The folder is input from someone else: only regular files directly in it are opened (never a
symbolic link, a pipe, a device or a subfolder), each is checked again after opening (no swap
between look and open), and no more than `files.max_file_mb` is read from one file. An entry
named for an account (`<id>.csv`, `<id>.access_keys.json`) that is refused keeps its account in
scope, not assessed (or partial, for a keys file) with the reason, so coverage never counts an
account whose report was not read; any other entry not opened is listed as ignored. A reason
quotes at most a short escaped excerpt of a file (keyaudit.textsafe).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keyaudit.evidence.store import EvidenceFile, EvidenceStore
from keyaudit.model import (
    ACCOUNT_ID_PATTERN,
    ROOT_USER,
    Account,
    AccountOutcome,
    Discovery,
    KeyauditError,
)
from keyaudit.safefile import FileTooLarge, NotRegularFile, read_regular
from keyaudit.sources.access_keys_file import AccessKeysFileError, read_access_keys
from keyaudit.sources.credential_report import CredentialReportError, parse_credential_report
from keyaudit.textsafe import few, shown_name

log = logging.getLogger("keyaudit.files")

SCOPE = "files"
_REPORT_NAME = re.compile(rf"({ACCOUNT_ID_PATTERN})\.csv", re.IGNORECASE)
_KEYS_NAME = re.compile(rf"({ACCOUNT_ID_PATTERN})\.access_keys\.json", re.IGNORECASE)
_ANY_ARN_ACCOUNT = re.compile(rf"arn:aws[a-z-]*:iam::({ACCOUNT_ID_PATTERN}):".encode())
_NAME_IT = "name the file <12-digit account id>.csv"
DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # files.max_file_mb's default
_NOT_REGULAR = {  # what lstat says an entry is → why it is not opened
    stat.S_IFLNK: "symbolic link: not followed — copy the file itself into the folder",
    stat.S_IFDIR: "reports are read from the folder itself, not subfolders",
    stat.S_IFIFO: "a named pipe (FIFO), not a regular file: not opened",
    stat.S_IFCHR: "a device, not a regular file: not opened",
    stat.S_IFBLK: "a device, not a regular file: not opened",
    stat.S_IFSOCK: "a socket, not a regular file: not opened",
}


class FilesSourceError(KeyauditError, ValueError):
    """The folder itself cannot be audited (missing, unreadable, no report in it)."""


@dataclass
class InputFile:
    """One entry of the folder and what became of it; listed in run.json and `input_files`."""

    name: str
    kind: str  # credential_report | access_keys | ignored
    status: str  # assessed | partial | not_assessed | unattributed | used | not_used | ignored
    sha256: str | None = None
    bytes: int | None = None
    modified_at: str | None = None
    account_id: str | None = None
    account_from: str | None = None  # file name | arns
    evidence_path: str | None = None
    reason: str | None = None


@dataclass
class _Report:
    """A credential report file once read: its bytes, the account it names, and any problem."""

    entry: InputFile
    content: bytes | None
    users: int = 0
    problem: str | None = None


@dataclass
class FilesCollection:
    """What reading the folder produced: accounts in scope, the file listing, run-level notes."""

    folder: Path
    accounts: list[Account] = field(default_factory=list)
    outcomes: dict[str, AccountOutcome] = field(default_factory=dict)
    files: list[InputFile] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)

    def discovery(self) -> Discovery:
        return Discovery(
            scope=SCOPE, caller_account_id="", caller_arn="", in_scope=list(self.accounts)
        )

    def run_meta(self) -> dict[str, Any]:
        """Keys run.json gets on top of the usual ones: no caller or organization, the files."""
        reports = sum(f.kind == "credential_report" for f in self.files)
        return {
            "scope": SCOPE,
            "scope_note": f"{reports} credential report file(s) read from {self.folder}",
            "files_dir": str(self.folder),
            "files": [asdict(f) for f in self.files],
            # the folder, for the report's provenance (the warehouse keeps run notes, not paths)
            "notes": [
                {"account_id": None, "kind": "input_folder", "message": str(self.folder)},
                *self.notes,
            ],
            "caller_arn": None,
            "caller_account_id": None,
            "organization_id": None,
            "management_account_id": None,
        }


def check_folder(folder: Path | str | None, max_bytes: int = DEFAULT_MAX_BYTES) -> Path:
    """Refuse, in one line, a folder that cannot give an audit: before anything is written."""
    if folder is None or str(folder) == "":
        raise FilesSourceError(
            "source files needs the folder of credential reports — give it with --files DIR"
        )
    folder = Path(folder)
    where = f"credential report folder {folder}"
    if not folder.exists():
        raise FilesSourceError(
            f"{where} does not exist — give the folder holding the reports (<account id>.csv)"
        )
    if not folder.is_dir():
        raise FilesSourceError(f"{where} is not a folder — give the folder holding the reports")
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise FilesSourceError(
            f"{where} cannot be read ({exc.strerror}) — fix its permissions"
        ) from None
    csvs = [p for p in entries if p.name.lower().endswith(".csv")]
    reports = [p for p in csvs if _why_not_read(p) is None]
    if not reports:
        skipped = f" ({_names(csvs)} not regular files: not opened)" if csvs else ""
        raise FilesSourceError(
            f"{where} holds no credential report (*.csv){skipped} — put one "
            "<12-digit account id>.csv per account in it"
        )
    if not _may_name_an_account(entries, reports, max_bytes):
        raise _no_account(where, reports)
    return folder.resolve()


def _names(paths: list[Path], most: int = 3) -> str:
    return few(paths, most, lambda p: shown_name(p.name))


def _no_account(where: str, reports: list[Path]) -> FilesSourceError:
    return FilesSourceError(
        f"{where}: no account can be read from any report in it ({_names(reports)}: no account "
        f"id in the file name or its ARNs) — {_NAME_IT}"
    )


def _may_name_an_account(entries: list[Path], reports: list[Path], max_bytes: int) -> bool:
    """Cheap first look: a file named by account id, or a report with an IAM ARN in it."""
    named = [p for p in entries if _REPORT_NAME.fullmatch(p.name) or _KEYS_NAME.fullmatch(p.name)]
    if any(_why_not_read(p) is None for p in named):
        return True
    for path in reports:
        content, _, _ = _read_regular(path, max_bytes)
        if content is not None and _ANY_ARN_ACCOUNT.search(content):
            return True
    return False


def collect_files(
    folder: Path | str | None, store: EvidenceStore, max_bytes: int = DEFAULT_MAX_BYTES
) -> FilesCollection:
    """Read every entry of the folder into the evidence store and say what each became."""
    folder = check_folder(folder, max_bytes)
    found = FilesCollection(folder=folder)
    reports: list[_Report] = []
    key_files: dict[str, InputFile] = {}
    key_bytes: dict[str, bytes] = {}
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        why_not = _why_not_read(path)
        if why_not is None and path.name.lower().endswith(".csv"):
            reports.append(_read_report(path, max_bytes))
        elif why_not is not None and (named := _REPORT_NAME.fullmatch(path.name)):
            reports.append(_refused_report(path, why_not, named.group(1)))
        elif match := _KEYS_NAME.fullmatch(path.name):
            if why_not is None:
                entry, content = _read_plain(path, "access_keys", max_bytes)
            else:  # the account's keys file, refused unopened: the account is partial
                entry, content = _refused_entry(path, why_not, "access_keys"), None
            entry.account_id, entry.account_from = match.group(1), "file name"
            key_files[match.group(1)] = entry
            if content is not None:
                key_bytes[match.group(1)] = content
            found.files.append(entry)
        else:
            found.files.append(_ignored(path, why_not, found.notes, max_bytes))
    by_account: dict[str, list[_Report]] = {}
    for report in reports:
        if report.entry.account_id is not None:
            by_account.setdefault(report.entry.account_id, []).append(report)
    if not by_account and not key_files:  # nothing to audit: say so before writing evidence
        raise _no_account(
            f"credential report folder {folder}", [folder / r.entry.name for r in reports]
        )
    for report in reports:
        found.files.append(report.entry)
        if report.entry.account_id is None:
            _keep_unattributed(report, store, found.notes)
    for account_id in sorted(set(by_account) | set(key_files)):
        outcome = _collect_account(
            account_id,
            by_account.get(account_id, []),
            key_files.get(account_id),
            key_bytes.get(account_id),
            store,
        )
        found.accounts.append(Account(account_id=account_id))
        found.outcomes[account_id] = outcome
        log.info(
            "read %s: %s%s",
            account_id,
            outcome.status,
            f" — {outcome.error}"
            if outcome.error
            else f" ({outcome.users} users, {outcome.access_keys} keys)",
        )
    for note in found.notes:
        log.info("%s", note["message"])
    found.files.sort(key=lambda f: f.name)
    return found


def _refused_entry(path: Path, why_not: str, kind: str) -> InputFile:
    """An entry named for an account but not opened (a link, a pipe, a device, a folder): its
    account stays in scope, and the reason says what to put there instead."""
    reason = f"{_what(why_not)} {shown_name(path.name)}: {why_not}"
    if " — " not in why_not:
        reason += f" — put a regular file named {shown_name(path.name)} in its place"
    return InputFile(name=path.name, kind=kind, status="not_used", reason=reason)


def _refused_report(path: Path, why_not: str, account_id: str) -> _Report:
    entry = _refused_entry(path, why_not, "credential_report")
    entry.account_id, entry.account_from = account_id, "file name"
    return _Report(entry=entry, content=None, problem=entry.reason)


def _what(why_not: str) -> str:
    return "folder" if why_not == _NOT_REGULAR[stat.S_IFDIR] else "file"


def _why_not_read(path: Path) -> str | None:
    """None for a regular file; else why the entry is not opened (lstat: links not followed)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError as exc:
        return f"cannot be examined ({exc.strerror})"
    if stat.S_ISREG(mode):
        return None
    return _NOT_REGULAR.get(stat.S_IFMT(mode), "not a regular file: not opened")


def _read_regular(
    path: Path, max_bytes: int
) -> tuple[bytes | None, os.stat_result | None, str | None]:
    """The bytes of a regular file (keyaudit.safefile.read_regular: never through a symbolic
    link, never blocking on a pipe, never more than `max_bytes`) and what was opened; else why
    not, in words."""
    name = shown_name(path.name)
    try:
        content, facts = read_regular(path, max_bytes)
    except NotRegularFile as exc:
        why = _NOT_REGULAR.get(exc.file_type, "not a regular file: not opened")
        return None, exc.facts, f"file {name}: {why}"
    except FileTooLarge as exc:
        return None, exc.facts, _too_big(name, max_bytes)
    except OSError as exc:
        return None, None, f"file {name} cannot be read ({exc.strerror}) — fix its permissions"
    return content, facts, None


def _too_big(name: str, max_bytes: int) -> str:
    mb = max_bytes // (1024 * 1024)
    return (
        f"file {name} is larger than files.max_file_mb = {mb} MB: not read — check that it is "
        "a credential report, or raise files.max_file_mb in keyaudit.toml"
    )


def _file_facts(facts: os.stat_result, content: bytes) -> dict[str, Any]:
    modified = datetime.fromtimestamp(facts.st_mtime, UTC)
    return {
        "sha256": hashlib.sha256(content).hexdigest(),
        "bytes": len(content),
        "modified_at": modified.isoformat(timespec="seconds"),
    }


def _read_plain(path: Path, kind: str, max_bytes: int) -> tuple[InputFile, bytes | None]:
    entry = InputFile(name=path.name, kind=kind, status="not_used")
    content, facts, problem = _read_regular(path, max_bytes)
    if content is None or facts is None:
        entry.reason = problem
        return entry, None
    for key, value in _file_facts(facts, content).items():
        setattr(entry, key, value)
    return entry, content


def _read_report(path: Path, max_bytes: int) -> _Report:
    """Parse the report and decide which account it belongs to (file name first, else ARNs)."""
    entry, content = _read_plain(path, "credential_report", max_bytes)
    report = _Report(entry=entry, content=content, problem=entry.reason)
    name = shown_name(path.name)
    named = _REPORT_NAME.fullmatch(path.name)
    name_id = named.group(1) if named else None
    arn_id = None
    if content is not None:
        try:
            parsed = parse_credential_report(content, source=f"file {name}")
        except CredentialReportError as exc:
            report.problem = str(exc)
            ids = {m.decode() for m in _ANY_ARN_ACCOUNT.findall(content)}
            arn_id = ids.pop() if len(ids) == 1 else None
        else:
            arn_id = parsed.account_id
            report.users = int((parsed.rows["user"] != ROOT_USER).sum())
            if parsed.rows.empty:
                report.problem = (
                    f"file {name}: a header but no rows (a real report always has the "
                    f"{ROOT_USER} row) — the file looks truncated; fetch the report again"
                )
    if name_id and arn_id and name_id != arn_id:
        report.problem = (
            f"file {name}: the file name says account {name_id} but its ARNs name account "
            f"{arn_id} — check that this is {name_id}'s report, then rename or replace the file"
        )
    entry.account_id = name_id or arn_id
    entry.account_from = "file name" if name_id else ("arns" if arn_id else None)
    return report


def _ignored(
    path: Path, why_not: str | None, notes: list[dict[str, Any]], max_bytes: int
) -> InputFile:
    name = shown_name(path.name)
    if why_not is not None:  # a link, a folder, a pipe, a device: listed, never opened
        reason = f"{_what(why_not)} {name} ignored: {why_not}"
        entry = InputFile(name=path.name, kind="ignored", status="ignored", reason=reason)
    else:
        entry, _ = _read_plain(path, "ignored", max_bytes)
        entry.status = "ignored"
        entry.reason = (
            f"file {name} ignored: neither a credential report (*.csv) nor "
            "<12-digit account id>.access_keys.json"
            + (f" ({entry.reason})" if entry.reason else "")
        )
    notes.append({"account_id": None, "kind": "ignored_file", "message": entry.reason})
    return entry


def _keep_unattributed(report: _Report, store: EvidenceStore, notes: list[dict[str, Any]]) -> None:
    """A report no account can be read from: kept as evidence at run level and noted."""
    entry = report.entry
    entry.status = "unattributed"
    if report.problem:
        entry.reason = f"{report.problem}. No account id in the file name or its ARNs — {_NAME_IT}"
    else:
        entry.reason = f"file {shown_name(entry.name)}: no account id in the file name or its ARNs — {_NAME_IT}"
    if report.content is not None:
        written = store.write(None, f"unattributed-{entry.name}", report.content, "unattributed")
        entry.evidence_path = written.path
    notes.append({"account_id": None, "kind": "unattributed_file", "message": entry.reason})


def _collect_account(
    account_id: str,
    reports: list[_Report],
    keys_entry: InputFile | None,
    keys_content: bytes | None,
    store: EvidenceStore,
) -> AccountOutcome:
    """Write one account's evidence (report, keys, collection.json, manifest) and its status."""
    outcome = AccountOutcome(account_id=account_id, status="not_assessed")
    files: list[EvidenceFile] = []
    if len(reports) > 1:
        names = few(reports, show=lambda r: shown_name(r.entry.name))
        outcome.error = (
            f"account {account_id}: {len(reports)} credential reports given ({names}) — "
            "keep one file per account"
        )
        for n, report in enumerate(reports, start=1):
            _store_report(report, store, files, f"duplicate-{n}.csv")
            _settle(report.entry, "not_assessed", outcome.error)
    elif reports:
        report = reports[0]
        _store_report(report, store, files, "credential_report.csv")
        if report.problem:
            outcome.error = f"account {account_id}: {report.problem}"
        else:
            outcome.status, outcome.users = "assessed", report.users
        _settle(report.entry, outcome.status, outcome.error)
    else:
        outcome.error = (
            f"account {account_id}: {shown_name(keys_entry.name) if keys_entry else 'a keys file'} has no "
            f"credential report beside it — add the account's report ({account_id}.csv)"
        )
    if keys_entry is not None:
        _use_keys(outcome, keys_entry, keys_content, store, files)
    files.append(
        store.write_json(account_id, "collection.json", outcome.to_dict(), "collection_outcome")
    )
    store.write_account_manifest(account_id, files)
    outcome.evidence_dir = str(store.account_dir(account_id))
    return outcome


def _store_report(
    report: _Report, store: EvidenceStore, files: list[EvidenceFile], name: str
) -> None:
    if report.content is None:
        return
    account_id = report.entry.account_id
    written = store.write(account_id, name, report.content, "credential_report")
    report.entry.evidence_path = written.path
    files.append(written)


def _settle(entry: InputFile, status: str, reason: str | None) -> None:
    entry.status, entry.reason = status, reason


def _use_keys(
    outcome: AccountOutcome,
    entry: InputFile,
    content: bytes | None,
    store: EvidenceStore,
    files: list[EvidenceFile],
) -> None:
    """Keep the keys file verbatim; load it (normalised) only for an assessed account."""
    account_id = outcome.account_id
    if content is not None:
        original = store.write(account_id, "access_keys.input.json", content, "access_keys_input")
        entry.evidence_path = original.path
        files.append(original)
    if outcome.status != "assessed":
        entry.reason = entry.reason or f"not used: account {account_id} is not assessed"
        return
    try:
        if content is None:
            raise AccessKeysFileError(
                entry.reason or f"file {shown_name(entry.name)} cannot be read"
            )
        keys = read_access_keys(content, source=f"file {shown_name(entry.name)}")
    except AccessKeysFileError as exc:
        outcome.status = "partial"
        outcome.error = f"account {account_id}: {exc}; findings use the credential report only"
        entry.status, entry.reason = "not_used", str(exc)
        return
    files.append(store.write_json(account_id, "access_keys.json", keys, "access_keys"))
    outcome.access_keys = len(keys)
    entry.status, entry.reason = "used", None


def summary_line(run_meta: dict[str, Any]) -> str | None:
    """One line for the command's summary: how the files of a files run were used."""
    files = run_meta.get("files")
    if run_meta.get("scope") != SCOPE or files is None:
        return None
    counts: dict[str, int] = {}
    for entry in files:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    order = ("assessed", "partial", "not_assessed", "unattributed", "used", "not_used", "ignored")
    words = {"not_assessed": "not assessed", "not_used": "not used"}
    parts = [f"{counts[s]} {words.get(s, s)}" for s in order if counts.get(s)]
    return f"{len(files)} file(s) in {run_meta.get('files_dir')}: {', '.join(parts)}"
