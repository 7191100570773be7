"""Benchmark: the privilege evaluator on an organization of many accounts and users (issue 19).

Each synthetic account looks like a real one: AWS-managed policies shared by every account
(AdministratorAccess, ReadOnlyAccess, PowerUserAccess-like NotAction, AdministratorAccess-Amplify-
like role writes), a few groups, customer-managed policies, an admin role with a trust policy, SCP
levels (root + OU), and per user 0-3 inline policies, one in five with its own document (so the
evaluator cannot reuse everything), self-service statements with ${aws:username}, Denies, and a
few escalation paths. Target (issue 19): 5,000 accounts, 500,000 users in at most 10 s and 2 GB.

    .venv/bin/python bench/privilege_eval.py [--accounts 5000] [--users 100]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _support import emit

from keyaudit.privilege.account import evaluate_account
from keyaudit.privilege.catalogue import catalogue_version

V = "2012-10-17"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": V, "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


AWS = {
    "AdministratorAccess": doc(allow("*")),
    "ReadOnlyAccess": doc(allow(["s3:Get*", "s3:List*", "ec2:Describe*", "iam:Get*", "iam:List*"])),
    "PowerUserAccess": doc(
        {
            "Effect": "Allow",
            "NotAction": ["iam:*", "organizations:*", "account:*"],
            "Resource": "*",
        },
        allow(["iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles"]),
    ),
    "AmplifyLike": doc(
        allow(
            [
                "iam:CreateRole",
                "iam:AttachRolePolicy",
                "iam:PutRolePolicy",
                "iam:PassRole",
                "sts:AssumeRole",
            ]
        ),
        allow(["cloudformation:*"], "arn:aws:cloudformation:*:*:stack/amplify-*"),
    ),
}


def aws_policies() -> list[dict[str, Any]]:
    return [
        {
            "Policy": {"Arn": f"arn:aws:iam::aws:policy/{name}", "PolicyName": name},
            "PolicyVersion": {"VersionId": "v1", "Document": document},
        }
        for name, document in AWS.items()
    ]


def account_pages(rng: random.Random, account_id: str, users: int) -> list[dict[str, Any]]:
    arn = f"arn:aws:iam::{account_id}"

    def managed(name: str) -> dict[str, str]:
        return {"PolicyName": name, "PolicyArn": f"arn:aws:iam::aws:policy/{name}"}

    groups = [
        {"GroupName": "admins", "Arn": f"{arn}:group/admins", "GroupPolicyList": [], "AttachedManagedPolicies": [managed("AdministratorAccess")]},
        {"GroupName": "readers", "Arn": f"{arn}:group/readers", "GroupPolicyList": [], "AttachedManagedPolicies": [managed("ReadOnlyAccess")]},
        {"GroupName": "devs", "Arn": f"{arn}:group/devs", "GroupPolicyList": [{"PolicyName": "self-service", "PolicyDocument": doc(allow(["iam:CreateAccessKey", "iam:ListAccessKeys"], f"{arn}:user/${{aws:username}}"))}], "AttachedManagedPolicies": [managed("PowerUserAccess")]},
    ]  # fmt: skip
    policies = [
        {
            "PolicyName": "app-deploy",
            "Arn": f"{arn}:policy/app-deploy",
            "PolicyVersionList": [
                {"VersionId": "v2", "IsDefaultVersion": True, "Document": doc(allow(["s3:*", "lambda:*"], "arn:aws:s3:::app-*"))},
                {"VersionId": "v1", "IsDefaultVersion": False, "Document": doc(allow("*"))},
            ],
        }
    ]  # fmt: skip
    roles = [
        {
            "RoleName": "OrganizationAccountAccessRole",
            "Arn": f"{arn}:role/OrganizationAccountAccessRole",
            "AssumeRolePolicyDocument": {"Version": V, "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]},
            "RolePolicyList": [],
            "AttachedManagedPolicies": [managed("AdministratorAccess")],
            "InstanceProfileList": [],
        },
        {
            "RoleName": "ec2-admin",
            "Arn": f"{arn}:role/ec2-admin",
            "AssumeRolePolicyDocument": {"Version": V, "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "RolePolicyList": [],
            "AttachedManagedPolicies": [managed("AdministratorAccess")],
            "InstanceProfileList": [{"InstanceProfileName": "ec2-admin"}],
        },
    ]  # fmt: skip
    user_list = []
    for i in range(users):
        name = f"user-{i:05d}"
        kind = rng.random()
        attached, member, inline = [], [], []
        if kind < 0.05:
            attached.append(managed("AdministratorAccess"))
        elif kind < 0.15:
            member.append("admins")
        elif kind < 0.45:
            member.append("readers")
        elif kind < 0.65:
            member.append("devs")
        elif kind < 0.70:
            attached.append(managed("AmplifyLike"))
        elif kind < 0.75:
            attached.append({"PolicyName": "app-deploy", "PolicyArn": f"{arn}:policy/app-deploy"})
        for j in range(rng.randint(0, 3)):
            if rng.random() < 0.2:  # a document of its own
                body = doc(
                    allow(
                        ["s3:GetObject", f"dynamodb:{rng.choice(['Get', 'Put', 'Query'])}*"],
                        f"arn:aws:s3:::bucket-{i}-{j}/*",
                    )
                )
            elif rng.random() < 0.1:
                body = doc(allow("iam:PassRole", f"{arn}:role/ec2-*"), allow("ec2:RunInstances"))
            elif rng.random() < 0.1:
                body = doc(
                    {
                        "Effect": "Deny",
                        "Action": "iam:*",
                        "Resource": "*",
                        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
                    }
                )
            else:
                body = doc(
                    allow(
                        ["sqs:SendMessage", "sns:Publish"], f"arn:aws:sqs:*:{account_id}:queue-{j}"
                    )
                )
            inline.append({"PolicyName": f"inline-{j}", "PolicyDocument": body})
        user_list.append(
            {
                "UserName": name,
                "UserId": f"AIDA{i:012d}",
                "Arn": f"{arn}:user/{name}",
                "GroupList": member,
                "UserPolicyList": inline,
                "AttachedManagedPolicies": attached,
            }
        )
    return [
        {
            "UserDetailList": user_list,
            "GroupDetailList": groups,
            "RoleDetailList": roles,
            "Policies": policies,
        }
    ]


SCPS = [
    ("r-root", [("SCP FullAWSAccess attached to r-root", doc(allow("*")))]),
    ("ou-prod", [("SCP FullAWSAccess attached to ou-prod", doc(allow("*"))), ("SCP DenyLeaveOrg attached to ou-prod", doc({"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}))]),
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--users", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(19)
    managed = aws_policies()
    print(
        f"evaluating {args.accounts} accounts x {args.users} users of synthetic authorization details …"
    )
    counts: Counter[str] = Counter()
    elapsed = 0.0
    for i in range(
        args.accounts
    ):  # built one at a time: memory is the evaluator's, not the inputs'
        account_id = f"{100000000000 + i:012d}"
        pages = account_pages(rng, account_id, args.users)
        started = time.perf_counter()
        for row in evaluate_account(account_id, pages, managed, SCPS):
            counts[row.privilege] += 1
        elapsed += time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    users = args.accounts * args.users
    print(f"catalogue            {catalogue_version()}")
    print(f"accounts             {args.accounts:,}")
    print(f"users                {users:,}")
    print("by privilege         " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))
    print(
        f"evaluation           {elapsed:.1f} s ({elapsed / users * 1e6:.1f} µs a user; target ≤ 10 s for 500,000)"
    )
    print(f"peak RSS             {rss:,.0f} MB, inputs of one account at a time (target ≤ 2 GB)")
    emit(
        "privilege_eval",
        {
            "accounts": args.accounts,
            "users": users,
            "seconds": round(elapsed, 2),
            "peak_rss_mb": round(rss),
            "by_privilege": dict(counts),
        },
    )


if __name__ == "__main__":
    main()
