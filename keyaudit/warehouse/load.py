"""Load one run from its evidence folder into the warehouse, then evaluate the rules.

The evidence folder is the only input: a run can be reloaded (or resumed after a crash) from
its files alone, and loading twice gives the same warehouse. Everything is bulk-inserted, the
run's marts are built from it, and all is committed in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from keyaudit.config import RemediationConfig
from keyaudit.evidence.kept_waivers import read_waiver_evidence
from keyaudit.evidence.run_record import read_run_file
from keyaudit.evidence.scps import read_scps, scp_gap, scp_levels
from keyaudit.evidence.store import EvidenceStore
from keyaudit.model import ROOT_USER, Account, AccountOutcome, address_in
from keyaudit.paths import SQL_DIR
from keyaudit.privilege.account import evaluate_account
from keyaudit.privilege.catalogue import catalogue_version
from keyaudit.rules.catalogue import Rule
from keyaudit.rules.waivers import DEFAULT_REVIEW_DAYS, WaiverFile
from keyaudit.sources.aws import credentials, privilege
from keyaudit.sources.aws.calls import split_call
from keyaudit.sources.credential_report import COLUMNS
from keyaudit.sources.credential_report_bulk import REPORT, parse_credential_reports
from keyaudit.textsafe import shortened
from keyaudit.warehouse.db import delete_run, insert_frame, transaction
from keyaudit.warehouse.findings import evaluate
from keyaudit.warehouse.kept import HISTORY, keep_views
from keyaudit.warehouse.marts import build_marts
from keyaudit.warehouse.reconciliation import record_differences
from keyaudit.warehouse.remediation_plan import build_plan
from keyaudit.warehouse.run_rules import record_run_rules
from keyaudit.warehouse.waivers import apply_waivers
from keyaudit.words import counted, plural

if TYPE_CHECKING:
    from keyaudit.evidence.signing import ManifestSignature

LISTED_USERS_FILE = "users.json"  # keyaudit.sources.aws.collect writes it (kind list_users)

# The longest reason the warehouse keeps (why an account was not assessed, a run note, why an
# input file was not used). Reasons are keyaudit's own sentences around names that came from
# outside; one that listed every duplicate file once grew to 84,479 characters. A longer one is
# stored cut in the middle, so that its start (what failed) and its end (the fix) stay.
REASON_STORED_CHARS = 2000


@dataclass
class RunSummary:
    """What a finished run tells its caller: small, printable, JSON-ready."""

    run_id: str
    as_of: str
    accounts_in_scope: int
    # Status 'assessed': every rule had its evidence. A 'partial' account is assessed but not
    # fully (a rule lacked its evidence there): never counted as fully assessed, or as clean.
    accounts_fully_assessed: int
    accounts_partial: int
    accounts_not_assessed: int
    accounts_skipped: int
    findings_by_severity: dict[str, int] = field(default_factory=dict)
    findings_by_rule: dict[str, int] = field(default_factory=dict)
    # Since the previous run of the same scope (sql/summary/run_changes.sql); all None when this
    # is the first run of its scope.
    previous_run_id: str | None = None
    findings_new: int | None = None
    findings_resolved: int | None = None

    @property
    def accounts_assessed(self) -> int:
        """Assessed fully or partially: what coverage counts, the report's and the warehouse's
        "assessed" (runs.accounts_assessed), always shown with how many of them partially."""
        return self.accounts_fully_assessed + self.accounts_partial

    @property
    def coverage(self) -> float:
        if not self.accounts_in_scope:
            return 1.0
        return self.accounts_assessed / self.accounts_in_scope


def _outcome(store: EvidenceStore, account_id: str) -> AccountOutcome:
    path = store.run_dir / account_id / "collection.json"
    if not path.exists():
        return AccountOutcome(
            account_id=account_id,
            status="not_assessed",
            error=f"account {account_id}: collection did not finish (no collection.json) — "
            "rerun with `keyaudit run --resume` to collect it",
        )
    return AccountOutcome.from_dict(json.loads(path.read_text(encoding="utf-8")))


def _key_frame(keys_by_account: list[tuple[str, list[dict[str, Any]]]]) -> pd.DataFrame:
    rows = [
        {
            "account_id": account_id,
            "user_name": k["UserName"],
            "access_key_id": k["AccessKeyId"],
            "status": k["Status"],
            "create_date": k["CreateDate"],
            "last_used_date": (k.get("LastUsed") or {}).get("LastUsedDate"),
            "last_used_service": (k.get("LastUsed") or {}).get("ServiceName"),
            "last_used_region": (k.get("LastUsed") or {}).get("Region"),
        }
        for account_id, keys in keys_by_account
        for k in keys
    ]
    return pd.DataFrame(rows)


@dataclass
class _Collected:
    accounts: list[dict[str, Any]] = field(default_factory=list)
    reports: list[pd.DataFrame] = field(default_factory=list)
    keys: list[pd.DataFrame] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    user_policies: list[dict[str, Any]] = field(default_factory=list)
    privilege_inputs: list[dict[str, Any]] = field(default_factory=list)
    user_privilege: list[dict[str, Any]] = field(default_factory=list)
    scps: dict[str, Any] | None = None  # the run's service_control_policies.json
    api_calls: list[dict[str, Any]] = field(default_factory=list)
    owner_tags: list[dict[str, Any]] = field(default_factory=list)
    listed_users: list[dict[str, Any]] = field(default_factory=list)  # ListUsers (users.json)
    credentials: list[dict[str, Any]] = field(default_factory=list)  # iam_credentials rows


def _owner_tags(account_id: str, tags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of table owner_tags, each with the e-mail address its value holds (or None)."""
    return [{"account_id": account_id, **t, "address": address_in(t["tag_value"])} for t in tags]


# Credential reports are parsed in batches of about this many bytes: the checks run once per
# batch instead of once per account (bench/load_evaluate.py), and memory stays bounded.
REPORT_BATCH_BYTES = 16 * 2**20


@dataclass
class _Pending:
    """Accounts read but not yet parsed: their warehouse rows and credential reports."""

    rows: list[tuple[Account, dict[str, Any]]] = field(default_factory=list)
    reports: list[tuple[bytes | str, str]] = field(default_factory=list)
    report_of: dict[str, int] = field(default_factory=dict)  # account id -> position in reports
    size: int = 0


def _read_account(
    store: EvidenceStore, account: Account, pending: _Pending, collected: _Collected
) -> None:
    outcome = _outcome(store, account.account_id)
    collected.api_calls += _call_rows(account.account_id, outcome.calls)
    folder = store.run_dir / account.account_id
    collected.owner_tags += _owner_tags(
        account.account_id,
        [{"user_name": None, "tag_key": k, "tag_value": v} for k, v in account.tags.items()],
    )
    row: dict[str, Any] = {
        "account_id": account.account_id,
        "name": account.name,
        "email": account.email,
        "state": account.state,
        "ou_path": account.ou_path,
        "tags": json.dumps(account.tags, sort_keys=True),
        "is_management": account.is_management,
        "status": outcome.status,
        "error": outcome.error,
        "report_generated_at": outcome.report_generated_at,
        "summary_root_access_keys_present": None,
        "summary_root_mfa_enabled": None,
        **_privilege_status(folder),
        **_credentials_status(folder),
    }
    if outcome.status in ("assessed", "partial"):
        try:
            content = (folder / "credential_report.csv").read_bytes()
        except OSError as exc:
            row["status"], row["error"] = "not_assessed", f"account {account.account_id}: {exc}"
        else:
            pending.report_of[account.account_id] = len(pending.reports)
            pending.reports.append((content, f"account {account.account_id} credential report"))
            pending.size += len(content)
    pending.rows.append((account, row))


def _finish_accounts(store: EvidenceStore, pending: _Pending, collected: _Collected) -> None:
    """Parse the pending reports in one batch, then read each account's other evidence."""
    parsed = parse_credential_reports(pending.reports)
    frame = parsed.rows
    owners = pd.Series(list(pending.report_of), dtype=object)  # in report order
    frame.insert(0, "account_id", owners.to_numpy()[frame.pop(REPORT).to_numpy()])
    collected.reports.append(frame)
    with_root_row = set(frame.loc[frame["user"] == ROOT_USER, "account_id"])
    keys: list[tuple[str, list[dict[str, Any]]]] = []
    passwords = _passwords_by_account(frame)
    for account, row in pending.rows:
        folder = store.run_dir / account.account_id
        at = pending.report_of.get(account.account_id)
        result = parsed.results[at] if at is not None else None
        if result is not None and result.error is not None:
            row["status"] = "not_assessed"
            row["error"] = f"account {account.account_id}: {result.error}"
        elif result is not None:
            collected.notes.extend(
                {"account_id": account.account_id, "kind": "credential_report", "message": n}
                for n in result.notes
            )
            collected.notes.extend(
                {"account_id": account.account_id, "kind": REFUSED_ROW, "message": n}
                for n in result.refused
            )
            if result.refused:
                _partial(row, _refused_rows(len(result.refused)))
            if account.account_id not in with_root_row:
                _without_root_row(row)
            collected.listed_users += _listed_users(folder, account.account_id)
            keys_path = folder / "access_keys.json"
            listed: list[dict[str, Any]] | None = None
            if keys_path.exists():
                listed = json.loads(keys_path.read_text(encoding="utf-8"))
                keys.append((account.account_id, listed))
            summary_path = folder / "account_summary.json"
            if summary_path.exists():
                summary = json.loads(summary_path.read_text(encoding="utf-8"))
                row["summary_root_access_keys_present"] = summary.get("AccountAccessKeysPresent")
                row["summary_root_mfa_enabled"] = summary.get("AccountMFAEnabled")
            facts = _UserFacts(_key_counts(listed), passwords.get(account.account_id))
            _read_privilege(folder, account.account_id, collected, facts)
            collected.credentials += _read_credentials(folder, account.account_id)
        if row["status"] == "partial":
            collected.notes.append(
                {"account_id": account.account_id, "kind": "partial", "message": row["error"]}
            )
        collected.accounts.append(row)
    collected.keys.append(_key_frame(keys))


ROOT_RULES_UNEVALUATED = (
    "the credential report has no {root} row, which every report AWS writes has: the root "
    "rules (root access key, root MFA, root use) are not evaluated in this account — collect "
    "the report again, or supply the complete file"
)


# run_notes.kind of a credential report row IAM could not have written (never stored)
REFUSED_ROW = "refused_row"


def _refused_rows(count: int) -> str:
    """Why an account with refused rows is partial: those users are not assessed, not clean."""
    return (
        f"{counted(count, 'row')} of the credential report {plural('was', count)} refused "
        f"(see the data notes, kind {REFUSED_ROW}): {plural('its', count, 'their')} "
        f"{plural('user', count)} {plural('is', count)} not assessed — collect the report "
        "again, or supply the file as IAM wrote it"
    )


def _without_root_row(row: dict[str, Any]) -> None:
    """A report without its root row cannot clear the root controls: the account is partial."""
    _partial(row, ROOT_RULES_UNEVALUATED.format(root=ROOT_USER))


def _partial(row: dict[str, Any], message: str) -> None:
    """An assessed account becomes partial; `message` is added to its reason."""
    if row["error"]:
        row["error"] = f"{row['error']}; {message}"
    else:
        row["error"] = f"account {row['account_id']}: {message}"
    if row["status"] == "assessed":
        row["status"] = "partial"


def _part_status(folder: Path, outcome_file: str, column: str) -> dict[str, Any]:
    """accounts.<column>_status and _error from a part's outcome file (privilege, credentials);
    'not collected' when the evidence has none (a folder of files, or older evidence)."""
    path = folder / outcome_file
    if not path.exists():
        return {f"{column}_status": privilege.NOT_COLLECTED, f"{column}_error": None}
    found = json.loads(path.read_text(encoding="utf-8"))
    return {f"{column}_status": found["status"], f"{column}_error": found.get("error")}


def _privilege_status(folder: Path) -> dict[str, Any]:
    return _part_status(folder, privilege.OUTCOME_FILE, "privilege")


def _credentials_status(folder: Path) -> dict[str, Any]:
    return _part_status(folder, credentials.OUTCOME_FILE, "credentials")


def _read_credentials(folder: Path, account_id: str) -> list[dict[str, Any]]:
    """iam_credentials rows from the account's listing evidence (none when not collected)."""
    names = (
        credentials.SSH_KEYS_FILE,
        credentials.SERVICE_CREDENTIALS_FILE,
        credentials.CERTIFICATES_FILE,
    )
    found = {
        name: json.loads((folder / name).read_text(encoding="utf-8"))
        for name in names
        if (folder / name).exists()
    }
    return [{"account_id": account_id, **row} for row in credentials.credential_rows(found)]


def _credential_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in ("created_at", "expires_at"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


@dataclass(frozen=True)
class _UserFacts:
    """What escalation paths need besides policies: keys per user (IAM allows two) and whether
    a console password exists (CreateLoginProfile only where none does); None when unknown."""

    key_counts: dict[str, int] | None
    passwords: dict[str, bool] | None


def _key_counts(listed: list[dict[str, Any]] | None) -> dict[str, int] | None:
    if listed is None:
        return None
    counts: dict[str, int] = {}
    for key in listed:
        counts[key["UserName"]] = counts.get(key["UserName"], 0) + 1
    return counts


def _passwords_by_account(frame: pd.DataFrame) -> dict[str, dict[str, bool]]:
    if frame.empty or "password_enabled" not in frame:
        return {}
    found: dict[str, dict[str, bool]] = {}
    for account_id, user, enabled in frame[["account_id", "user", "password_enabled"]].itertuples(
        index=False
    ):
        if isinstance(enabled, bool):
            found.setdefault(account_id, {})[user] = enabled
    return found


def _listed_users(folder: Path, account_id: str) -> list[dict[str, Any]]:
    """The account's ListUsers answer (users.json), which the reconciliation holds the credential
    report's users against; none when the listing was not collected (a folder of files)."""
    path = folder / LISTED_USERS_FILE
    if not path.exists():
        return []
    return [
        {
            "account_id": account_id,
            "user_name": user["UserName"],
            "user_id": user.get("UserId"),
            "arn": user.get("Arn"),
            "created_at": user.get("CreateDate"),
        }
        for user in json.loads(path.read_text(encoding="utf-8"))
    ]


def _read_privilege(
    folder: Path, account_id: str, collected: _Collected, facts: _UserFacts
) -> None:
    """The users' policies and boundaries from the raw authorization details, and each user's
    effective privilege (keyaudit.privilege) with the SCPs that bound the account."""
    details, aws_policies = folder / privilege.DETAILS_FILE, folder / privilege.AWS_POLICIES_FILE
    if not details.exists():
        return
    pages = json.loads(details.read_text(encoding="utf-8"))
    fetched = json.loads(aws_policies.read_text(encoding="utf-8")) if aws_policies.exists() else []
    policies, inputs = privilege.user_privilege_rows(pages, fetched)
    collected.user_policies += [{"account_id": account_id, **r} for r in policies]
    collected.privilege_inputs += [{"account_id": account_id, **r} for r in inputs]
    collected.owner_tags += _owner_tags(account_id, privilege.user_tag_rows(pages))
    levels = scp_levels(collected.scps, account_id)
    gap = scp_gap(collected.scps, account_id) if levels is None else None
    if gap:
        collected.notes.append({"account_id": account_id, "kind": "scps", "message": gap})
    try:
        judged = evaluate_account(
            account_id,
            pages,
            fetched,
            levels,
            key_counts=facts.key_counts,
            passwords=facts.passwords,
        )
    except Exception as exc:  # a defect of the evaluator must not lose the run's other evidence
        message = (
            f"privilege evaluation failed ({type(exc).__name__}: {exc}); user privilege is unknown"
        )
        collected.notes.append({"account_id": account_id, "kind": "privilege", "message": message})
        return
    collected.user_privilege += [
        {
            "account_id": account_id,
            "user_name": j.user_name,
            "privilege": j.privilege,
            "privilege_reason": j.reason,
            "is_conditional": j.is_conditional,
            "quarantine_policy": j.quarantine_policy,
        }
        for j in judged
    ]


def _call_rows(account_id: str | None, calls: dict[str, int]) -> list[dict[str, Any]]:
    """Rows of table api_calls from a call record (service:Operation -> calls)."""
    rows = []
    for name, count in calls.items():
        service, operation = split_call(name)
        rows.append(
            {"account_id": account_id, "service": service, "operation": operation, "calls": count}
        )
    return rows


def _read_evidence(store: EvidenceStore, meta: dict[str, Any]) -> _Collected:
    collected = _Collected(notes=list(meta.get("notes", [])))  # run-level notes (files runs)
    collected.scps = read_scps(store.run_dir)
    collected.api_calls += _call_rows(None, meta.get("api_calls") or {})
    pending = _Pending()
    for raw in meta["accounts"]:
        _read_account(store, Account.from_dict(raw), pending, collected)
        if pending.size >= REPORT_BATCH_BYTES:
            _finish_accounts(store, pending, collected)
            pending = _Pending()
    _finish_accounts(store, pending, collected)
    for raw in meta.get("skipped", []):
        account = Account.from_dict(raw)
        collected.accounts.append(
            {
                **_plain(account),
                "status": "skipped",
                "error": f"account state is {account.state}; only ACTIVE accounts are audited",
            }
        )
    for account_id in meta.get("unknown", []):
        collected.accounts.append(
            {
                "account_id": account_id,
                "status": "not_assessed",
                "error": f"account {account_id} is not in organization {meta.get('organization_id')} — "
                "remove it from discovery.include_accounts or check the id",
                "tags": "{}",
                "is_management": False,
            }
        )
    return collected


def _plain(account: Account) -> dict[str, Any]:
    return {
        "account_id": account.account_id,
        "name": account.name,
        "email": account.email,
        "state": account.state,
        "ou_path": account.ou_path,
        "tags": json.dumps(account.tags, sort_keys=True),
        "is_management": account.is_management,
    }


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)


def _bounded(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """The frame with each reason in `columns` at most REASON_STORED_CHARS long: the one place
    reasons enter the warehouse, so every report, e-mail, export and query gets them bounded."""
    frame = frame.copy()
    for column in columns:
        if column in frame:
            frame[column] = frame[column].map(
                lambda text: shortened(text, REASON_STORED_CHARS) if isinstance(text, str) else text
            )
    return frame


def _with_run(frame: pd.DataFrame, run_id: str) -> pd.DataFrame:
    frame = frame.copy()
    frame.insert(0, "run_id", run_id)
    return frame


def load_run(
    con: duckdb.DuckDBPyConnection,
    store: EvidenceStore,
    *,
    rules: list[Rule],
    finished_at: datetime,
    manifest_sha256: str | None,
    waivers: WaiverFile | None = None,
    signature: ManifestSignature | None = None,
    waiver_review_days: int = DEFAULT_REVIEW_DAYS,
    remediation: RemediationConfig | None = None,
) -> RunSummary:
    """Replace the run in the warehouse with what its evidence says, and evaluate the rules;
    `signature` is the manifest's (keyaudit.evidence.signing), recorded with the run."""
    meta = read_run_file(store)
    run_id = meta["run_id"]
    as_of = datetime.fromisoformat(meta["as_of"])
    collected = _read_evidence(store, meta)
    accounts = pd.DataFrame(collected.accounts)
    accounts["report_generated_at"] = pd.to_datetime(accounts.get("report_generated_at"), utc=True)
    reports = _concat(collected.reports, ["account_id", "line_number", *COLUMNS])
    keys = _concat(collected.keys, ["account_id"])
    for column in ("create_date", "last_used_date"):
        if column in keys:
            keys[column] = pd.to_datetime(keys[column], utc=True, format="ISO8601")
    evidence = pd.DataFrame([f.__dict__ for f in store.read_run_manifest()])
    if not evidence.empty:
        evidence["account_id"] = evidence["path"].map(
            lambda p: p.split("/")[0] if "/" in p else None
        )
        evidence["fetched_at"] = pd.to_datetime(evidence["fetched_at"], utc=True)
    statuses = accounts["status"].value_counts().to_dict()
    in_scope = len(meta["accounts"]) + len(meta.get("unknown", []))
    with transaction(con):
        delete_run(con, run_id)
        con.execute(
            """insert into runs (run_id, started_at, finished_at, as_of, source, scope, config_digest,
                config_json, parameters_json, tool_version, status, caller_arn, organization_id,
                accounts_in_scope, accounts_assessed, accounts_not_assessed, accounts_skipped,
                manifest_sha256, privilege_catalogue, accounts_listed, accounts_filtered_out,
                accounts_unlisted)
               values ($run_id, $started_at, $finished_at, $as_of, $source, $scope, $digest,
                $config, $parameters, $version, 'finished', $caller, $org, $in_scope, $assessed,
                $not_assessed, $skipped, $manifest, $catalogue, $listed, $filtered_out,
                $unlisted)""",
            {
                "run_id": run_id,
                "started_at": datetime.fromisoformat(meta["started_at"]),
                "finished_at": finished_at,
                "as_of": as_of,
                "source": meta["source"],
                "scope": meta["scope"],
                "digest": meta["config_digest"],
                "config": json.dumps(meta["config"], sort_keys=True),
                "parameters": json.dumps(meta["parameters"], sort_keys=True),
                "version": meta["tool_version"],
                "caller": meta.get("caller_arn"),
                "org": meta.get("organization_id"),
                "in_scope": in_scope,
                "assessed": statuses.get("assessed", 0) + statuses.get("partial", 0),
                "not_assessed": statuses.get("not_assessed", 0),
                "skipped": statuses.get("skipped", 0),
                "manifest": manifest_sha256,
                "catalogue": catalogue_version() if collected.user_privilege else None,
                "listed": meta.get("accounts_listed"),
                "filtered_out": len(meta.get("filtered_out", [])),
                "unlisted": len(meta.get("unknown", [])),
            },
        )
        insert_frame(
            con,
            "accounts",
            _with_run(_bounded(accounts, "error", "privilege_error", "credentials_error"), run_id),
        )
        insert_frame(con, "credential_report", _with_run(reports, run_id))
        insert_frame(con, "access_keys", _with_run(keys, run_id))
        insert_frame(
            con, "iam_user_policies", _with_run(pd.DataFrame(collected.user_policies), run_id)
        )
        insert_frame(
            con,
            "iam_user_privilege_inputs",
            _with_run(pd.DataFrame(collected.privilege_inputs), run_id),
        )
        insert_frame(
            con, "iam_user_privilege", _with_run(pd.DataFrame(collected.user_privilege), run_id)
        )
        insert_frame(con, "owner_tags", _with_run(pd.DataFrame(collected.owner_tags), run_id))
        insert_frame(
            con, "iam_credentials", _with_run(_credential_frame(collected.credentials), run_id)
        )
        insert_frame(con, "evidence", _with_run(evidence, run_id))
        if signature is not None:
            insert_frame(con, "run_signatures", pd.DataFrame([asdict(signature)]))
        notes = _bounded(pd.DataFrame(collected.notes), "message")
        insert_frame(con, "run_notes", _with_run(notes, run_id))
        insert_frame(con, "input_files", _bounded(_input_files(meta, run_id), "reason"))
        insert_frame(con, "api_calls", _with_run(pd.DataFrame(collected.api_calls), run_id))
        listed_users = pd.DataFrame(collected.listed_users)
        if not listed_users.empty:
            listed_users["created_at"] = pd.to_datetime(
                listed_users["created_at"], utc=True, format="ISO8601"
            )
        insert_frame(con, "listed_users", _with_run(listed_users, run_id))
        build_marts(con, run_id)  # once, here: the notes below and every rule read them
        con.execute(
            "insert into run_notes (run_id, account_id, kind, message) "
            "select run_id, account_id, 'key_mismatch', message from key_mismatches where run_id = ?",
            [run_id],
        )
        evaluate(con, run_id, as_of, rules)
        record_run_rules(con, run_id, rules)
        # waivers given, else the copy kept with the run's evidence (a reload applies the same)
        apply_waivers(
            con,
            run_id,
            waivers or read_waiver_evidence(store, rules),
            review_days=waiver_review_days,
        )
        # the comparisons with earlier runs, kept once for this run and the runs after it
        # (keyaudit.warehouse.kept.HISTORY): the plan reads when each finding was first seen
        keep_views(con, run_id, tables=HISTORY)
        build_plan(con, run_id, remediation)  # after the waivers: a waived finding is not planned
        record_differences(con, run_id)  # last: it reconciles the findings written above
    return summarize(con, run_id)


def summarize(con: duckdb.DuckDBPyConnection, run_id: str) -> RunSummary:
    run = con.execute(
        "select as_of, accounts_in_scope, accounts_not_assessed, accounts_skipped from runs where run_id = ?",
        [run_id],
    ).fetchone()
    if run is None:
        raise KeyError(f"run {run_id} is not in the warehouse")
    statuses = dict(
        con.execute(
            "select status, count(*) from accounts where run_id = ? group by 1", [run_id]
        ).fetchall()
    )
    by_severity = dict(
        con.execute(
            "select severity, count(*) from findings where run_id = ? and not waived group by 1",
            [run_id],
        ).fetchall()
    )
    by_rule = dict(
        con.execute(
            "select rule_id, count(*) from findings where run_id = ? group by 1 order by 1",
            [run_id],
        ).fetchall()
    )
    return RunSummary(
        run_id=run_id,
        as_of=run[0].isoformat(),
        accounts_in_scope=run[1],
        accounts_fully_assessed=statuses.get("assessed", 0),
        accounts_partial=statuses.get("partial", 0),
        accounts_not_assessed=run[2],
        accounts_skipped=run[3],
        findings_by_severity=by_severity,
        findings_by_rule=by_rule,
        **_changes(con, run_id),
    )


def _changes(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    """New and resolved since the previous run of the scope, as the report counts them."""
    sql = (SQL_DIR / "summary" / "run_changes.sql").read_text(encoding="utf-8")
    row = con.execute(sql, {"run_id": run_id}).fetchone()
    if row is None or row[0] is None:
        return {}
    return {"previous_run_id": row[0], "findings_new": row[1], "findings_resolved": row[2]}


def _input_files(meta: dict[str, Any], run_id: str) -> pd.DataFrame:
    """The folder listing of a files-source run (run.json `files`); empty for AWS runs."""
    frame = pd.DataFrame(meta.get("files", [])).rename(columns={"name": "file_name"})
    if not frame.empty:
        frame["modified_at"] = pd.to_datetime(frame["modified_at"], utc=True)
    return _with_run(frame, run_id)
