"""The AWS source against moto's standalone server, reached only through AWS_ENDPOINT_URL.

Nothing is patched in-process: the pipeline's AWS code path, exactly as it runs against AWS,
sends real HTTP requests to the endpoint the standard AWS configuration names — as it would to
LocalStack. The organization is built through the same endpoint with plain boto3 beforehand.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import duckdb
import pytest

from keyaudit.pipeline import AuditRequest, run_audit
from tests.runs import stub_pdf

ROLE = "OrganizationAccountAccessRole"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _organization(endpoint: str) -> dict[str, list[str]]:
    """A management account with alice (one key) and a member with bob (two active keys)."""
    org = boto3.client("organizations", endpoint_url=endpoint, region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    member = org.create_account(AccountName="member-a", Email="a@example.com")
    member_id = member["CreateAccountStatus"]["AccountId"]
    management = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
    management.create_user(UserName="alice")
    keys = {"alice": [management.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]]}
    credentials = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{member_id}:role/{ROLE}", RoleSessionName="setup"
    )["Credentials"]
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    iam.create_user(UserName="bob")
    keys["bob"] = [iam.create_access_key(UserName="bob")["AccessKey"]["AccessKeyId"] for _ in "ab"]
    return {"member": [member_id], **keys}


@pytest.mark.slow  # a whole run again: make test-slow
def test_aws_run_reads_everything_through_aws_endpoint_url(endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # AWS_REGION alone, as the AWS CLI v2 users set it
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.chdir(tmp_path)
    created = _organization(endpoint)

    request = AuditRequest(
        source="aws",
        as_of=datetime.now(UTC).replace(microsecond=0),
        db=tmp_path / "w.duckdb",
        out=tmp_path / "out",
    )
    with stub_pdf():  # the report's PDF is not under test here
        result = run_audit(request).result

    summary = result.summary
    # moto's credential report has no <root_account> row (every report AWS writes has one), so
    # both accounts are assessed from it but partial: their root controls are not evaluated
    assert (summary.accounts_in_scope, summary.accounts_partial) == (2, 2)
    assert summary.accounts_not_assessed == 0
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        keys = con.execute(
            "select user_name, access_key_id from keys where run_id = ? and not is_root",
            [summary.run_id],
        ).fetchall()
        member_findings = con.execute(
            "select rule_id, user_name from findings where run_id = ? and account_id = ?",
            [summary.run_id, created["member"][0]],
        ).fetchall()
    finally:
        con.close()
    assert sorted(keys) == sorted((user, key) for user in ("alice", "bob") for key in created[user])
    assert ("MULTIPLE_ACTIVE_KEYS", "bob") in member_findings
