"""The permissions attached to IAM users and roles, as raw evidence and as rows.

One GetAccountAuthorizationDetails listing (Filter User, Group, Role, LocalManagedPolicy; about
100 entities a page) gives every user with its inline policies, attached managed policies, groups
and permissions boundary, every group with its policies, every role with its policies, trust
policy, boundary and instance profiles (escalation paths to an administrator role need them), and
every customer-managed policy with all its versions. AWS-managed policy documents are not in it:
GetPolicy (its default version) and GetPolicyVersion are called once per distinct AWS-managed
policy that a user, group or role holds or that bounds one of them. bench/api_calls.py measures this against listing user by user (ListAttached-
UserPolicies, ListUserPolicies + GetUserPolicy, ListGroupsForUser, …): a few calls per account
instead of four and more per user.

All users are collected, with keys or not: the listing cannot be narrowed to some users, and an
administrator without keys is still an administrator.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from keyaudit.evidence.store import EvidenceFile, EvidenceStore
from keyaudit.sources.aws.errors import CollectionError, checked_call

DETAILS_FILTER = ("User", "Group", "Role", "LocalManagedPolicy")
DETAILS_FILE = "authorization_details.json"
AWS_POLICIES_FILE = "aws_managed_policies.json"
OUTCOME_FILE = "privilege.json"
# accounts.privilege_status
COLLECTED, OFF, FAILED, NOT_COLLECTED = "collected", "off", "failed", "not collected"


@dataclass(frozen=True)
class PrivilegeOutcome:
    status: str  # COLLECTED | OFF | FAILED
    error: str | None = None


def authorization_details(iam: Any) -> list[dict[str, Any]]:
    """Every page of GetAccountAuthorizationDetails for users, groups and local policies."""

    def pages() -> list[dict[str, Any]]:
        paginator = iam.get_paginator("get_account_authorization_details")
        return [
            {k: v for k, v in page.items() if k != "ResponseMetadata"}
            for page in paginator.paginate(Filter=list(DETAILS_FILTER))
        ]

    return list(checked_call("iam:GetAccountAuthorizationDetails", pages))


def is_aws_managed(arn: str) -> bool:
    parts = arn.split(":")
    return len(parts) > 4 and parts[4] == "aws"


def aws_managed_arns(pages: list[dict[str, Any]]) -> list[str]:
    """The distinct AWS-managed policies a user, group or role holds, or that bounds a user or
    role (every group counts: a user who may join it gets its policies)."""
    holders = [
        h
        for p in pages
        for key in ("UserDetailList", "GroupDetailList", "RoleDetailList")
        for h in p.get(key, []) or []
    ]
    arns = {a["PolicyArn"] for h in holders for a in h.get("AttachedManagedPolicies", []) or []}
    arns |= {
        h["PermissionsBoundary"]["PermissionsBoundaryArn"]
        for h in holders
        if (h.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    }
    return sorted(a for a in arns if is_aws_managed(a))


def aws_managed_policy(iam: Any, arn: str) -> dict[str, Any]:
    """An AWS-managed policy and its default version (GetPolicy, then GetPolicyVersion)."""
    policy = checked_call("iam:GetPolicy", iam.get_policy, PolicyArn=arn)["Policy"]
    version = checked_call(
        "iam:GetPolicyVersion",
        iam.get_policy_version,
        PolicyArn=arn,
        VersionId=policy["DefaultVersionId"],
    )["PolicyVersion"]
    return {"Policy": policy, "PolicyVersion": version}


def collect_privilege(
    iam: Any, account_id: str, store: EvidenceStore, files: list[EvidenceFile], *, enabled: bool
) -> PrivilegeOutcome:
    """Collect the account's user permissions into the store; a failure is returned, not raised."""
    if not enabled:
        outcome = PrivilegeOutcome(OFF)
    else:
        try:
            pages = authorization_details(iam)
            files.append(store.write_json(account_id, DETAILS_FILE, pages, "authorization_details"))
            policies = [aws_managed_policy(iam, arn) for arn in aws_managed_arns(pages)]
            files.append(
                store.write_json(account_id, AWS_POLICIES_FILE, policies, "aws_managed_policies")
            )
            outcome = PrivilegeOutcome(COLLECTED)
        except CollectionError as exc:
            outcome = PrivilegeOutcome(FAILED, f"{exc}; user privilege is unknown")
    files.append(
        store.write_json(
            account_id,
            OUTCOME_FILE,
            {"status": outcome.status, "error": outcome.error},
            "privilege_outcome",
        )
    )
    return outcome


def _document(raw: Any) -> str | None:
    """A policy document as JSON text (boto3 decodes them; a URL-encoded string is decoded here).
    Text that is not JSON is kept as a JSON string: what AWS answered stays visible, and the
    evaluator calls the policy's holder `unknown` (keyaudit.privilege.documents)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(unquote(raw))
        except json.JSONDecodeError:
            return json.dumps(raw)
    return json.dumps(raw, sort_keys=True)


def _default_document(policy: dict[str, Any]) -> Any:
    for version in policy.get("PolicyVersionList", []):
        if version.get("IsDefaultVersion"):
            return version.get("Document")
    return None


def user_privilege_rows(
    pages: list[dict[str, Any]], aws_policies: Iterable[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(iam_user_policies rows, iam_user_privilege_inputs rows) of one account, without ids."""
    documents = {p["Arn"]: _default_document(p) for page in pages for p in page.get("Policies", [])}
    documents.update({p["Policy"]["Arn"]: p["PolicyVersion"].get("Document") for p in aws_policies})
    groups = {g["GroupName"]: g for page in pages for g in page.get("GroupDetailList", [])}

    def policies(holder: dict[str, Any], inline_key: str, via: dict[str, Any]) -> list[dict]:
        rows = [
            {
                **via,
                "policy_type": "inline",
                "policy_name": p["PolicyName"],
                "policy_arn": None,
                "document": _document(p.get("PolicyDocument")),
            }
            for p in holder.get(inline_key, [])
        ]
        rows += [
            {
                **via,
                "policy_type": "managed",
                "policy_name": p["PolicyName"],
                "policy_arn": p["PolicyArn"],
                "document": _document(documents.get(p["PolicyArn"])),
            }
            for p in holder.get("AttachedManagedPolicies", [])
        ]
        return rows

    policy_rows: list[dict[str, Any]] = []
    inputs: list[dict[str, Any]] = []
    for user in (u for page in pages for u in page.get("UserDetailList", [])):
        name = user["UserName"]
        boundary = (user.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        inputs.append({"user_name": name, "permissions_boundary_arn": boundary})
        policy_rows += policies(
            user, "UserPolicyList", {"user_name": name, "via": "user", "group_name": None}
        )
        for group_name in user.get("GroupList", []):
            via = {"user_name": name, "via": "group", "group_name": group_name}
            policy_rows += policies(groups.get(group_name, {}), "GroupPolicyList", via)
    return policy_rows, inputs


def user_tag_rows(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every tag of every user in the authorization details (user_name, tag_key, tag_value): the
    owner tag and the keys' descriptions (a tag keyed by the access key id) among them."""
    return [
        {"user_name": user["UserName"], "tag_key": tag["Key"], "tag_value": tag.get("Value", "")}
        for page in pages
        for user in page.get("UserDetailList", [])
        for tag in user.get("Tags", []) or []
    ]
