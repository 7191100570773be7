"""Fault matrix, throttling rows: bursts are retried with jittered backoff to full coverage;
throttling that never stops ends one account in bounded (virtual) time, the others complete."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from keyaudit.config import Config, load_config
from keyaudit.paths import PROJECT_ROOT
from keyaudit.sources.aws.session import jittered_backoff, retry_limit_exceeded
from tests.faults.fault_harness import AuditResult, run_audit

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

IAM_CALLS = (
    "iam.GenerateCredentialReport",
    "iam.GetCredentialReport",
    "iam.ListUsers",
    "iam.ListAccessKeys",
    "iam.GetAccessKeyLastUsed",
    "iam.GetAccountSummary",
)
DISCOVERY_CALLS = (
    "organizations.DescribeOrganization",
    "organizations.ListAccounts",
    "organizations.ListParents",
    "organizations.DescribeOrganizationalUnit",
    "organizations.ListTagsForResource",
)


def assert_full_coverage(result: AuditResult, baseline: AuditResult) -> None:
    """The run found what the fault-free run found, account by account and finding by finding."""
    assert result.statuses() == baseline.statuses()
    assert result.findings == baseline.findings
    assert result.summary.coverage == baseline.summary.coverage
    assert result.summary.accounts_partial == 0


def test_throttling_bursts_on_every_iam_call_are_retried_to_full_coverage(
    org, baseline, vt, faults, tmp_path
):
    for call in IAM_CALLS:
        faults.fail(call, "Throttling", times=3)
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    assert_full_coverage(result, baseline)
    served = sum(sum(f.served.values()) for f in faults.faults)
    assert served >= 3 * len(IAM_CALLS) * (len(baseline.accounts) - 3)  # every reachable account
    assert len(vt.waits["botocore"]) == served  # one backoff per throttled attempt


def test_iam_limit_exceeded_bursts_are_retried_by_keyaudit_to_full_coverage(
    org, baseline, vt, faults, tmp_path
):
    # IAM's LimitExceeded (409) is not botocore's throttling; keyaudit's needs-retry hook is.
    for call in ("iam.ListUsers", "iam.ListAccessKeys", "iam.GetAccessKeyLastUsed"):
        faults.fail(call, "LimitExceeded", times=2)
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    assert_full_coverage(result, baseline)
    assert vt.waits["botocore"], "LimitExceeded was not retried"


def test_organizations_too_many_requests_during_discovery_is_retried(
    org, baseline, vt, faults, tmp_path
):
    for call in DISCOVERY_CALLS:
        faults.fail(call, "TooManyRequestsException", times=2)
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    assert_full_coverage(result, baseline)
    assert sum(sum(f.served.values()) for f in faults.faults) == 2 * len(DISCOVERY_CALLS)


def test_sts_throttling_on_assume_role_is_retried(org, baseline, vt, faults, tmp_path, healthy):
    faults.fail("sts.AssumeRole", "Throttling", accounts=healthy, times=3)
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    assert_full_coverage(result, baseline)
    assert faults.faults[0].served == {account: 3 for account in healthy}


def test_retry_waits_are_jittered_bounded_and_never_real(org, vt, faults, tmp_path, healthy):
    # LimitExceeded twice per account on ListUsers: each account waits twice, in order.
    faults.fail("iam.ListUsers", "LimitExceeded", accounts=healthy, times=2)
    run_audit(org, tmp_path, vt=vt, injector=faults)
    waits = vt.waits["botocore"]
    assert len(waits) == 2 * len(healthy)
    first, second = waits[0::2], waits[1::2]
    assert all(0.5 <= w <= 1.0 for w in first), first  # step 1 s: half fixed, half random
    assert all(1.0 <= w <= 2.0 for w in second), second  # step 2 s
    assert len(set(first)) == len(first), "retries of different accounts waited in lockstep"
    # (install_virtual_time turns any real time.sleep into a failure)


def test_jittered_backoff_grows_to_the_cap_and_is_never_zero():
    assert jittered_backoff(1, rand=lambda: 0.0) == 0.5
    assert jittered_backoff(1, rand=lambda: 1.0) == 1.0
    assert jittered_backoff(3, rand=lambda: 0.0) == 2.0
    assert jittered_backoff(10, rand=lambda: 1.0) == 20.0  # capped
    handler = retry_limit_exceeded(3, rand=lambda: 0.5)
    limit = (None, {"Error": {"Code": "LimitExceeded"}})
    assert handler(response=limit, attempts=1) == 0.75
    assert handler(response=limit, attempts=3) is None  # budget spent: botocore raises it
    assert handler(response=(None, {"Error": {"Code": "AccessDenied"}}), attempts=1) is None
    assert handler(response=None, attempts=1) is None


def test_endless_throttling_of_one_account_ends_at_the_account_deadline(
    org, baseline, vt, faults, tmp_path, healthy
):
    stuck = healthy[0]
    for call in IAM_CALLS:
        faults.fail(call, "Throttling", accounts=[stuck])  # forever
    config = Config.model_validate(
        {"aws": {"max_attempts": 20}, "collection": {"account_deadline_seconds": 40}}
    )
    result = run_audit(org, tmp_path, vt=vt, injector=faults, config=config)
    assert result.accounts[stuck].status == "not_assessed"
    assert re.fullmatch(
        rf"account {stuck}: collection deadline of 40 s passed while AWS kept answering "
        r"Throttling on iam:GenerateCredentialReport \(\d+ failed attempts\) — "
        r"raise collection\.account_deadline_seconds or rerun later",
        result.error(stuck),
    ), result.error(stuck)
    assert 40 <= result.elapsed[stuck] <= 40 + 20 + 5  # deadline + one capped backoff
    others = {a: s for a, s in baseline.statuses().items() if a != stuck}
    assert {a: s for a, s in result.statuses().items() if a != stuck} == others
    assert result.summary.accounts_not_assessed == baseline.summary.accounts_not_assessed + 1
    assert ("ACCOUNT_NOT_ASSESSED", stuck) in {(f[0], f[1]) for f in result.findings}


def test_endless_throttling_after_the_report_leaves_the_account_partial_at_the_deadline(
    org, baseline, vt, faults, tmp_path, healthy
):
    stuck = next(a for a in healthy if any(u.keys for u in org.users if u.account_id == a))
    faults.fail("iam.ListAccessKeys", "Throttling", accounts=[stuck])  # forever
    config = Config.model_validate(
        {"aws": {"max_attempts": 20}, "collection": {"account_deadline_seconds": 40}}
    )
    result = run_audit(org, tmp_path, vt=vt, injector=faults, config=config)
    assert result.accounts[stuck].status == "partial"
    assert re.fullmatch(
        rf"account {stuck}: collection deadline of 40 s passed while AWS kept answering "
        r"Throttling on iam:ListAccessKeys \(\d+ failed attempts\) — raise "
        r"collection\.account_deadline_seconds or rerun later; findings use the credential "
        r"report only; user privilege is unknown; SSH public keys, service-specific "
        r"credentials and signing certificates are unknown",  # the deadline is said once
        result.error(stuck),
    ), result.error(stuck)
    assert (result.evidence / stuck / "credential_report.csv").is_file()
    assert result.summary.coverage == baseline.summary.coverage


def test_endless_throttling_within_the_default_deadline_ends_at_the_retry_budget(
    org, baseline, vt, faults, tmp_path, healthy
):
    stuck = healthy[1]
    fault = faults.fail("iam.GenerateCredentialReport", "Throttling", accounts=[stuck])
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    assert result.error(stuck) == (
        f"account {stuck}: Throttling on iam:GenerateCredentialReport: Rate exceeded — "
        "throttled beyond the retry budget; rerun later or lower concurrency"
    )
    assert fault.served[stuck] == Config().aws.max_attempts
    assert result.elapsed[stuck] < Config().collection.account_deadline_seconds
    assert result.summary.accounts_not_assessed == baseline.summary.accounts_not_assessed + 1


def test_endless_limit_exceeded_on_generate_ends_at_the_report_deadline(
    org, baseline, vt, faults, tmp_path, healthy
):
    stuck = healthy[2]
    faults.fail("iam.GenerateCredentialReport", "LimitExceeded", accounts=[stuck])
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    assert result.error(stuck) == (
        f"account {stuck}: credential report not ready after 300 s (last state LimitExceeded)"
        " — raise collection.report_deadline_seconds or rerun later"
    )
    assert 300 <= result.elapsed[stuck] <= 300 + 120
    others = {a: s for a, s in baseline.statuses().items() if a != stuck}
    assert {a: s for a, s in result.statuses().items() if a != stuck} == others


def test_account_deadline_is_a_documented_setting(tmp_path: Path):
    assert Config().collection.account_deadline_seconds == 1800
    example = tomllib.loads((PROJECT_ROOT / "keyaudit.example.toml").read_text(encoding="utf-8"))
    assert example["collection"]["account_deadline_seconds"] == 1800
    config = load_config(environ={"KEYAUDIT_COLLECTION__ACCOUNT_DEADLINE_SECONDS": "600"})
    assert config.collection.account_deadline_seconds == 600
    bad = tmp_path / "bad.toml"
    bad.write_text("[collection]\naccount_deadline_seconds = 0\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"collection\.account_deadline_seconds = 0 is invalid"):
        load_config(bad, environ={})
