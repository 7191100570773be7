"""The organization's service control policies (SCPs) and where they are attached: run evidence.

Called once per run, after discovery, with the caller's Organizations client (the management
account or a delegated administrator), in the fewest calls:

- `ListRoots`: its `PolicyTypes` say whether SERVICE_CONTROL_POLICY is enabled. When it is not,
  no SCP applies and nothing more is asked;
- `ListPolicies(Filter=SERVICE_CONTROL_POLICY)`, every page;
- per policy `DescribePolicy` (its document) and `ListTargetsForPolicy` (every page): the
  attachments to the root, OUs and accounts.

Each account's chain (root → OUs → account) comes from discovery, which already walked
`ListParents` (`Account.ou_ids`): no call more. A denied or failing call is recorded as status
"failed" with one line naming the call and the fix, never raised: the run goes on, and the
privilege evaluation notes that SCPs could not be read instead of assuming they deny. The file's
shape and its reader are in `keyaudit.evidence.scps`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keyaudit.evidence.scps import (
    COLLECTED,
    FAILED,
    NOT_APPLICABLE,
    OFF,
    SCP_FILE,
    SCP_KIND,
)
from keyaudit.evidence.store import EvidenceFile, EvidenceStore
from keyaudit.model import Discovery
from keyaudit.sources.aws.errors import describe, error_code

SCP_TYPE = "SERVICE_CONTROL_POLICY"
GRANT = (
    "grant organizations:ListRoots, ListPolicies, DescribePolicy, ListTargetsForPolicy to the "
    "auditing principal in the management or a delegated administrator account "
    "(docs/permissions.md)"
)
_DENIED = {"AccessDenied", "AccessDeniedException"}


class ScpReadError(Exception):
    """One Organizations call failed; the message is the evidence's one-line error."""


@dataclass(frozen=True)
class ScpOutcome:
    status: str  # COLLECTED | FAILED | OFF | NOT_APPLICABLE
    error: str | None = None
    file: EvidenceFile | None = None


def _problem(exc: BaseException, action: str) -> str:
    """One line: the call, what AWS said, and the fix; SCPs are then unknown, not a deny."""
    code = error_code(exc)
    if code in _DENIED:
        message = (
            exc.response.get("Error", {}).get("Message") if isinstance(exc, ClientError) else ""
        )
        said = f" ({code}: {message})" if message else f" ({code})"
        text = f"{action} denied{said} — {GRANT}"
    else:
        text = f"{describe(exc, action=action)}; SCPs are unknown, not assumed to deny"
    return " ".join(text.split())  # one line, whatever AWS's message held


def _call(action: str, fn: Callable[..., dict[str, Any]], **params: Any) -> dict[str, Any]:
    try:
        return fn(**params)
    except (ClientError, BotoCoreError) as exc:
        raise ScpReadError(_problem(exc, action)) from exc


def _pages(
    action: str, fn: Callable[..., dict[str, Any]], key: str, **params: Any
) -> Iterator[dict[str, Any]]:
    """Every item of a NextToken listing, page by page; a token repeated would loop forever."""
    seen: set[str] = set()
    token: str | None = None
    while True:
        page = _call(action, fn, **params, **({"NextToken": token} if token else {}))
        yield from page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return
        if token in seen:
            raise ScpReadError(f"{action} returned the same NextToken twice; SCPs are unknown")
        seen.add(token)


def _scp_enabled(root: dict[str, Any]) -> bool:
    return any(
        t.get("Type") == SCP_TYPE and t.get("Status") == "ENABLED"
        for t in root.get("PolicyTypes", [])
    )


def _document(content: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The policy's Content parsed, or None and why not (the raw text is kept beside it)."""
    if not isinstance(content, str):
        return None, f"Content is {type(content).__name__}, not a JSON string"
    try:
        parsed = json.loads(content)
    except ValueError as exc:
        return None, f"Content is not JSON: {exc}"
    if not isinstance(parsed, dict):
        return None, f"Content is a JSON {type(parsed).__name__}, not a policy object"
    return parsed, None


def _policy(org: Any, summary: dict[str, Any]) -> dict[str, Any]:
    policy_id = summary["Id"]
    described = _call("organizations:DescribePolicy", org.describe_policy, PolicyId=policy_id)
    policy = described.get("Policy", {})
    details = policy.get("PolicySummary", summary)
    content = policy.get("Content")
    document, parse_error = _document(content)
    entry: dict[str, Any] = {
        "name": details.get("Name", summary.get("Name")),
        "arn": details.get("Arn", summary.get("Arn")),
        "aws_managed": bool(details.get("AwsManaged", summary.get("AwsManaged", False))),
        "document": document,
        "parse_error": parse_error,
    }
    if parse_error is not None:
        entry["content"] = content  # kept raw, as AWS returned it
    return entry


def chains(found: Discovery) -> dict[str, list[str]]:
    """Each account in scope's levels, root first, from discovery (no call); accounts whose OU
    ids were not recorded (not an organization, a run recorded before they were) have none."""
    return {a.account_id: [*a.ou_ids, a.account_id] for a in found.in_scope if a.ou_ids}


def read_scps(org: Any, found: Discovery) -> dict[str, Any]:
    """The evidence of a collected run; ScpReadError names the call that failed."""
    roots = _call("organizations:ListRoots", org.list_roots).get("Roots", [])
    if not roots:  # an organization always has its root: no answer is no knowledge
        raise ScpReadError("organizations:ListRoots returned no root; SCPs are unknown")
    enabled = any(_scp_enabled(root) for root in roots)
    policies: dict[str, dict[str, Any]] = {}
    attachments: dict[str, list[str]] = {}
    if enabled:
        listed = list(
            _pages("organizations:ListPolicies", org.list_policies, "Policies", Filter=SCP_TYPE)
        )
        for summary in sorted(listed, key=lambda s: s["Id"]):
            policy_id = summary["Id"]
            policies[policy_id] = _policy(org, summary)
            for target in _pages(
                "organizations:ListTargetsForPolicy",
                org.list_targets_for_policy,
                "Targets",
                PolicyId=policy_id,
            ):
                attachments.setdefault(target["TargetId"], []).append(policy_id)
    return {
        "status": COLLECTED,
        "error": None,
        "enabled": enabled,
        "management_account_id": found.management_account_id,
        "policies": policies,
        "attachments": {t: sorted(set(ids)) for t, ids in sorted(attachments.items())},
        "chains": chains(found),
    }


def _not_read(found: Discovery, status: str, error: str | None = None) -> dict[str, Any]:
    return {
        "status": status,
        "error": error,
        "enabled": None,
        "management_account_id": found.management_account_id,
        "policies": {},
        "attachments": {},
        "chains": chains(found),
    }


def collect_scps(
    org: Callable[[], Any], found: Discovery, store: EvidenceStore, *, enabled: bool
) -> ScpOutcome:
    """Write the run's service_control_policies.json; a failure is recorded, never raised.

    `org` makes the caller's Organizations client, called only when the SCPs are read: a run
    whose scope is not an organization, or with `[collection] scps = false`, makes no call."""
    if found.scope != "organization":
        evidence = _not_read(found, NOT_APPLICABLE)
    elif not enabled:
        evidence = _not_read(found, OFF)
    else:
        try:
            evidence = read_scps(org(), found)
        except ScpReadError as exc:
            evidence = _not_read(found, FAILED, str(exc))
    written = store.write_json(None, SCP_FILE, evidence, SCP_KIND)
    return ScpOutcome(evidence["status"], evidence["error"], written)
