"""S3 delivery against moto: object keys by month, server-side encryption, content, retries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from keyaudit.config import Config
from keyaudit.delivery.dispatch import prepare_delivery, send_delivery
from keyaudit.delivery.messages import s3_key
from keyaudit.rules.catalogue import load_catalogue
from keyaudit.warehouse.db import connect
from tests.delivery.delivery_helpers import email_config
from tests.runs import DemoRun, copy_run

BUCKET = "acme-audit-reports"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield client


def s3_config(**s3: Any) -> Config:
    return Config.model_validate(
        {"delivery": {"backoff_seconds": 1, "s3": {"bucket": BUCKET, "region": "eu-west-1", **s3}}}
    )


def test_the_run_folder_lands_under_prefix_year_month_run_id(plan, s3, sleeps):
    report = send_delivery(plan, s3_config(prefix="audits/").delivery, s3=s3, sleep=sleeps.append)
    assert report.ok, report.problem()
    listed = s3.list_objects_v2(Bucket=BUCKET)["Contents"]
    keys = sorted(o["Key"] for o in listed)
    local = sorted(p.relative_to(plan.report_dir).as_posix() for p in plan.files())
    assert keys == [f"audits/2026/12/{plan.run_id}/{name}" for name in local]
    assert "evidence-manifest.json" in local and "report.pdf" in local
    assert "remediation-plan.json" in local  # what the approver signs off
    assert report.lines() == [
        f"folder  {plan.report_dir} ({len(local)} files)",
        f"S3      {len(local)} of {len(local)} files uploaded to "
        f"s3://{BUCKET}/audits/2026/12/{plan.run_id}/",
    ]
    for name in local:
        body = s3.get_object(Bucket=BUCKET, Key=f"audits/2026/12/{plan.run_id}/{name}")["Body"]
        assert body.read() == (plan.report_dir / name).read_bytes(), name


def test_objects_are_encrypted_with_sse_s3_by_default_and_typed(plan, s3, sleeps):
    send_delivery(plan, s3_config().delivery, s3=s3, sleep=sleeps.append)
    head = s3.head_object(Bucket=BUCKET, Key=f"keyaudit/2026/12/{plan.run_id}/report.pdf")
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "application/pdf"
    html = s3.head_object(Bucket=BUCKET, Key=f"keyaudit/2026/12/{plan.run_id}/report.html")
    assert html["ContentType"] == "text/html; charset=utf-8"


def test_objects_are_encrypted_with_the_configured_kms_key(plan, s3, sleeps):
    key_id = boto3.client("kms", region_name="eu-west-1").create_key()["KeyMetadata"]["Arn"]
    config = s3_config(sse="aws:kms", kms_key_id=key_id)
    report = send_delivery(plan, config.delivery, s3=s3, sleep=sleeps.append)
    assert report.ok, report.problem()
    head = s3.head_object(Bucket=BUCKET, Key=f"keyaudit/2026/12/{plan.run_id}/report.pdf")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == key_id


def test_keys_sort_by_audited_month_then_run():
    assert (
        s3_key("/k/", "2026-01-01T06:00:00+00:00", "r1", "report.pdf") == "k/2026/01/r1/report.pdf"
    )
    assert s3_key("", "2026-12-01T06:00:00+00:00", "r2", "owners/a/report.pdf") == (
        "2026/12/r2/owners/a/report.pdf"
    )


class Flaky:
    """An S3 client whose first `failures` PutObject calls answer `code` with `status`."""

    def __init__(self, client: Any, failures: int, code: str, status: int) -> None:
        self.client, self.failures, self.code, self.status = client, failures, code, status
        self.calls = 0

    def put_object(self, **params: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise ClientError(
                {
                    "Error": {"Code": self.code, "Message": "from the test"},
                    "ResponseMetadata": {"HTTPStatusCode": self.status},
                },
                "PutObject",
            )
        return self.client.put_object(**params)


def test_throttling_and_server_errors_are_retried_with_growing_waits(plan, s3, sleeps):
    flaky = Flaky(s3, failures=2, code="SlowDown", status=503)
    report = send_delivery(
        plan, s3_config().delivery, s3=flaky, sleep=sleeps.append, rand=lambda: 0.0
    )
    assert report.ok, report.problem()
    assert report.results[1].attempts == 3
    assert sleeps == [0.5, 1.0]  # half of the 1 s and 2 s steps (no jitter drawn)


def test_access_denied_is_not_retried_and_is_reported_with_the_fix(plan, s3, sleeps):
    denied = Flaky(s3, failures=10_000, code="AccessDenied", status=403)
    report = send_delivery(plan, s3_config().delivery, s3=denied, sleep=sleeps.append)
    assert sleeps == [] and denied.calls == len(plan.files())
    first = report.failures[0]
    assert first.target == "s3" and first.attempts == 1
    assert first.detail == (
        "AccessDenied on s3:PutObject: from the test — check the bucket, its region and "
        "s3:PutObject (and kms:GenerateDataKey with a KMS key)"
    )
    assert all(p.is_file() for p in plan.files())


@pytest.mark.slow  # a whole run again: make test-slow
def test_a_pdf_over_the_limit_is_linked_to_its_s3_object_instead_of_attached(
    demo_run: DemoRun, tmp_path: Path, s3, smtp, sleeps
):
    from keyaudit.delivery.mail import SmtpTransport
    from tests.delivery.smtp_server import PASSWORD, USER

    run = copy_run(demo_run, tmp_path)
    config = email_config(
        smtp.port,
        owners=False,
        attachment_max_bytes=1024,
        delivery={"s3": {"bucket": BUCKET, "region": "eu-west-1"}},
    )
    con = connect(run.warehouse, read_only=True)
    try:
        plan = prepare_delivery(
            con, run.run_id, config=config, rules=load_catalogue(), report_dir=run.report_dir
        )
    finally:
        con.close()
    transport = SmtpTransport(
        config.delivery.email, (USER, PASSWORD), ssl_context=smtp.client_context
    )
    report = send_delivery(plan, config.delivery, s3=s3, transport=transport, sleep=sleeps.append)
    assert report.ok, report.problem()
    (received,) = smtp.recorder.messages
    assert list(received.message.iter_attachments()) == []
    key = f"keyaudit/2026/12/{run.run_id}/report.pdf"
    text = received.message.get_body(("plain",)).get_content()
    assert "is too large to attach. Open it here:" in text
    assert (
        "https://eu-west-1.console.aws.amazon.com/s3/object/acme-audit-reports?region=eu-west-1"
        f"&prefix=keyaudit%2F2026%2F12%2F{run.run_id}%2Freport.pdf"
    ) in text
    html = received.message.get_body(("html",)).get_content()
    assert f"s3://{BUCKET}/{key}" in html
