"""Audit from a folder of credential reports: the files become the same evidence layout an API
run writes, so loading, rules, reports and exports do not care where the data came from.

One report per account: `<12-digit id>.csv`, or any `*.csv` whose ARNs name one account. It is
copied byte for byte to `<run>/<account>/credential_report.csv` with a collection.json saying
whether the account is assessed and, if not, why. An optional `<id>.access_keys.json` beside it
adds key ids and last use. A wrong file makes its account "not assessed" with the reason; a file
that names no account is kept as `unattributed-<name>` evidence and recorded as a run note.
Every entry of the folder is listed in run.json (`files`), with its hash; nothing is skipped
silently.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keyaudit.evidence.store import EvidenceFile, EvidenceStore
from keyaudit.model import Account, AccountOutcome, KeyauditError
from keyaudit.sources.access_keys_file import AccessKeysFileError, read_access_keys
from keyaudit.sources.aws.organizations import Discovery
from keyaudit.sources.credential_report import CredentialReportError, parse_credential_report

log = logging.getLogger("keyaudit.files")

SCOPE = "files"
_REPORT_NAME = re.compile(r"([0-9]{12})\.csv", re.IGNORECASE)
_KEYS_NAME = re.compile(r"([0-9]{12})\.access_keys\.json", re.IGNORECASE)
_ANY_ARN_ACCOUNT = re.compile(rb"arn:aws[a-z-]*:iam::([0-9]{12}):")
_NAME_IT = "name the file <12-digit account id>.csv"


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
            "notes": self.notes,
            "caller_arn": None,
            "caller_account_id": None,
            "organization_id": None,
            "management_account_id": None,
        }


def check_folder(folder: Path | str | None) -> Path:
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
        names = [p.name for p in folder.iterdir()]
    except OSError as exc:
        raise FilesSourceError(
            f"{where} cannot be read ({exc.strerror}) — fix its permissions"
        ) from None
    if not any(n.lower().endswith(".csv") for n in names):
        raise FilesSourceError(
            f"{where} holds no credential report (*.csv) — put one <12-digit account id>.csv "
            "per account in it"
        )
    return folder.resolve()


def collect_files(folder: Path | str | None, store: EvidenceStore) -> FilesCollection:
    """Read every entry of the folder into the evidence store and say what each became."""
    folder = check_folder(folder)
    found = FilesCollection(folder=folder)
    reports: list[_Report] = []
    key_files: dict[str, InputFile] = {}
    key_bytes: dict[str, bytes] = {}
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.is_file() and path.name.lower().endswith(".csv"):
            reports.append(_read_report(path))
        elif path.is_file() and (match := _KEYS_NAME.fullmatch(path.name)):
            entry, content = _read_plain(path, "access_keys")
            entry.account_id, entry.account_from = match.group(1), "file name"
            key_files[match.group(1)] = entry
            if content is not None:
                key_bytes[match.group(1)] = content
            found.files.append(entry)
        else:
            found.files.append(_ignored(path, found.notes))
    by_account: dict[str, list[_Report]] = {}
    for report in reports:
        found.files.append(report.entry)
        if report.entry.account_id is None:
            _keep_unattributed(report, store, found.notes)
        else:
            by_account.setdefault(report.entry.account_id, []).append(report)
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


def _file_facts(path: Path, content: bytes) -> dict[str, Any]:
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return {
        "sha256": hashlib.sha256(content).hexdigest(),
        "bytes": len(content),
        "modified_at": modified.isoformat(timespec="seconds"),
    }


def _read_plain(path: Path, kind: str) -> tuple[InputFile, bytes | None]:
    entry = InputFile(name=path.name, kind=kind, status="not_used")
    try:
        content = path.read_bytes()
    except OSError as exc:
        entry.reason = f"file {path.name} cannot be read ({exc.strerror}) — fix its permissions"
        return entry, None
    for key, value in _file_facts(path, content).items():
        setattr(entry, key, value)
    return entry, content


def _read_report(path: Path) -> _Report:
    """Parse the report and decide which account it belongs to (file name first, else ARNs)."""
    entry, content = _read_plain(path, "credential_report")
    report = _Report(entry=entry, content=content, problem=entry.reason)
    named = _REPORT_NAME.fullmatch(path.name)
    name_id = named.group(1) if named else None
    arn_id = None
    if content is not None:
        try:
            parsed = parse_credential_report(content, source=f"file {path.name}")
        except CredentialReportError as exc:
            report.problem = str(exc)
            ids = {m.decode() for m in _ANY_ARN_ACCOUNT.findall(content)}
            arn_id = ids.pop() if len(ids) == 1 else None
        else:
            arn_id = parsed.account_id
            report.users = int((parsed.rows["user"] != "<root_account>").sum())
            if parsed.rows.empty:
                report.problem = (
                    f"file {path.name}: a header but no rows (a real report always has the "
                    "<root_account> row) — the file looks truncated; fetch the report again"
                )
    if name_id and arn_id and name_id != arn_id:
        report.problem = (
            f"file {path.name}: the file name says account {name_id} but its ARNs name account "
            f"{arn_id} — check that this is {name_id}'s report, then rename or replace the file"
        )
    entry.account_id = name_id or arn_id
    entry.account_from = "file name" if name_id else ("arns" if arn_id else None)
    return report


def _ignored(path: Path, notes: list[dict[str, Any]]) -> InputFile:
    if path.is_dir():
        reason = (
            f"folder {path.name} ignored: reports are read from the folder itself, not subfolders"
        )
        entry = InputFile(name=path.name, kind="ignored", status="ignored", reason=reason)
    else:
        entry, _ = _read_plain(path, "ignored")
        entry.status = "ignored"
        entry.reason = (
            f"file {path.name} ignored: neither a credential report (*.csv) nor "
            "<12-digit account id>.access_keys.json"
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
        entry.reason = f"file {entry.name}: no account id in the file name or its ARNs — {_NAME_IT}"
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
        names = ", ".join(r.entry.name for r in reports)
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
            f"account {account_id}: {keys_entry.name if keys_entry else 'a keys file'} has no "
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
            raise AccessKeysFileError(entry.reason or f"file {entry.name} cannot be read")
        keys = read_access_keys(content, source=f"file {entry.name}")
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
