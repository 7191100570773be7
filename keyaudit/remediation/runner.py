"""`keyaudit remediate` as a library function: the approved plan, the sessions, the clock in;
what became of each key out (and, with `apply`, recorded).

Reads go through the audit role ([aws] role_name; the caller's own credentials in its own
account, as the audit does), changes through the remediation role ([remediation] role_name),
which is assumed in every account, the caller's included: the principal that runs remediation
holds no IAM write permission itself. Both honour the standard AWS configuration (AWS_PROFILE,
AWS_ENDPOINT_URL, AWS_REGION) exactly as the audit does (keyaudit.sources.aws.session).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from keyaudit.config import Config
from keyaudit.model import KeyauditError
from keyaudit.remediation.act import KeyOutcome, remediate
from keyaudit.remediation.approval import read_approved
from keyaudit.remediation.record import record_outcomes
from keyaudit.sources.aws.session import AccountSessions, SessionSettings, client_config
from keyaudit.sources.provider import session_settings
from keyaudit.textsafe import visible
from keyaudit.warehouse.db import connect


class RemediationError(KeyauditError, ValueError):
    """The remediation cannot start; the message names the thing and the fix."""


@dataclass(frozen=True)
class Remediation:
    run_id: str
    plan_id: str
    applied: bool
    outcomes: list[KeyOutcome]
    record_path: Path | None  # the evidence file written (apply only)

    @property
    def failed(self) -> int:
        return sum(o.outcome == "failed" for o in self.outcomes)


def remediation_settings(config: Config, run_id: str) -> SessionSettings:
    """The remediation role's sessions: the audit's retry and region settings, its own role."""
    audit = session_settings(config, run_id)
    return SessionSettings(
        role_name=config.remediation.role_name,
        external_id=config.remediation.external_id,
        session_name=f"keyaudit-remediate-{run_id}"[:64],
        retry_mode=audit.retry_mode,
        max_attempts=audit.max_attempts,
        region=audit.region,
    )


def run_remediation(
    config: Config,
    run_id: str,
    approved_file: Path,
    *,
    apply: bool,
    now: Callable[[], datetime],
    audit_sessions: AccountSessions | None = None,
    remediation_sessions: AccountSessions | None = None,
) -> Remediation:
    """Check the approved plan against the run's plan, re-read each due key and deactivate it
    (`apply`) or say what would be done (a dry run, which changes and records nothing)."""
    started = now()
    warehouse = config.paths.warehouse
    con = connect(warehouse, storage_version=config.warehouse.storage_version, read_only=not apply)
    try:
        if con.execute("select 1 from runs where run_id = ?", [run_id]).fetchone() is None:
            raise RemediationError(
                f"--run {visible(run_id)}: no such run in {warehouse} — `keyaudit runs` lists them"
            )
        approved = read_approved(approved_file, con, run_id, started.date())
        run_dir = config.paths.evidence_dir / run_id
        if apply and not run_dir.is_dir():
            raise RemediationError(
                f"run {run_id}: no evidence folder {run_dir} to record the actions in — set "
                "[paths] evidence_dir to the folder that holds the run's evidence"
            )
        reader = _clients(
            audit_sessions or AccountSessions(settings=session_settings(config, run_id)),
            own_account=True,
        )
        writer = (
            _clients(
                remediation_sessions
                or AccountSessions(settings=remediation_settings(config, run_id)),
                own_account=False,
            )
            if apply
            else None
        )
        outcomes = remediate(approved, reader=reader, writer=writer, today=started.date())
        record = None
        if apply:
            record = run_dir / record_outcomes(con, run_dir, approved, outcomes, now())
        return Remediation(run_id, approved.plan.plan_id, apply, outcomes, record)
    finally:
        con.close()


def _clients(sessions: AccountSessions, *, own_account: bool) -> Callable[[str], Any]:
    """One IAM client per account. `own_account`: the caller's account with the caller's own
    credentials (the audit's way); otherwise the role is assumed there too."""
    made: dict[str, Any] = {}

    def client(account_id: str) -> Any:
        if account_id not in made:
            is_caller = own_account and account_id == sessions.caller_identity()["account_id"]
            session = sessions.session_for(account_id, is_caller_account=is_caller)
            made[account_id] = session.client(
                "iam", region_name=sessions.region, config=client_config(sessions.settings)
            )
        return made[account_id]

    return client
