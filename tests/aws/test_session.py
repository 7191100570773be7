"""Per-account sessions: what every session keyaudit hands out is set up with."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.utils import parse_timestamp

from keyaudit.sources.aws.session import AccountSessions, SessionSettings, fast_timestamp


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-01T00:00:00Z",  # IAM's XML form
        "2024-01-01T00:00:00.123Z",
        "2024-01-01T06:00:00+02:00",
        "2024-01-01T00:00:00",  # naive: left to botocore
        "1700000000",  # epoch seconds: left to botocore
        1700000000,
    ],
)
def test_fast_timestamp_reads_every_form_exactly_as_botocore_does(value):
    fast, slow = fast_timestamp(value), parse_timestamp(value)
    assert fast == slow
    assert fast.utcoffset() == slow.utcoffset()
    assert fast.isoformat() == slow.isoformat()


def test_fast_timestamp_refuses_what_botocore_refuses():
    with pytest.raises(ValueError):
        fast_timestamp("last tuesday-ish")


def test_every_account_session_parses_iam_timestamps_as_aware_utc(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    base = boto3.Session(region_name="us-east-1")
    sessions = AccountSessions(base=base, settings=SessionSettings(region="us-east-1"))
    session = sessions.session_for("123456789012", is_caller_account=True)
    parser = session._session.get_component("response_parser_factory")
    iam = session.client("iam")

    def answer(request, **_):
        from botocore.awsrequest import AWSResponse

        body = (
            b'<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
            b"<ListUsersResult><IsTruncated>false</IsTruncated><Users><member>"
            b"<UserName>alice</UserName><UserId>AIDAEXAMPLE0000000001</UserId>"
            b"<Arn>arn:aws:iam::123456789012:user/alice</Arn><Path>/</Path>"
            b"<CreateDate>2024-01-01T00:00:00Z</CreateDate></member></Users>"
            b"</ListUsersResult></ListUsersResponse>"
        )

        class Raw:
            def stream(self, **_):
                yield body

        return AWSResponse(request.url, 200, {"Content-Type": "text/xml"}, Raw())

    iam.meta.events.register("before-send", answer)
    created = iam.list_users()["Users"][0]["CreateDate"]
    assert parser._defaults["timestamp_parser"] is fast_timestamp
    assert created == datetime(2024, 1, 1, tzinfo=UTC)
    assert created.utcoffset().total_seconds() == 0


def test_aws_region_alone_sets_the_region_botocore_would_ignore(monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert boto3.Session().region_name is None  # botocore does not read AWS_REGION
    assert AccountSessions().region == "eu-west-1"


def test_configured_region_wins_over_aws_region(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert AccountSessions(settings=SessionSettings(region="ap-south-1")).region == "ap-south-1"


def test_aws_region_wins_over_aws_default_region(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert AccountSessions().region == "eu-west-1"


def test_without_any_region_iam_goes_to_us_east_1(monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    assert AccountSessions().region == "us-east-1"
