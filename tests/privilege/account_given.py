"""Given an account's authorization details, as GetAccountAuthorizationDetails pages them: users,
groups, roles and customer-managed policies built in a few words, then judged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from keyaudit.privilege.account import UserPrivilege, evaluate_account

ACCOUNT = "111122223333"
ARN = f"arn:aws:iam::{ACCOUNT}"
V = "2012-10-17"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": V, "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def trusts(**principal: Any) -> dict[str, Any]:
    return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


AWS_DOCUMENTS = {
    "AdministratorAccess": doc(allow("*")),
    "ReadOnlyAccess": doc(allow(["s3:Get*", "iam:Get*", "iam:List*"])),
    "AWSDenyAll": doc(deny("*")),
    "AWSCompromisedKeyQuarantineV2": doc(
        deny(
            [
                "iam:AttachUserPolicy",
                "iam:CreateAccessKey",
                "iam:PutUserPolicy",
                "iam:PassRole",
                "iam:CreateRole",
            ]
        )
    ),
    "S3GetObjectOnly": doc(allow("s3:GetObject")),
}


def managed(name: str) -> dict[str, str]:
    arn = f"arn:aws:iam::aws:policy/{name}" if name in AWS_DOCUMENTS else f"{ARN}:policy/{name}"
    return {"PolicyName": name, "PolicyArn": arn}


@dataclass
class Given:
    users: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    scps: list[tuple[str, list[tuple[str, Any]]]] | None = None
    key_counts: dict[str, int] | None = None
    passwords: dict[str, bool] | None = None

    def user(
        self,
        name: str,
        *inline: dict[str, Any],
        managed_: tuple[str, ...] = (),
        groups: tuple[str, ...] = (),
        boundary: str | None = None,
    ) -> Given:
        item: dict[str, Any] = {
            "UserName": name,
            "UserId": f"AIDA{name.upper()}",
            "Arn": f"{ARN}:user/{name}",
            "GroupList": list(groups),
            "UserPolicyList": [
                {"PolicyName": f"{name}-inline-{i}", "PolicyDocument": d}
                for i, d in enumerate(inline, 1)
            ],
            "AttachedManagedPolicies": [managed(m) for m in managed_],
        }
        if boundary:
            item["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": managed(boundary)["PolicyArn"],
            }
        self.users.append(item)
        return self

    def group(self, name: str, *inline: dict[str, Any], managed_: tuple[str, ...] = ()) -> Given:
        self.groups.append(
            {
                "GroupName": name,
                "Arn": f"{ARN}:group/{name}",
                "GroupPolicyList": [
                    {"PolicyName": f"{name}-inline-{i}", "PolicyDocument": d}
                    for i, d in enumerate(inline, 1)
                ],
                "AttachedManagedPolicies": [managed(m) for m in managed_],
            }
        )
        return self

    def role(
        self, name: str, trust: dict[str, Any], *, managed_: tuple[str, ...] = (), profiles: int = 0
    ) -> Given:
        self.roles.append(
            {
                "RoleName": name,
                "Arn": f"{ARN}:role/{name}",
                "AssumeRolePolicyDocument": trust,
                "RolePolicyList": [],
                "AttachedManagedPolicies": [managed(m) for m in managed_],
                "InstanceProfileList": [{"InstanceProfileName": name}] * profiles,
            }
        )
        return self

    def policy(self, name: str, default: dict[str, Any], *others: dict[str, Any]) -> Given:
        versions = [{"VersionId": "v1", "IsDefaultVersion": True, "Document": default}]
        versions += [
            {"VersionId": f"v{i}", "IsDefaultVersion": False, "Document": d}
            for i, d in enumerate(others, 2)
        ]
        self.policies.append(
            {"PolicyName": name, "Arn": f"{ARN}:policy/{name}", "PolicyVersionList": versions}
        )
        return self

    def judge(self) -> dict[str, UserPrivilege]:
        pages = [
            {
                "UserDetailList": self.users,
                "GroupDetailList": self.groups,
                "RoleDetailList": self.roles,
                "Policies": self.policies,
            }
        ]
        fetched = [
            {
                "Policy": {"Arn": f"arn:aws:iam::aws:policy/{n}", "PolicyName": n},
                "PolicyVersion": {"VersionId": "v1", "Document": d},
            }
            for n, d in AWS_DOCUMENTS.items()
        ]
        found = evaluate_account(
            ACCOUNT, pages, fetched, self.scps, key_counts=self.key_counts, passwords=self.passwords
        )
        return {f.user_name: f for f in found}

    def privilege_of(self, name: str) -> str:
        return self.judge()[name].privilege

    def reason_of(self, name: str) -> str:
        return self.judge()[name].reason
