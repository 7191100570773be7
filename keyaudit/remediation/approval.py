"""The approved plan file: the run's remediation-plan.json plus who approved it and when.

The file comes from outside (e-mail, a ticket, a shared folder), so it is read as hostile: a
regular file (never a link, pipe or device), at most MAX_BYTES, strict JSON with exactly the
fields of the plan (an unknown field is refused, not ignored), and every key must be a key of
that run's plan in the warehouse, in the same account and user, with a deactivation day no
earlier than planned. Anything else is refused in one line naming the file and the fix.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import duckdb
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from keyaudit.model import ACCOUNT_ID_PATTERN, KeyauditError
from keyaudit.report.remediation import PLAN_FORMAT, plan_rows
from keyaudit.safefile import FileTooLarge, NotRegularFile, read_regular
from keyaudit.textsafe import visible

MAX_BYTES = 16 * 1024 * 1024  # ≈ 30,000 planned keys with their findings
MAX_KEYS = 100_000
_FIX = 'give the run\'s remediation-plan.json with an "approval" added (docs/remediation.md)'

Text = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class ApprovalError(KeyauditError, ValueError):
    """The approved plan file cannot be used; the message names the file and the fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Approval(_Strict):
    approved_by: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    approved_on: date


class ApprovedKey(_Strict):
    account_id: Annotated[str, StringConstraints(pattern=rf"^{ACCOUNT_ID_PATTERN}$")]
    user_name: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    access_key_id: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{16,128}$")]
    deactivate_on: date
    # the plan's other fields, for the approver to read; checked for shape, not used
    finding_ids: list[Text] = Field(default_factory=list, max_length=1000)
    rule_ids: list[Text] = Field(default_factory=list, max_length=1000)
    warn_on: list[date] = Field(default_factory=list, max_length=400)
    first_seen_at: Text | None = None
    key_status: Text | None = None
    key_created_at: Text | None = None
    key_last_used_at: Text | None = None


class ApprovedPlan(_Strict):
    format: str
    plan_id: Text
    run_id: Text
    as_of: Text
    warn_days: list[int] | None = None
    deactivate_after_days: int | None = None
    keys: list[ApprovedKey] = Field(max_length=MAX_KEYS)
    approval: Approval


@dataclass(frozen=True)
class Approved:
    """An approved plan checked against the warehouse: the keys to act on, with the plan's
    record of each (state at plan time), and the file's SHA-256 for the record."""

    plan: ApprovedPlan
    planned: dict[str, dict[str, Any]]  # access key id -> the warehouse's plan row
    sha256: str
    path: Path


def read_approved(path: Path, con: duckdb.DuckDBPyConnection, run_id: str, today: date) -> Approved:
    """Read, parse and check the approved plan file for `run_id`; ApprovalError in one line."""
    name = visible(str(path))
    try:
        content, _ = read_regular(path, MAX_BYTES)
    except NotRegularFile as exc:
        raise ApprovalError(f"{name}: {exc.kind}, not a regular file — {_FIX}") from None
    except FileTooLarge:
        raise ApprovalError(f"{name}: larger than {MAX_BYTES:,} bytes — {_FIX}") from None
    except OSError as exc:
        raise ApprovalError(
            f"{name}: cannot read the approved plan: {exc.strerror or type(exc).__name__} — {_FIX}"
        ) from None
    try:
        plan = ApprovedPlan.model_validate_json(content)
    except ValidationError as exc:
        raise ApprovalError(f"{name}: {_first_problem(exc)} — {_FIX}") from None
    _check(plan, name, run_id, today)
    planned = {row["access_key_id"]: row for row in plan_rows(con, run_id)}
    seen: set[str] = set()
    for key in plan.keys:
        row = planned.get(key.access_key_id)
        if row is None or (row["account_id"], row["user_name"]) != (key.account_id, key.user_name):
            raise ApprovalError(
                f"{name}: key {key.access_key_id} ({key.account_id} {visible(key.user_name)}) is "
                f"not in the plan of run {run_id} — approve only keys of that run's "
                "remediation-plan.json"
            )
        if key.access_key_id in seen:
            raise ApprovalError(f"{name}: key {key.access_key_id} is listed twice — list it once")
        seen.add(key.access_key_id)
        if key.deactivate_on.isoformat() < row["deactivate_on"]:
            raise ApprovalError(
                f"{name}: key {key.access_key_id} deactivate_on {key.deactivate_on} is before the "
                f"planned {row['deactivate_on']} — an approval may postpone a day, never advance it"
            )
    return Approved(
        plan=plan,
        planned={k: planned[k] for k in seen},
        sha256=hashlib.sha256(content).hexdigest(),
        path=path,
    )


def _check(plan: ApprovedPlan, name: str, run_id: str, today: date) -> None:
    if plan.format != PLAN_FORMAT:
        raise ApprovalError(f"{name}: format {visible(plan.format)} is not {PLAN_FORMAT} — {_FIX}")
    if plan.run_id != run_id or plan.plan_id != f"plan-{run_id}":
        raise ApprovalError(
            f"{name}: the plan is {visible(plan.plan_id)} of run {visible(plan.run_id)}, not of "
            f"run {run_id} — give --run the run the plan came from, or that run's plan"
        )
    if not plan.approval.approved_by.strip() or not plan.approval.approved_by.isprintable():
        raise ApprovalError(f"{name}: approval.approved_by must name the approver — {_FIX}")
    if plan.approval.approved_on > today:
        raise ApprovalError(
            f"{name}: approval.approved_on {plan.approval.approved_on} is in the future (today is "
            f"{today}) — date the approval on the day it was given"
        )
    if plan.approval.approved_on.isoformat() < plan.as_of[:10]:
        raise ApprovalError(
            f"{name}: approval.approved_on {plan.approval.approved_on} is before the plan's as-of "
            f"{plan.as_of[:10]} — an approval cannot predate its plan"
        )


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "the file"
    if first["type"] == "extra_forbidden":
        return f"unknown field {visible(where)}"
    if first["type"] == "missing":
        return f"{visible(where)} is missing"
    if first["type"].startswith("json"):
        return f"not JSON ({visible(first['msg'])})"
    return f"{visible(where)}: {visible(first['msg'])}"
