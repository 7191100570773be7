"""The organization's service control policies as a run keeps them, and the reading of them.

`keyaudit.sources.aws.scps` writes one run-level file, `service_control_policies.json`:

    {"status": "collected" | "failed" | "off" | "not applicable",
     "error": null or one line,
     "enabled": true | false | null,          # SERVICE_CONTROL_POLICY enabled at the root
     "management_account_id": "123456789012" or null,
     "policies": {"p-…": {"name", "arn", "aws_managed", "document" (parsed) or null,
                          "parse_error" or null}},
     "attachments": {"r-…" | "ou-…" | "<account id>": ["p-…", …]},
     "chains": {"<account id>": ["r-…", "ou-…", …, "<account id>"]}}

This module only reads (no boto3): the warehouse load and the privilege evaluation use it.
AWS's rule, which the levels below follow: a member account's principals get only what every
level of its chain allows (the root, each OU down to the account, and the account itself), each
level through the SCPs attached to it; the management account is not subject to SCPs. Where the
SCPs could not be read the answer is None, never an assumed deny.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCP_FILE = "service_control_policies.json"
SCP_KIND = "service_control_policies"
# service_control_policies.json "status"
COLLECTED, FAILED, OFF, NOT_APPLICABLE = "collected", "failed", "off", "not applicable"

# One level of an account's chain: the target (root, OU or account id) and its SCPs, each as a
# label ("SCP FullAWSAccess (p-FullAWSAccess) attached to r-ab12") and its parsed document, or
# None when the document did not parse.
ScpPolicy = tuple[str, dict[str, Any] | None]
ScpLevel = tuple[str, list[ScpPolicy]]


def read_scps(run_dir: Path) -> dict[str, Any] | None:
    """The run's SCP evidence; None when the run has none (a files run, a run recorded before
    SCPs were collected). A file that cannot be read comes back as a failed collection, with why."""
    path = Path(run_dir) / SCP_FILE
    if not path.exists():
        return None
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return _unreadable(f"{SCP_FILE} cannot be read ({type(exc).__name__}: {exc})")
    if not isinstance(found, dict):
        return _unreadable(f"{SCP_FILE} is not a JSON object")
    return found


def _unreadable(error: str) -> dict[str, Any]:
    return {
        "status": FAILED,
        "error": error,
        "enabled": None,
        "management_account_id": None,
        "policies": {},
        "attachments": {},
        "chains": {},
    }


def scp_levels(scps: dict[str, Any] | None, account_id: str) -> list[ScpLevel] | None:
    """The SCPs that bound `account_id`, level by level from the root down to the account.

    `[]` when no SCP applies: the account is the organization's management account, or SCPs
    are not enabled in the organization. None when they are unknown: not collected, failed,
    switched off, not applicable (no organization discovered), or no chain recorded for the
    account; `scp_gap` says which, for the account's note. A level with no SCP attached allows
    nothing (AWS keeps at least one attached at every level)."""
    if scps is None:
        return None
    if scps.get("management_account_id") and account_id == scps["management_account_id"]:
        return []
    if scps.get("status") != COLLECTED:
        return None
    if scps.get("enabled") is False:
        return []
    chain = (scps.get("chains") or {}).get(account_id)
    if not chain:
        return None
    policies = scps.get("policies") or {}
    attachments = scps.get("attachments") or {}
    levels: list[ScpLevel] = []
    for target in chain:
        attached: list[ScpPolicy] = []
        for policy_id in attachments.get(target, []):
            policy = policies.get(policy_id) or {}
            label = f"SCP {policy.get('name') or policy_id} ({policy_id}) attached to {target}"
            document = policy.get("document")
            attached.append((label, document if isinstance(document, dict) else None))
        levels.append((target, attached))
    return levels


def scp_gap(scps: dict[str, Any] | None, account_id: str) -> str | None:
    """Why `scp_levels` is None for the account, as one line for its note ("SCPs could not be
    read: …"); None when the levels are known."""
    if scp_levels(scps, account_id) is not None:
        return None
    if scps is None:
        return f"the run has no {SCP_FILE} (not collected)"
    status = scps.get("status")
    if status == FAILED:
        return str(scps.get("error") or "their collection failed")
    if status == OFF:
        return "[collection] scps = false"
    if status == NOT_APPLICABLE:
        return "the run did not discover an organization (discovery scope is not organization)"
    if status != COLLECTED:
        return f"unknown status {status!r} in {SCP_FILE}"
    return f"no OU chain recorded for account {account_id}"
