"""Generate → poll → get, scripted with botocore's Stubber on a real IAM client, plus moto."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from keyaudit.sources.aws.credential_report import (
    FetchedReport,
    PollPolicy,
    fetch_credential_report,
)
from keyaudit.sources.aws.errors import CollectionError
from keyaudit.sources.credential_report import COLUMNS, parse_credential_report

CSV = (",".join(COLUMNS) + "\n").encode()
GENERATED = datetime(2026, 11, 30, 5, 59, 12, tzinfo=UTC)
NOT_READY_300 = (
    "credential report not ready after 300 s (last state INPROGRESS) — "
    "raise collection.report_deadline_seconds or rerun later"
)


class FakeClock:
    """monotonic() only moves when the code sleeps (or when a test says a call took time)."""

    def __init__(self) -> None:
        self.now = 5_000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, "polled without sleeping"
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def iam(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """A real botocore IAM client whose every response is scripted; unused script fails."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("iam", region_name="us-east-1")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def fetch(client, clock: FakeClock, **policy) -> FetchedReport:
    return fetch_credential_report(
        client, policy=PollPolicy(**policy), sleep=clock.sleep, monotonic=clock.monotonic
    )


def generate(stub: Stubber, state: str) -> None:
    stub.add_response("generate_credential_report", {"State": state, "Description": state})


def get_ok(stub: Stubber, content: bytes = CSV) -> None:
    stub.add_response(
        "get_credential_report",
        {"Content": content, "ReportFormat": "text/csv", "GeneratedTime": GENERATED},
    )


def fail(stub: Stubber, method: str, code: str, status: int, message: str = "") -> None:
    stub.add_client_error(
        method, service_error_code=code, service_message=message or code, http_status_code=status
    )


def test_complete_report_takes_one_generate_one_get_and_no_sleep(iam, clock):
    client, stub = iam
    generate(stub, "COMPLETE")
    get_ok(stub, CSV + b"<root_account>,...\n")
    fetched = fetch(client, clock)
    assert fetched == FetchedReport(
        content=CSV + b"<root_account>,...\n", generated_at=GENERATED, generate_calls=1, get_calls=1
    )
    assert clock.sleeps == []


def test_started_then_in_progress_then_complete_sleeps_2_4_8(iam, clock):
    client, stub = iam
    generate(stub, "STARTED")
    fail(stub, "get_credential_report", "ReportInProgress", 404)
    fail(stub, "get_credential_report", "ReportInProgress", 404)
    get_ok(stub)
    fetched = fetch(client, clock)
    assert clock.sleeps == [2.0, 4.0, 8.0]
    assert (fetched.generate_calls, fetched.get_calls) == (1, 3)


def test_backoff_doubles_up_to_the_cap(iam, clock):
    client, stub = iam
    generate(stub, "STARTED")
    for _ in range(7):
        fail(stub, "get_credential_report", "ReportInProgress", 404)
    get_ok(stub)
    fetch(client, clock)
    assert clock.sleeps == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]


def test_generate_answering_inprogress_is_waited_on_like_started(iam, clock):
    client, stub = iam
    generate(stub, "INPROGRESS")
    get_ok(stub)
    fetched = fetch(client, clock)
    assert clock.sleeps == [2.0]
    assert (fetched.generate_calls, fetched.get_calls) == (1, 1)


def test_report_in_progress_on_get_after_complete_waits_and_gets_again(iam, clock):
    client, stub = iam
    generate(stub, "COMPLETE")
    fail(stub, "get_credential_report", "ReportInProgress", 404)
    get_ok(stub)
    fetched = fetch(client, clock)
    assert clock.sleeps == [2.0]
    assert (fetched.generate_calls, fetched.get_calls) == (1, 2)


@pytest.mark.parametrize("code", ["ReportNotPresent", "ReportExpired"])
def test_missing_or_expired_report_is_generated_again(iam, clock, code):
    client, stub = iam
    generate(stub, "COMPLETE")
    fail(stub, "get_credential_report", code, 410)
    generate(stub, "STARTED")
    fail(stub, "get_credential_report", "ReportInProgress", 404)
    get_ok(stub)
    fetched = fetch(client, clock)
    assert (fetched.generate_calls, fetched.get_calls) == (2, 3)
    assert clock.sleeps == [2.0, 4.0]


def test_regeneration_is_bounded_by_max_regenerations(iam, clock):
    client, stub = iam
    for _ in range(3):  # the first generate and 2 regenerations
        generate(stub, "COMPLETE")
        fail(stub, "get_credential_report", "ReportExpired", 410, "Report expired")
    with pytest.raises(CollectionError) as caught:
        fetch(client, clock)
    assert str(caught.value) == (
        "ReportExpired on iam:GetCredentialReport: Report expired — still so after 2 "
        "regeneration(s) of the report; rerun later"
    )
    assert clock.sleeps == []


def test_limit_exceeded_bursts_on_generate_back_off_and_retry(iam, clock):
    client, stub = iam
    for _ in range(3):
        fail(stub, "generate_credential_report", "LimitExceeded", 409, "Rate exceeded")
    generate(stub, "COMPLETE")
    get_ok(stub)
    fetched = fetch(client, clock)
    assert clock.sleeps == [2.0, 4.0, 8.0]
    assert (fetched.generate_calls, fetched.get_calls) == (4, 1)


def test_limit_exceeded_on_get_is_waited_out_too(iam, clock):
    client, stub = iam
    generate(stub, "COMPLETE")
    fail(stub, "get_credential_report", "LimitExceeded", 409)
    get_ok(stub)
    assert fetch(client, clock).get_calls == 2
    assert clock.sleeps == [2.0]


def test_limit_exceeded_until_the_deadline_is_an_error_naming_it(iam, clock):
    client, stub = iam
    for _ in range(4):  # t=0, 2, 6, 10: the third wait is cut to the 4 s left
        fail(stub, "generate_credential_report", "LimitExceeded", 409)
    with pytest.raises(CollectionError) as caught:
        fetch(client, clock, deadline_seconds=10)
    assert str(caught.value) == (
        "credential report not ready after 10 s (last state LimitExceeded) — "
        "raise collection.report_deadline_seconds or rerun later"
    )
    assert clock.sleeps == [2.0, 4.0, 4.0]


def test_report_that_never_completes_fails_at_the_deadline_with_bounded_calls(iam, clock):
    client, stub = iam
    generate(stub, "STARTED")
    # 2+4+8+16 = 30 s, then 9 waits of 30 s reach exactly 300 s: 13 polls in all.
    for _ in range(13):
        fail(stub, "get_credential_report", "ReportInProgress", 404)
    with pytest.raises(CollectionError) as caught:
        fetch(client, clock)
    assert str(caught.value) == NOT_READY_300
    assert clock.sleeps == [2.0, 4.0, 8.0, 16.0] + [30.0] * 9
    assert sum(clock.sleeps) == 300


def test_time_spent_inside_calls_counts_towards_the_deadline(iam, clock):
    client, stub = iam

    def slow_call(**_) -> None:
        clock.now += 1.0

    client.meta.events.register("before-parameter-build.iam", slow_call)
    generate(stub, "STARTED")
    for _ in range(4):
        fail(stub, "get_credential_report", "ReportInProgress", 404)
    with pytest.raises(CollectionError, match="not ready after 20 s"):
        fetch(client, clock, deadline_seconds=20)
    # calls end at t=1, 4, 9, 18, 21; the last wait is cut to the 2 s left.
    assert clock.sleeps == [2.0, 4.0, 8.0, 2.0]


def test_access_denied_on_generate_names_the_permission(iam, clock):
    client, stub = iam
    message = (
        "User: arn:aws:sts::111122223333:assumed-role/Audit/keyaudit is not authorized to "
        "perform: iam:GenerateCredentialReport"
    )
    fail(stub, "generate_credential_report", "AccessDenied", 403, message)
    with pytest.raises(CollectionError) as caught:
        fetch(client, clock)
    assert str(caught.value) == (
        f"AccessDenied on iam:GenerateCredentialReport: {message} — "
        "grant iam:GenerateCredentialReport to the audit role"
    )


def test_access_denied_on_get_names_the_permission(iam, clock):
    client, stub = iam
    generate(stub, "COMPLETE")
    fail(stub, "get_credential_report", "AccessDenied", 403, "not authorized")
    with pytest.raises(CollectionError) as caught:
        fetch(client, clock)
    assert str(caught.value) == (
        "AccessDenied on iam:GetCredentialReport: not authorized — "
        "grant iam:GetCredentialReport to the audit role"
    )


def test_other_errors_become_collection_errors_and_are_not_retried(iam, clock):
    client, stub = iam
    fail(stub, "generate_credential_report", "ServiceFailure", 500, "Internal error")
    with pytest.raises(CollectionError) as caught:
        fetch(client, clock)
    assert str(caught.value) == "ServiceFailure on iam:GenerateCredentialReport: Internal error"
    assert clock.sleeps == []


def test_throttling_that_outlasts_botocore_retries_says_so(iam, clock):
    client, stub = iam
    generate(stub, "COMPLETE")
    fail(stub, "get_credential_report", "Throttling", 400, "Rate exceeded")
    with pytest.raises(CollectionError) as caught:
        fetch(client, clock)
    assert str(caught.value) == (
        "Throttling on iam:GetCredentialReport: Rate exceeded — "
        "throttled beyond the retry budget; rerun later or lower concurrency"
    )


@pytest.mark.parametrize(
    "policy",
    [
        {"initial_delay": 0},
        {"initial_delay": 60, "max_delay": 30},
        {"multiplier": 0.5},
        {"deadline_seconds": 0},
        {"max_regenerations": -1},
    ],
)
def test_poll_policy_refuses_settings_that_could_busy_loop(policy):
    with pytest.raises(ValueError, match="poll"):
        PollPolicy(**policy)


def test_moto_happy_path_started_then_complete(clock):
    with mock_aws():
        client = boto3.client("iam", region_name="us-east-1")
        client.create_user(UserName="alice")
        client.create_access_key(UserName="alice")
        first = fetch_credential_report(client, sleep=clock.sleep, monotonic=clock.monotonic)
        again = fetch_credential_report(client, sleep=clock.sleep, monotonic=clock.monotonic)
    assert (first.generate_calls, first.get_calls) == (1, 1)
    assert clock.sleeps == [2.0]  # moto says STARTED once, then COMPLETE
    assert (again.generate_calls, again.get_calls) == (1, 1)
    assert first.generated_at.tzinfo is not None
    parsed = parse_credential_report(first.content, source="moto credential report")
    assert parsed.rows["user"].tolist() == ["alice"]
    assert parsed.account_id == "123456789012"


def test_moto_report_with_commas_in_user_names_is_read_by_the_arn(clock):
    # IAM allows commas in user names; moto writes them without quotes (AWS quotes them)
    with mock_aws():
        client = boto3.client("iam", region_name="us-east-1")
        client.create_user(UserName="a,b")
        client.create_access_key(UserName="a,b")
        client.create_user(UserName="plain")
        client.create_user(UserName="x,y", Path="/team,one/")
        fetched = fetch_credential_report(client, sleep=clock.sleep, monotonic=clock.monotonic)
    assert b"\na,b,arn:aws:iam::123456789012:user/a,b," in fetched.content  # unquoted
    parsed = parse_credential_report(fetched.content, source="moto credential report")
    rows = parsed.rows.set_index("user")
    assert rows.index.tolist() == ["a,b", "plain", "x,y"]
    assert rows.loc["a,b", "arn"] == "arn:aws:iam::123456789012:user/a,b"
    assert rows.loc["x,y", "arn"] == "arn:aws:iam::123456789012:user/team,one/x,y"
    assert rows.loc["a,b", "access_key_1_active"] == "true"
    assert rows.loc["plain", "access_key_1_active"] == "false"
    assert parsed.account_id == "123456789012"
    assert parsed.refused == []
    assert len(parsed.notes) == 2  # each read-back row is noted
