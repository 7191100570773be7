"""Two ways to collect the permissions of IAM users, measured in calls and bytes (issue 15.2).

One account in moto with N users shaped like a real one: ten team groups (each with an
AWS-managed policy and an inline policy), every user in one group and every third in a second,
every fourth user with an inline policy, every fifth with one of five customer-managed policies,
every twentieth with AdministratorAccess attached directly. Then:

- details: GetAccountAuthorizationDetails (User, Group, LocalManagedPolicy) + GetPolicy and
  GetPolicyVersion per distinct AWS-managed policy held: what keyaudit does
  (keyaudit/sources/aws/privilege.py). moto answers in one page; AWS pages at 100 entities, so
  the calls counted for AWS are ceil((users + groups + policies) / 100) pages.
- per user: GetUser (the boundary; ListUsers leaves it out), ListAttachedUserPolicies,
  ListUserPolicies + GetUserPolicy each, ListGroupsForUser; per distinct group
  ListAttachedGroupPolicies, ListGroupPolicies + GetGroupPolicy each; per distinct managed policy
  GetPolicy + GetPolicyVersion. ListUsers is left out: the key inventory pays it already.

The AWS-managed documents could also come from the listing itself (Filter AWSManagedPolicy):
its bytes are measured too, one call. moto returns the AWS-managed policies its account holds
(here the two installed ones); what AWS returns for that filter is not documented to be only the
policies in use, so keyaudit fetches exactly those held, by ARN.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from typing import Any

import boto3
from _support import Stopwatch, table
from moto import mock_aws

from keyaudit.sources.aws.privilege import (
    DETAILS_FILTER,
    authorization_details,
    aws_managed_arns,
    aws_managed_policy,
)
from keyaudit.sources.demo.iam import aws_managed_arn, install_aws_managed_policies

GROUPS, CUSTOMER_POLICIES = 10, 5


def _document(action: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
        }
    )


class Meter:
    """Calls per operation and response bytes of one client."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.bytes = 0
        client.meta.events.register("after-call.iam", self._count)

    def _count(self, http_response: Any, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        self.bytes += len(http_response.content or b"")


def build_account(iam: Any, users: int) -> int:
    """The account described above; returns its entity count (users + groups + policies)."""
    account = boto3.client("sts", region_name="us-east-1").get_caller_identity()["Account"]
    install_aws_managed_policies(account)
    for g in range(GROUPS):
        name = f"team-{g}"
        iam.create_group(GroupName=name)
        held = "AdministratorAccess" if g == 0 else "ReadOnlyAccess"
        iam.attach_group_policy(GroupName=name, PolicyArn=aws_managed_arn(held))
        iam.put_group_policy(GroupName=name, PolicyName="team", PolicyDocument=_document("s3:*"))
    customer = [
        iam.create_policy(PolicyName=f"app-{p}", PolicyDocument=_document(f"sqs:Send{p}"))[
            "Policy"
        ]["Arn"]
        for p in range(CUSTOMER_POLICIES)
    ]
    for i in range(users):
        name = f"user-{i:05d}"
        iam.create_user(UserName=name)
        iam.add_user_to_group(GroupName=f"team-{i % GROUPS}", UserName=name)
        if i % 3 == 0:
            iam.add_user_to_group(GroupName=f"team-{(i + 1) % GROUPS}", UserName=name)
        if i % 4 == 0:
            iam.put_user_policy(UserName=name, PolicyName="own", PolicyDocument=_document("ec2:*"))
        if i % 5 == 0:
            iam.attach_user_policy(UserName=name, PolicyArn=customer[i % CUSTOMER_POLICIES])
        if i % 20 == 0:
            iam.attach_user_policy(UserName=name, PolicyArn=aws_managed_arn("AdministratorAccess"))
    return users + GROUPS + CUSTOMER_POLICIES


def by_details(iam: Any) -> None:
    pages = authorization_details(iam)
    for arn in aws_managed_arns(pages):
        aws_managed_policy(iam, arn)


def per_user(iam: Any, user_names: list[str]) -> None:
    groups: set[str] = set()
    managed: set[str] = set()
    for user in user_names:
        iam.get_user(UserName=user)
        attached = iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
        managed |= {a["PolicyArn"] for a in attached}
        for policy in iam.list_user_policies(UserName=user)["PolicyNames"]:
            iam.get_user_policy(UserName=user, PolicyName=policy)
        groups |= {g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]}
    for group in sorted(groups):
        attached = iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"]
        managed |= {a["PolicyArn"] for a in attached}
        for policy in iam.list_group_policies(GroupName=group)["PolicyNames"]:
            iam.get_group_policy(GroupName=group, PolicyName=policy)
    for arn in sorted(managed):
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        iam.get_policy_version(PolicyArn=arn, VersionId=version)


def measure(users: int) -> dict[str, Any]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        entities = build_account(iam, users)
        names = [f"user-{i:05d}" for i in range(users)]
        results: dict[str, Any] = {"users": users, "entities": entities}
        for method, run in (
            ("details", lambda c: by_details(c)),
            ("per_user", lambda c: per_user(c, names)),
        ):
            client = boto3.client("iam", region_name="us-east-1")
            meter = Meter(client)
            with Stopwatch() as watch:
                run(client)
            calls = sum(meter.calls.values())
            if method == "details":  # AWS pages what moto answers at once
                calls += math.ceil(entities / 100) - meter.calls["GetAccountAuthorizationDetails"]
            results[method] = {
                "calls": calls,
                "bytes": meter.bytes,
                "by_operation": dict(meter.calls),
                "moto_seconds": round(watch.wall, 2),
            }
        client = boto3.client("iam", region_name="us-east-1")
        meter = Meter(client)
        client.get_account_authorization_details(Filter=["AWSManagedPolicy"])
        results["aws_managed_filter_bytes"] = meter.bytes  # every AWS-managed policy (moto)
    return results


def compare(sizes: list[int]) -> list[dict[str, Any]]:
    """Measure each size, print the table, return the figures."""
    measured = [measure(n) for n in sizes]
    rows = [
        [
            m["users"],
            m["details"]["calls"],
            f"{m['details']['bytes']:,}",
            m["per_user"]["calls"],
            f"{m['per_user']['bytes']:,}",
            f"{m['aws_managed_filter_bytes']:,}",
        ]
        for m in measured
    ]
    print(
        "\nuser permissions, one account: GetAccountAuthorizationDetails "
        f"(Filter {', '.join(DETAILS_FILTER)}; AWS pages at 100 entities) + GetPolicy/"
        "GetPolicyVersion per AWS-managed policy held, against listing user by user"
    )
    print(
        table(
            rows,
            [
                "users",
                "details calls",
                "details bytes",
                "per-user calls",
                "per-user bytes",
                "AWSManagedPolicy listing bytes",
            ],
        )
    )
    return measured
