"""S3 Object Lock on delivery, against moto: every object locked until the run's as-of + days,
a bucket without Object Lock refused before anything is uploaded, the configuration checked.

moto 5.2 enforces what matters here: PutObject with lock headers needs Content-MD5 or a checksum
header and a bucket with Object Lock; a locked version cannot be deleted. It does not implement
GetObjectRetention (HeadObject returns the same fields, so that is what we read back), and it
accepts a retain-until date in the past, which AWS refuses: keyaudit checks that itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from keyaudit.config import Config, ConfigError, load_config
from keyaudit.config.delivery import Retention
from keyaudit.delivery.dispatch import DeliveryPlan, send_delivery
from tests.runs import DemoRun, copy_run

LOCKED = "acme-audit-locked"
PLAIN = "acme-audit-plain"
AS_OF = "2026-12-01T06:00:00+00:00"  # the demo run's as-of
NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # a delivery a few days after it
UNTIL = datetime(2027, 12, 1, 6, 0, tzinfo=UTC)  # as-of + 365 days


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        where = {"LocationConstraint": "eu-west-1"}
        client.create_bucket(
            Bucket=LOCKED, CreateBucketConfiguration=where, ObjectLockEnabledForBucket=True
        )
        client.create_bucket(Bucket=PLAIN, CreateBucketConfiguration=where)
        yield client


def locked_config(bucket: str = LOCKED, **s3: Any) -> Config:
    return Config.model_validate(
        {
            "delivery": {
                "backoff_seconds": 1,
                "s3": {"bucket": bucket, "region": "eu-west-1", "retention_days": 365, **s3},
            }
        }
    )


def keys_of(plan: DeliveryPlan) -> list[str]:
    return [
        f"keyaudit/2026/12/{plan.run_id}/{p.relative_to(plan.report_dir).as_posix()}"
        for p in plan.files()
    ]


def test_retain_until_is_the_runs_as_of_plus_the_days_in_utc():
    assert Retention("governance", 365).until(AS_OF) == UNTIL
    assert Retention("compliance", 1).until("2026-12-01T07:00:00+01:00") == datetime(
        2026, 12, 2, 6, 0, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="has no time zone"):
        Retention("governance", 1).until("2026-12-01T06:00:00")


@pytest.mark.parametrize("mode", ["governance", "compliance"])
def test_every_delivered_object_carries_the_mode_and_the_retain_until_date(plan, s3, sleeps, mode):
    report = send_delivery(
        plan, locked_config(retention_mode=mode).delivery, s3=s3, sleep=sleeps.append, now=NOW
    )
    assert report.ok, report.problem()
    keys = keys_of(plan)
    assert "evidence-manifest.json" in " ".join(keys) and len(keys) > 5
    listed = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=LOCKED)["Contents"])
    assert listed == sorted(keys)
    for key in keys:
        head = s3.head_object(Bucket=LOCKED, Key=key)
        assert head["ObjectLockMode"] == mode.upper(), key
        assert head["ObjectLockRetainUntilDate"] == UNTIL, key
    assert report.s3_retention == f"{mode.upper()} until 2027-12-01T06:00:00+00:00"
    assert report.lines()[1].endswith(f", locked {mode.upper()} until 2027-12-01T06:00:00+00:00")


def test_the_upload_asks_for_a_checksum_as_object_lock_requires(plan, s3, sleeps):
    sent: list[dict[str, str]] = []
    s3.meta.events.register(
        "before-send.s3.PutObject",
        lambda request, **_: sent.append({k.lower(): v for k, v in request.headers.items()}),
    )
    send_delivery(plan, locked_config().delivery, s3=s3, sleep=sleeps.append, now=NOW)
    assert sent and all(h["x-amz-sdk-checksum-algorithm"] == b"SHA256" for h in sent)


def test_a_bucket_without_object_lock_is_refused_in_one_line_and_gets_nothing(plan, s3, sleeps):
    report = send_delivery(plan, locked_config(PLAIN).delivery, s3=s3, sleep=sleeps.append, now=NOW)
    assert "Contents" not in s3.list_objects_v2(Bucket=PLAIN)
    assert [r.target for r in report.results] == ["folder", "s3"]
    refusal = report.failures[0]
    assert refusal.name == f"bucket {PLAIN}"
    assert refusal.detail == (
        f"bucket {PLAIN} has no S3 Object Lock, so [delivery.s3] retention_days = 365 cannot be "
        "kept; nothing was uploaded — enable Object Lock on the bucket (S3 console: Properties "
        "› Object Lock, or create it with --object-lock-enabled-for-bucket) or set "
        "retention_days = 0"
    )
    assert "\n" not in report.problem()
    assert report.s3_location is None and report.s3_retention is None
    assert report.lines()[1:] == [f"FAILED  s3 bucket {PLAIN}: {refusal.detail}"]


class Denied:
    """An S3 client that may not read the bucket's Object Lock configuration."""

    def __init__(self, client: Any) -> None:
        self.client, self.puts = client, 0

    def get_object_lock_configuration(self, **params: Any) -> Any:
        raise ClientError(
            {
                "Error": {"Code": "AccessDenied", "Message": "Access Denied"},
                "ResponseMetadata": {"HTTPStatusCode": 403},
            },
            "GetObjectLockConfiguration",
        )

    def put_object(self, **params: Any) -> Any:
        self.puts += 1
        return self.client.put_object(**params)


def test_access_denied_on_the_lock_check_names_the_missing_permission(plan, s3, sleeps):
    denied = Denied(s3)
    report = send_delivery(plan, locked_config().delivery, s3=denied, sleep=sleeps.append, now=NOW)
    assert denied.puts == 0 and sleeps == []
    assert report.failures[0].detail == (
        f"AccessDenied on s3:GetBucketObjectLockConfiguration on bucket {LOCKED}: Access Denied "
        f"— grant s3:GetBucketObjectLockConfiguration on arn:aws:s3:::{LOCKED} to the identity "
        "that delivers (docs/permissions.md)"
    )


def test_a_run_whose_retention_has_run_out_is_refused_before_any_upload(plan, s3, sleeps):
    later = UNTIL + timedelta(seconds=1)
    report = send_delivery(plan, locked_config().delivery, s3=s3, sleep=sleeps.append, now=later)
    assert "Contents" not in s3.list_objects_v2(Bucket=LOCKED)
    assert report.failures[0].detail == (
        "retention of this run ended on 2027-12-01 06:00 UTC (its as-of + 365 days) and S3 "
        "Object Lock needs a date in the future — to send it again without retention, set "
        "[delivery.s3] retention_days = 0"
    )


def test_redelivery_writes_a_new_version_with_the_same_date_and_the_old_one_stays_locked(
    plan, s3, sleeps
):
    config = locked_config(retention_mode="compliance").delivery
    send_delivery(plan, config, s3=s3, sleep=sleeps.append, now=NOW)
    key = f"keyaudit/2026/12/{plan.run_id}/report.pdf"
    (first,) = s3.list_object_versions(Bucket=LOCKED, Prefix=key)["Versions"]
    # `keyaudit deliver --run` a week later: same rule, same date, a second version
    send_delivery(plan, config, s3=s3, sleep=sleeps.append, now=NOW + timedelta(days=7))
    versions = s3.list_object_versions(Bucket=LOCKED, Prefix=key)["Versions"]
    assert len(versions) == 2
    for version in versions:
        head = s3.head_object(Bucket=LOCKED, Key=key, VersionId=version["VersionId"])
        assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"]) == ("COMPLIANCE", UNTIL)
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=LOCKED, Key=key, VersionId=first["VersionId"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError):  # compliance mode: no bypass either
        s3.delete_object(
            Bucket=LOCKED, Key=key, VersionId=first["VersionId"], BypassGovernanceRetention=True
        )


def test_without_retention_nothing_is_locked_and_the_lock_is_not_checked(plan, s3, sleeps):
    report = send_delivery(
        plan, locked_config(PLAIN, retention_days=0).delivery, s3=s3, sleep=sleeps.append
    )
    assert report.ok, report.problem()
    head = s3.head_object(Bucket=PLAIN, Key=f"keyaudit/2026/12/{plan.run_id}/report.pdf")
    assert "ObjectLockMode" not in head and report.s3_retention is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "retention_days = -1",
            "delivery.s3.retention_days = -1 is invalid: Input should be greater than or equal "
            "to 0",
        ),
        (
            "retention_days = 1.5",
            "delivery.s3.retention_days = 1.5 is invalid: Value error, must be a whole number "
            "of days (0 = no retention)",
        ),
        (
            'retention_days = "a year"',
            "delivery.s3.retention_days = 'a year' is invalid: Input should be a valid integer, "
            "unable to parse string as an integer",
        ),
        (
            "retention_days = true",
            "delivery.s3.retention_days = True is invalid: Value error, must be a whole number "
            "of days (0 = no retention)",
        ),
        (
            'retention_mode = "legal-hold"',
            "delivery.s3.retention_mode = 'legal-hold' is not allowed; use one of "
            "'governance' or 'compliance'",
        ),
    ],
)
def test_bad_retention_settings_are_refused_in_one_line(tmp_path: Path, line, message):
    path = tmp_path / "keyaudit.toml"
    path.write_text(f'[delivery.s3]\nbucket = "{LOCKED}"\n{line}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path, environ={})
    assert str(refused.value) == f"{path}: {message}"


def test_mode_is_case_blind_and_zero_days_mean_no_retention():
    assert locked_config(retention_mode="COMPLIANCE").delivery.s3.retention == Retention(
        "compliance", 365
    )
    assert locked_config(retention_days=0).delivery.s3.retention is None
    assert Config().delivery.s3.retention is None  # no bucket, no retention


def test_a_resend_applies_the_retention_the_run_recorded_which_its_report_states(plan, s3, sleeps):
    recorded = dataclasses.replace(plan, retention=Retention("compliance", 30))
    # keyaudit.toml changed since the run: retention switched off
    config = locked_config(retention_days=0).delivery
    report = send_delivery(recorded, config, s3=s3, sleep=sleeps.append, now=NOW)
    assert report.ok, report.problem()
    head = s3.head_object(Bucket=LOCKED, Key=f"keyaudit/2026/12/{plan.run_id}/report.pdf")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] == datetime(2026, 12, 31, 6, 0, tzinfo=UTC)
    assert report.notes[-1] == (
        f"run {plan.run_id} was configured with COMPLIANCE retention of 30 days, which its "
        "report states: that retention is applied, not no retention that keyaudit.toml sets now"
    )


def test_retention_configured_after_the_run_still_locks_and_says_the_report_does_not(
    plan, s3, sleeps
):
    assert plan.retention is None  # the demo run was configured without
    report = send_delivery(plan, locked_config().delivery, s3=s3, sleep=sleeps.append, now=NOW)
    assert report.ok, report.problem()
    assert report.notes[-1] == (
        f"the report of run {plan.run_id} says its copies are not retained (none was "
        "configured when it ran); this delivery locks them with the GOVERNANCE retention of "
        "365 days that keyaudit.toml sets now"
    )


def test_the_same_retention_then_and_now_adds_no_note(plan, s3, sleeps):
    same = dataclasses.replace(plan, retention=Retention("governance", 365))
    report = send_delivery(same, locked_config().delivery, s3=s3, sleep=sleeps.append, now=NOW)
    assert report.ok and report.notes == list(plan.notes)


def deliver_command(run: DemoRun, bucket: str) -> Any:
    from typer.testing import CliRunner

    from keyaudit.cli import app

    folder = run.warehouse.parent
    config = folder / "keyaudit.toml"
    config.write_text(
        f'[paths]\nwarehouse = "{run.warehouse}"\nevidence_dir = "{folder / "evidence"}"\n'
        f'reports_dir = "{folder / "reports"}"\n[delivery]\nbackoff_seconds = 0\n'
        f'[delivery.s3]\nbucket = "{bucket}"\nregion = "eu-west-1"\nretention_days = 3650\n'
        'retention_mode = "compliance"\n',
        encoding="utf-8",
    )
    return CliRunner().invoke(app, ["deliver", "--run", run.run_id, "--config", str(config)])


@pytest.mark.slow  # a whole run again: make test-slow
def test_deliver_command_locks_every_object_it_resends(demo_run: DemoRun, tmp_path: Path, s3):
    run = copy_run(demo_run, tmp_path)
    result = deliver_command(run, LOCKED)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].endswith(
        ", locked COMPLIANCE until 2036-11-28T06:00:00+00:00"  # as-of + 3,650 days (3 leap days)
    )
    for listed in s3.list_objects_v2(Bucket=LOCKED)["Contents"]:
        head = s3.head_object(Bucket=LOCKED, Key=listed["Key"])
        assert head["ObjectLockMode"] == "COMPLIANCE", listed["Key"]


def test_deliver_command_refuses_a_bucket_without_object_lock_in_one_line(
    demo_run: DemoRun, tmp_path: Path, s3
):
    run = copy_run(demo_run, tmp_path)
    result = deliver_command(run, PLAIN)
    assert result.exit_code == 4
    assert "Contents" not in s3.list_objects_v2(Bucket=PLAIN)
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        f"keyaudit: error: delivery of run {run.run_id} failed for 1 of 2 items (s3 bucket "
        f"{PLAIN}: bucket {PLAIN} has no S3 Object Lock, so [delivery.s3] retention_days = 3650 "
        "cannot be kept; nothing was uploaded — enable Object Lock on the bucket"
    )
    assert "Traceback" not in result.output
