"""Collecting the long-term credentials of IAM users besides access keys (issue 22.1): SSH public
keys, service-specific credentials and signing certificates end up in iam_credentials as moto
holds them, from raw evidence listed in the manifests, with the fewest calls; every page is read;
a denied listing leaves the account partial and names the permission; `[collection]
other_credentials = false` makes no call at all."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from keyaudit.config import Config
from keyaudit.sources.aws import credentials
from keyaudit.sources.demo import simulated_organization
from keyaudit.sources.demo.personas import CERTIFICATE, PERSONAS
from keyaudit.warehouse.db import connect
from keyaudit.warehouse.load import _credentials_status
from tests.faults.fault_harness import (
    AuditResult,
    FaultInjector,
    VirtualTime,
    install_virtual_time,
    run_audit,
)

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
CREDENTIAL_CALLS = {
    "iam:ListSSHPublicKeys",
    "iam:ListServiceSpecificCredentials",
    "iam:ListSigningCertificates",
}


@pytest.fixture(scope="module")
def org() -> Iterator[Any]:
    # every persona in every account
    with simulated_organization(AS_OF, members=3, users_per_account=len(PERSONAS)) as org:
        yield org


def assessed(org: Any) -> list[str]:
    return [
        a.account_id
        for a in org.accounts
        if a.state == "ACTIVE" and a.account_id != org.missing_role_account_id
    ]


def rows(result: AuditResult, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    con = connect(result.warehouse, read_only=True)
    try:
        return con.execute(sql, [result.run_id, *params]).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def collected(org: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditResult, Any]:
    """One fault-free run, every call recorded."""
    recorder = FaultInjector()
    with pytest.MonkeyPatch.context() as monkeypatch:
        vt = VirtualTime()
        install_virtual_time(monkeypatch, vt)
        result = run_audit(org, tmp_path_factory.mktemp("creds"), vt=vt, injector=recorder)
    return result, recorder


@pytest.mark.slow  # a whole run again: make test-slow
def test_every_credential_of_every_kind_is_loaded_as_moto_holds_it(org, collected):
    result, _ = collected
    found = set(
        rows(
            result,
            "select account_id, user_name, credential_kind, credential_id, service_name, "
            "status, created_at, expires_at, last_used_at from iam_credentials where run_id = ?",
        )
    )
    wanted = {
        (u.account_id, u.user_name, c.kind, c.credential_id,
         c.service or ("codecommit.amazonaws.com" if c.kind == "ssh_public_key" else None),
         "Active", c.created, c.expires, None)
        for u in org.users
        if u.account_id in assessed(org)
        for c in u.credentials
    }  # fmt: skip
    assert found == wanted
    assert {kind for _, _, kind, *_ in found} == {
        "ssh_public_key",
        "service_specific_credential",
        "signing_certificate",
    }


@pytest.mark.slow  # a whole run again: make test-slow
def test_status_is_collected_and_the_evidence_is_listed_in_the_manifest(org, collected):
    result, _ = collected
    statuses = dict(
        rows(result, "select account_id, credentials_status from accounts where run_id = ?")
    )
    assert {statuses[a] for a in assessed(org)} == {"collected"}
    assert statuses[org.missing_role_account_id] == "not collected"
    assert result.summary.accounts_partial == 0
    for account in assessed(org):
        manifest = json.loads((result.evidence / account / "manifest.json").read_text())
        kinds = {f["path"].split("/")[-1]: f["kind"] for f in manifest["files"]}
        assert kinds[credentials.SSH_KEYS_FILE] == "ssh_public_keys"
        assert kinds[credentials.SERVICE_CREDENTIALS_FILE] == "service_specific_credentials"
        assert kinds[credentials.CERTIFICATES_FILE] == "signing_certificates"
        assert kinds[credentials.OUTCOME_FILE] == "credentials_outcome"
        raw = json.loads(
            (result.evidence / account / credentials.SERVICE_CREDENTIALS_FILE).read_text()
        )
        assert all("ServicePassword" not in c for c in raw)


@pytest.mark.slow  # a whole run again: make test-slow
def test_calls_per_account_are_the_minimum_and_none_is_repeated(org, collected):
    """ListSSHPublicKeys per user, one ListServiceSpecificCredentials, ListSigningCertificates
    only for the users the credential report shows with a certificate."""
    _, recorder = collected
    calls = Counter(recorder.calls)
    for account in assessed(org):
        users = [u for u in org.users if u.account_id == account]
        holders = [u for u in users if any(c.kind == CERTIFICATE for c in u.credentials)]
        assert holders
        assert calls[(account, "iam:ListSSHPublicKeys")] == len(users)
        assert calls[(account, "iam:ListServiceSpecificCredentials")] == 1
        assert calls[(account, "iam:ListSigningCertificates")] == len(holders)


@pytest.mark.slow  # a whole run again: make test-slow
def test_each_kind_gives_its_finding_in_the_run(org, collected):
    result, _ = collected
    rules = {f[0] for f in result.findings}
    assert {
        "SSH_PUBLIC_KEY_NOT_ROTATED",
        "SERVICE_CREDENTIAL_NOT_ROTATED",
        "SIGNING_CERTIFICATE_NOT_ROTATED",
        "BEDROCK_API_KEY_WITHOUT_EXPIRY",
    } <= rules


@pytest.mark.slow  # a whole run again: make test-slow
def test_denied_listing_leaves_the_account_partial_naming_the_permission(org, vt, tmp_path):
    faults = FaultInjector()
    denied = next(a for a in assessed(org) if a != org.management_account_id)
    faults.fail("iam.ListServiceSpecificCredentials", "AccessDenied", accounts=[denied])
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    action = "iam:ListServiceSpecificCredentials"
    assert result.accounts[denied].status == "partial"
    assert result.error(denied) == (
        f"account {denied}: AccessDenied on {action}: User is not authorized to perform: "
        f"{action} because no identity-based policy allows the {action} action — grant {action} "
        "to the audit role; SSH public keys, service-specific credentials and signing "
        "certificates are unknown"
    )
    statuses = dict(
        rows(result, "select account_id, credentials_status from accounts where run_id = ?")
    )
    assert statuses[denied] == "failed"
    assert {result.accounts[a].status for a in assessed(org) if a != denied} == {"assessed"}
    # unknown, never none: the service-credential rule is not evaluated there
    evaluated = rows(
        result,
        "select is_evaluated from rule_coverage where run_id = ? and account_id = ? "
        "and rule_id = 'BEDROCK_API_KEY_WITHOUT_EXPIRY'",
        denied,
    )
    assert evaluated == [(False,)]
    assert not (result.evidence / denied / credentials.SERVICE_CREDENTIALS_FILE).exists()


@pytest.mark.slow  # a whole run again: make test-slow
def test_switched_off_makes_no_credential_call_and_no_account_partial(org, vt, tmp_path):
    recorder = FaultInjector()
    config = Config.model_validate({"collection": {"other_credentials": False}})
    result = run_audit(org, tmp_path, vt=vt, injector=recorder, config=config)
    assert {call for _, call in recorder.calls} & CREDENTIAL_CALLS == set()
    assert {call for _, call in recorder.calls} >= {"iam:ListUsers", "iam:GetAccountSummary"}
    assert result.summary.accounts_partial == 0
    statuses = dict(
        rows(result, "select account_id, credentials_status from accounts where run_id = ?")
    )
    assert {statuses[a] for a in assessed(org)} == {"off"}
    assert not rows(result, "select * from iam_credentials where run_id = ?")
    footprint = rows(
        result,
        "select count_active_ssh_public_keys, count_active_service_credentials "
        "from key_footprint where run_id = ? and account_id = ?",
        assessed(org)[0],
    )
    assert footprint == [(None, None)]  # unknown, never zero


def test_evidence_without_a_credentials_outcome_is_not_collected(tmp_path: Path):
    """A folder of files (or evidence from before version 16) says nothing of these credentials."""
    assert _credentials_status(tmp_path) == {
        "credentials_status": "not collected",
        "credentials_error": None,
    }


# --- paging -----------------------------------------------------------------------------------


def stubbed_iam() -> tuple[Any, Stubber]:
    iam = boto3.client(
        "iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return iam, Stubber(iam)


def test_ssh_public_keys_are_read_from_every_page():
    iam, stub = stubbed_iam()
    uploaded = datetime(2025, 1, 2, tzinfo=UTC)
    key = {"UserName": "ana", "Status": "Active", "UploadDate": uploaded}
    stub.add_response(
        "list_ssh_public_keys",
        {
            "SSHPublicKeys": [{**key, "SSHPublicKeyId": "APKA" + "1" * 16}],
            "IsTruncated": True,
            "Marker": "m",
        },
        {"UserName": "ana"},
    )
    stub.add_response(
        "list_ssh_public_keys",
        {"SSHPublicKeys": [{**key, "SSHPublicKeyId": "APKA" + "2" * 16}], "IsTruncated": False},
        {"UserName": "ana", "Marker": "m"},
    )
    with stub:
        found = credentials.ssh_public_keys(iam, "ana")
    assert [k["SSHPublicKeyId"] for k in found] == ["APKA" + "1" * 16, "APKA" + "2" * 16]
    stub.assert_no_pending_responses()


def test_service_specific_credentials_are_read_from_every_page_of_all_users():
    iam, stub = stubbed_iam()
    made = datetime(2025, 1, 2, tzinfo=UTC)

    def credential(n: int) -> dict[str, Any]:
        return {
            "UserName": f"u{n}",
            "Status": "Active",
            "CreateDate": made,
            "ServiceSpecificCredentialId": f"ACCA{n:020d}",
            "ServiceName": "codecommit.amazonaws.com",
        }

    stub.add_response(
        "list_service_specific_credentials",
        {"ServiceSpecificCredentials": [credential(1)], "IsTruncated": True, "Marker": "m"},
        {"AllUsers": True, "MaxItems": 100},
    )
    stub.add_response(
        "list_service_specific_credentials",
        {"ServiceSpecificCredentials": [credential(2)], "IsTruncated": False},
        {"AllUsers": True, "MaxItems": 100, "Marker": "m"},
    )
    with stub:
        found = credentials.service_specific_credentials(iam)
    assert [c["UserName"] for c in found] == ["u1", "u2"]
    stub.assert_no_pending_responses()
