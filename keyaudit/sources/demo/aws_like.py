"""botocore event hooks that make moto answer like real AWS where it does not.

moto's credential report lacks the `<root_account>` row, writes `not_supported` where AWS writes
`N/A` and has a fixed GeneratedTime; its GetAccountSummary never shows root keys; and its
AssumeRole succeeds for roles that do not exist. The hooks fix the answers on the client side,
so the collection code under test is exactly the code that runs against AWS.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from moto.iam.models import iam_backends

from keyaudit.sources.demo.personas import ROOT_USER, RootTruth

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S+00:00"
# AWS's sentinels; named so that column names like `password_enabled` read as what they are
NA, NOT_SUPPORTED, NO_INFORMATION, FALSE = "N/A", "not_supported", "no_information", "false"
_CONTEXT_KEY = "keyaudit_demo_role_arn"


def _stamp(moment: datetime | None, missing: str = NA) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT) if moment else missing


def _iam(account_id: str) -> Any:
    return iam_backends[account_id]["global"]


def role_exists(role_arn: str) -> bool:
    """Whether moto's IAM of the ARN's account holds the role (moto's STS does not check)."""
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("role/"):
        return False
    name = parts[5].rsplit("/", 1)[-1]
    return any(role.name == name for role in _iam(parts[4]).roles.values())


def access_denied(caller_arn: str, role_arn: str) -> tuple[AWSResponse, dict[str, Any]]:
    """The (http, parsed) pair botocore turns into ClientError AccessDenied, as STS sends it."""
    message = (
        f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    )
    http = AWSResponse("https://sts.amazonaws.com/", 403, {}, None)
    http._content = b""  # nothing reads the body, but never let it touch a missing stream
    parsed = {
        "Error": {"Type": "Sender", "Code": "AccessDenied", "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 403, "HTTPHeaders": {}},
    }
    return http, parsed


def register_assume_role_check(
    session: boto3.Session, caller_arn: str, exists: Callable[[str], bool] = role_exists
) -> None:
    """Deny AssumeRole on a role that does not exist, as STS does (`exists` asks moto by default)."""

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_CONTEXT_KEY] = params.get("RoleArn", "")

    def check(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        arn = context.get(_CONTEXT_KEY, "")
        return None if exists(arn) else access_denied(caller_arn, arn)

    session.events.register("before-parameter-build.sts.AssumeRole", remember)
    session.events.register("before-call.sts.AssumeRole", check)


def register_account_hooks(
    session: boto3.Session,
    root: RootTruth,
    generated_time: datetime,
    key_usage: KeyUsage | None = None,
    certificates: CertificateUploads | None = None,
) -> None:
    """Credential report and account summary as AWS gives them for this account. `key_usage`
    and `certificates` default to what moto holds in this process; a worker process, whose moto
    is empty, is given them as the organization's process read them."""

    def report(parsed: dict[str, Any], **_: Any) -> None:
        if "Content" in parsed:
            parsed["Content"] = real_credential_report(
                parsed["Content"], root, key_usage, certificates
            )
            parsed["GeneratedTime"] = generated_time

    def summary(parsed: dict[str, Any], **_: Any) -> None:
        found = parsed.get("SummaryMap")
        if found is not None:
            found["AccountAccessKeysPresent"] = int(root.key_created is not None)
            found["AccountMFAEnabled"] = int(root.mfa_active)

    session.events.register("after-call.iam.GetCredentialReport", report)
    session.events.register("after-call.iam.GetAccountSummary", summary)


def root_row(root: RootTruth) -> dict[str, str]:
    has_key = root.key_created is not None
    row = dict.fromkeys(COLUMNS, NA)
    row.update(
        user=ROOT_USER,
        arn=f"arn:aws:iam::{root.account_id}:root",
        user_creation_time=_stamp(root.created),
        password_enabled=NOT_SUPPORTED,
        password_last_used=_stamp(root.password_last_used, NO_INFORMATION),
        password_last_changed=NOT_SUPPORTED,
        password_next_rotation=NOT_SUPPORTED,
        mfa_active=_bool(root.mfa_active),
        access_key_1_active=_bool(has_key),
        access_key_1_last_rotated=_stamp(root.key_created),
        access_key_1_last_used_date=_stamp(root.key_last_used),
        access_key_2_active=FALSE,
        cert_1_active=FALSE,
        cert_2_active=FALSE,
    )
    if root.key_last_used:
        row.update(
            access_key_1_last_used_region=root.key_region,
            access_key_1_last_used_service=root.key_service,
        )
    return row


# user name → (region, service) of each key's last use, None for a key never used
KeyUsage = Mapping[str, tuple[tuple[str, str] | None, ...]]


def moto_key_usage(account_id: str) -> dict[str, tuple[tuple[str, str] | None, ...]]:
    """Each user's keys' last use as moto holds it (read in the process that runs moto)."""
    return {
        name: tuple(
            (getattr(k.last_used, "region", NA), getattr(k.last_used, "service", NA))
            if k.last_used is not None
            else None
            for k in user.access_keys
        )
        for name, user in _iam(account_id).users.items()
    }


CertificateUploads = dict[str, tuple[datetime, ...]]


def moto_certificate_uploads(account_id: str) -> CertificateUploads:
    """Each user's signing certificates' upload times (UTC), in moto's slot order."""
    return {
        name: tuple(c.upload_date.replace(tzinfo=UTC) for c in user.signing_certificates.values())
        for name, user in _iam(account_id).users.items()
    }


def real_credential_report(
    content: bytes,
    root: RootTruth,
    key_usage: KeyUsage | None = None,
    certificates: CertificateUploads | None = None,
) -> bytes:
    """moto's report rewritten into real AWS format: root row first, AWS's sentinels."""
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    usage = moto_key_usage(root.account_id) if key_usage is None else key_usage
    if certificates is None:
        certificates = moto_certificate_uploads(root.account_id)
    fixed = [root_row(root)]
    for row in rows:
        if row["password_enabled"] == FALSE:
            row["password_last_used"] = row["password_last_changed"] = NA
        row["password_next_rotation"] = NA
        keys = usage.get(row["user"], ())
        for slot in (1, 2):
            used = keys[slot - 1] if len(keys) >= slot else None
            if row[f"access_key_{slot}_last_used_date"] == NA or used is None:
                region = service = NA
            else:
                region, service = used
            row[f"access_key_{slot}_last_used_region"] = region
            row[f"access_key_{slot}_last_used_service"] = service
        uploaded = certificates.get(row["user"], ())
        for cert in (1, 2):
            # AWS writes the upload date of each certificate held, moto `N/A`
            held = uploaded[cert - 1] if len(uploaded) >= cert else None
            row[f"cert_{cert}_last_rotated"] = _stamp(held)
        fixed.append(row)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(fixed)
    # real reports come without a trailing newline
    return out.getvalue().rstrip("\n").encode("utf-8")


def _bool(value: bool) -> str:
    return "true" if value else FALSE


# The 22 columns of a real credential report, in order.
COLUMNS = (
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
    "password_last_changed", "password_next_rotation", "mfa_active",
    "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
    "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
)  # fmt: skip
