"""The long-term credentials of IAM users besides access keys and passwords, as raw evidence:
SSH public keys (CodeCommit), service-specific credentials (CodeCommit, Amazon Keyspaces, Amazon
Bedrock API keys) and X.509 signing certificates.

The calls are chosen to keep their number low (bench/api_calls.py counts them):
- service-specific credentials: one ListServiceSpecificCredentials with AllUsers and no
  ServiceName lists every user's credentials of every service (pages of 100; botocore has no
  paginator for it, so Marker/IsTruncated are followed here). That is how the IAM API Reference
  reads (AllUsers: every user; no ServiceName: every service); it has not been seen against live
  AWS yet, and should AWS refuse it, the account is partial with AWS's answer, never clean;
- signing certificates: the credential report's cert_1/cert_2 columns show who holds one, so
  ListSigningCertificates (for the ids) is called only for those users, plus users created after
  the report;
- SSH public keys: nothing account-wide lists them and neither the credential report nor the
  authorization details show who holds one, so ListSSHPublicKeys is called for every user.
None of these calls reports last use. A failure is returned, never raised: the account is then
partial with the reason, and its credentials are unknown, never none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keyaudit.evidence.store import EvidenceFile, EvidenceStore
from keyaudit.model import ROOT_USER
from keyaudit.sources.aws.errors import CollectionError, checked_call
from keyaudit.sources.credential_report import ParsedReport

SSH_KEYS_FILE = "ssh_public_keys.json"
SERVICE_CREDENTIALS_FILE = "service_specific_credentials.json"
CERTIFICATES_FILE = "signing_certificates.json"
OUTCOME_FILE = "credentials.json"
# accounts.credentials_status, as for privilege (keyaudit.sources.aws.privilege)
COLLECTED, OFF, FAILED, NOT_COLLECTED = "collected", "off", "failed", "not collected"
PAGE = 100  # MaxItems asked of ListServiceSpecificCredentials (its default)


@dataclass(frozen=True)
class CredentialsOutcome:
    status: str  # COLLECTED | OFF | FAILED
    error: str | None = None


def _paged(iam: Any, operation: str, result_key: str, **kwargs: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in iam.get_paginator(operation).paginate(**kwargs):
        found.extend(page[result_key])
    return found


def ssh_public_keys(iam: Any, user_name: str) -> list[dict[str, Any]]:
    """The user's SSH public keys (ListSSHPublicKeys, every page): id, status, upload date."""
    return checked_call(
        "iam:ListSSHPublicKeys",
        _paged,
        iam=iam,
        operation="list_ssh_public_keys",
        result_key="SSHPublicKeys",
        UserName=user_name,
    )


def signing_certificates(iam: Any, user_name: str) -> list[dict[str, Any]]:
    """The user's signing certificates (ListSigningCertificates), bodies (public) included."""
    return checked_call(
        "iam:ListSigningCertificates",
        _paged,
        iam=iam,
        operation="list_signing_certificates",
        result_key="Certificates",
        UserName=user_name,
    )


def service_specific_credentials(iam: Any) -> list[dict[str, Any]]:
    """Every user's service-specific credentials of every service, every page."""

    def pages() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        marker: str | None = None
        while True:
            args: dict[str, Any] = {"AllUsers": True, "MaxItems": PAGE}
            if marker:
                args["Marker"] = marker
            page = iam.list_service_specific_credentials(**args)
            found.extend(page.get("ServiceSpecificCredentials", []))
            marker = page.get("Marker") if page.get("IsTruncated") else None
            if not marker:
                return found

    return checked_call("iam:ListServiceSpecificCredentials", pages)


def report_holders(report: ParsedReport, live_users: list[dict[str, Any]], holds: Any) -> list[str]:
    """Users the report shows holding something (`holds`: a mask over its rows), plus users
    created after the report (it can be 4 hours old); never root (it has no user name)."""
    rows = report.rows
    wanted = {u for u in rows[holds]["user"] if u != ROOT_USER}
    in_report = set(rows["user"])
    wanted |= {u["UserName"] for u in live_users if u["UserName"] not in in_report}
    return sorted(wanted)


def users_with_certificates(report: ParsedReport, live_users: list[dict[str, Any]]) -> list[str]:
    """Users whose signing certificates must be listed: the report shows a certificate (active,
    or with a date in a slot), or the user is newer than the report."""
    rows = report.rows
    holds = (
        (rows["cert_1_active"] == "true")
        | (rows["cert_2_active"] == "true")
        | (rows["cert_1_last_rotated"] != "N/A")
        | (rows["cert_2_last_rotated"] != "N/A")
    )
    return report_holders(report, live_users, holds)


def collect_credentials(
    iam: Any,
    account_id: str,
    store: EvidenceStore,
    files: list[EvidenceFile],
    *,
    report: ParsedReport,
    users: list[dict[str, Any]] | None,
    enabled: bool,
    users_problem: str | None = None,
) -> CredentialsOutcome:
    """Collect the account's other long-term credentials into the store; `users` is the
    ListUsers answer (None when it failed, with `users_problem` saying why)."""
    if not enabled:
        outcome = CredentialsOutcome(OFF)
    elif users is None:
        outcome = CredentialsOutcome(FAILED, _unknown(users_problem or "users were not listed"))
    else:
        try:
            names = [u["UserName"] for u in users]
            ssh = [key for name in names for key in ssh_public_keys(iam, name)]
            files.append(store.write_json(account_id, SSH_KEYS_FILE, ssh, "ssh_public_keys"))
            service = service_specific_credentials(iam)
            files.append(
                store.write_json(
                    account_id, SERVICE_CREDENTIALS_FILE, service, "service_specific_credentials"
                )
            )
            certificates = [
                cert
                for name in users_with_certificates(report, users)
                for cert in signing_certificates(iam, name)
            ]
            files.append(
                store.write_json(
                    account_id, CERTIFICATES_FILE, certificates, "signing_certificates"
                )
            )
            outcome = CredentialsOutcome(COLLECTED)
        except CollectionError as exc:
            outcome = CredentialsOutcome(FAILED, _unknown(str(exc)))
    files.append(
        store.write_json(
            account_id,
            OUTCOME_FILE,
            {"status": outcome.status, "error": outcome.error},
            "credentials_outcome",
        )
    )
    return outcome


def _unknown(problem: str) -> str:
    return (
        f"{problem}; SSH public keys, service-specific credentials and signing certificates "
        "are unknown"
    )


def credential_rows(folder_files: dict[str, Any]) -> list[dict[str, Any]]:
    """iam_credentials rows (without run and account) from the three evidence files' contents
    ({file name: parsed JSON}; a file missing is absent)."""
    found: list[dict[str, Any]] = []
    for key in folder_files.get(SSH_KEYS_FILE) or []:
        found.append(
            {
                "user_name": key["UserName"],
                "credential_kind": "ssh_public_key",
                "credential_id": key["SSHPublicKeyId"],
                "service_name": "codecommit.amazonaws.com",
                "status": key["Status"],
                "created_at": key.get("UploadDate"),
                "expires_at": None,
            }
        )
    for cred in folder_files.get(SERVICE_CREDENTIALS_FILE) or []:
        found.append(
            {
                "user_name": cred["UserName"],
                "credential_kind": "service_specific_credential",
                "credential_id": cred["ServiceSpecificCredentialId"],
                "service_name": cred.get("ServiceName"),
                "status": cred["Status"],
                "created_at": cred.get("CreateDate"),
                "expires_at": cred.get("ExpirationDate"),
            }
        )
    for cert in folder_files.get(CERTIFICATES_FILE) or []:
        found.append(
            {
                "user_name": cert["UserName"],
                "credential_kind": "signing_certificate",
                "credential_id": cert["CertificateId"],
                "service_name": None,
                "status": cert["Status"],
                "created_at": cert.get("UploadDate"),
                "expires_at": None,
            }
        )
    return found
