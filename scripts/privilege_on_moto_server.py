"""Build an organization of privilege cases on moto's standalone server, audit it with
`keyaudit run` exactly as a newcomer audits AWS (only AWS_ENDPOINT_URL and dummy credentials
differ), then compare each user's privilege and reason with what AWS's evaluation logic says.

Nothing is patched: the server listens on 127.0.0.1, the organization is built through it with
plain boto3 calls, and `keyaudit run` is a separate process. Where moto cannot build a case, the
evaluator's unit tests cover it (tests/privilege): moto 5.2 has no PutUserPermissionsBoundary,
and its policy validator refuses the IAM resource `arn:aws:iam::*:*` that AWS accepts.

    .venv/bin/python scripts/privilege_on_moto_server.py [--keep DIR]

Exit status 0 when every user is judged as expected.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# moto creates AWS-managed policies (AdministratorAccess, AWSDenyAll, ...) only when told; the
# builder's own boto3 calls carry moto's dummy credentials, like the audit's below
os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
DUMMY = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

import boto3  # noqa: E402 (moto reads the variable above when it loads)
import duckdb  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

REGION = "us-east-1"
ROLE = "OrganizationAccountAccessRole"
V = "2012-10-17"


def aws(name: str) -> str:
    return f"arn:aws:iam::aws:policy/{name}"


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {
        "Version": V,
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **extra}],
    }


MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
# user -> (how it is built, the privilege AWS's evaluation logic gives it)
MANAGEMENT_USERS: dict[str, tuple[dict[str, Any], str]] = {
    "admin-direct": ({"managed": ["AdministratorAccess"]}, "admin"),
    "admin-group": ({"groups": ["admins"]}, "admin"),
    "admin-not-resource": (
        {
            "inline": {
                "Version": V,
                "Statement": [
                    {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::audit-logs"}
                ],
            }
        },
        "admin",
    ),
    "admin-conditional": ({"inline": allow("iam:*", Condition=MFA)}, "admin"),
    "admin-denied": ({"managed": ["AdministratorAccess", "AWSDenyAll"]}, "other"),
    "self-attach": (
        {"inline": allow("iam:AttachUserPolicy", "arn:aws:iam::*:user/${aws:username}")},
        "escalation",
    ),
    "key-minter": ({"inline": allow("iam:CreateAccessKey")}, "escalation"),
    "role-passer": (
        {
            "inline": {
                "Version": V,
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "iam:PassRole",
                        "Resource": "arn:aws:iam::*:role/ec2-admin",
                    },
                    {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"},
                ],
            }
        },
        "escalation",
    ),
    "trust-rewriter": (
        {
            "inline": allow(
                ["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"], "arn:aws:iam::*:role/ops-admin"
            )
        },
        "escalation",
    ),
    "amplify": ({"managed": ["AdministratorAccess-Amplify"]}, "escalation"),
    "joiner": (
        {"inline": allow("iam:AddUserToGroup", "arn:aws:iam::*:group/admins")},
        "escalation",
    ),
    "reader": ({"managed": ["ReadOnlyAccess"]}, "other"),
    "quarantined": ({"managed": ["ReadOnlyAccess", "AWSCompromisedKeyQuarantineV2"]}, "other"),
}
# a member account below an OU whose SCP denies iam:*: its administrator is none
SANDBOX_USERS: dict[str, tuple[dict[str, Any], str]] = {
    "sandbox-admin": ({"managed": ["AdministratorAccess"]}, "other"),
    "sandbox-minter": ({"inline": allow("iam:CreateAccessKey")}, "other"),
}


def client(endpoint: str, service: str, credentials: dict[str, str] | None = None) -> Any:
    extra = dict(DUMMY)
    if credentials:
        extra = {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, **extra)


def admin_role(
    iam: Any, name: str, trusted: dict[str, str], *, instance_profile: bool = False
) -> None:
    """A role with AdministratorAccess that trusts `trusted` (a service, another account)."""
    trust = {
        "Version": V,
        "Statement": [{"Effect": "Allow", "Principal": trusted, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName=name, PolicyArn=aws("AdministratorAccess"))
    if instance_profile:
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)


def make_users(iam: Any, users: dict[str, tuple[dict[str, Any], str]]) -> None:
    iam.create_group(GroupName="admins")
    iam.attach_group_policy(GroupName="admins", PolicyArn=aws("AdministratorAccess"))
    admin_role(iam, "ec2-admin", {"Service": "ec2.amazonaws.com"}, instance_profile=True)
    admin_role(iam, "ops-admin", {"AWS": "arn:aws:iam::999999999999:root"})
    for name, (spec, _) in users.items():
        iam.create_user(UserName=name)
        for policy in spec.get("managed", []):
            iam.attach_user_policy(UserName=name, PolicyArn=aws(policy))
        for group in spec.get("groups", []):
            iam.add_user_to_group(GroupName=group, UserName=name)
        if "inline" in spec:
            iam.put_user_policy(
                UserName=name, PolicyName="inline", PolicyDocument=json.dumps(spec["inline"])
            )
        iam.create_access_key(UserName=name)


def build(endpoint: str) -> dict[str, str]:
    """The organization: the management account's users, and a Sandbox member under an SCP."""
    org = client(endpoint, "organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    sandbox = org.create_organizational_unit(ParentId=root, Name="Sandbox")["OrganizationalUnit"][
        "Id"
    ]
    deny_iam = {
        "Version": V,
        "Statement": [{"Sid": "DenyIAM", "Effect": "Deny", "Action": "iam:*", "Resource": "*"}],
    }
    policy = org.create_policy(
        Name="DenyIAM",
        Description="no IAM in the sandbox",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(deny_iam),
    )
    org.attach_policy(PolicyId=policy["Policy"]["PolicySummary"]["Id"], TargetId=sandbox)
    member = org.create_account(AccountName="sandbox", Email="sandbox@example.com")
    member_id = member["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=member_id, SourceParentId=root, DestinationParentId=sandbox)
    make_users(client(endpoint, "iam"), MANAGEMENT_USERS)
    credentials = client(endpoint, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{member_id}:role/{ROLE}", RoleSessionName="setup"
    )["Credentials"]
    make_users(client(endpoint, "iam", credentials), SANDBOX_USERS)
    return {"sandbox": member_id}


def audit(endpoint: str, folder: Path) -> Path:
    """`keyaudit run` in its own process, configured only as for AWS."""
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "HOME": str(folder),
    }
    env.pop("AWS_PROFILE", None)
    env.pop("PREFECT_API_URL", None)
    database = folder / "keyaudit.duckdb"
    keyaudit = Path(sys.executable).with_name("keyaudit")
    command = [str(keyaudit), "run", "--db", str(database), "--out", str(folder / "report")]
    done = subprocess.run(  # noqa: S603 (our own keyaudit, fixed arguments)
        command, env=env, cwd=folder, capture_output=True, text=True, timeout=600
    )
    print(done.stdout[-1500:])
    if done.returncode not in (0, 1):  # 1: findings or an incomplete run, still a report
        print(done.stderr, file=sys.stderr)
        raise SystemExit(f"keyaudit run failed with exit status {done.returncode}")
    return database


def compare(database: Path) -> int:
    expected = {**MANAGEMENT_USERS, **SANDBOX_USERS}
    con = duckdb.connect(str(database), read_only=True)
    found = {
        user: (privilege, reason)
        for user, privilege, reason in con.execute(
            "select user_name, privilege, privilege_reason from users "
            "where run_id = (select max(run_id) from runs) and not is_root"
        ).fetchall()
    }
    quarantined = {
        row[0]
        for row in con.execute(
            "select user_name from findings where rule_id = 'ACCESS_KEY_QUARANTINED'"
        ).fetchall()
    }
    wrong = 0
    print(f"{'user':20} {'expected':11} {'found':11} reason")
    for user, (_, want) in expected.items():
        got, reason = found.get(user, ("missing", ""))
        mark = "" if got == want else "   <-- WRONG"
        wrong += got != want
        print(f"{user:20} {want:11} {got:11} {reason[:110]}{mark}")
    if quarantined != {"quarantined"}:
        print(f"ACCESS_KEY_QUARANTINED fired for {sorted(quarantined)}, expected ['quarantined']")
        wrong += 1
    print(f"{len(expected) - wrong} of {len(expected)} users as AWS's evaluation logic says")
    return wrong


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", type=Path, help="keep the warehouse and report in this folder")
    args = parser.parse_args()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        build(endpoint)
        folder = args.keep or Path(tempfile.mkdtemp(prefix="keyaudit-moto-"))
        folder.mkdir(parents=True, exist_ok=True)
        wrong = compare(audit(endpoint, folder))
        print(f"warehouse and report in {folder}")
    finally:
        server.stop()
    raise SystemExit(1 if wrong else 0)


if __name__ == "__main__":
    main()
