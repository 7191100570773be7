"""ROOT_MFA_DISABLED and ROOT_USED_RECENTLY: given root rows (and the live account summary),
exactly the root findings they should give."""

from __future__ import annotations

from datetime import timedelta

from rules_given import ACCOUNT, AS_OF, days_ago

from keyaudit.config import RuleOverride

ROOT = "<root_account>"
OTHER = "444455556666"

# --- ROOT_MFA_DISABLED ------------------------------------------------------------------


def test_root_without_mfa_in_the_report_is_a_finding(given):
    given.user(ROOT, mfa=False)
    assert given.findings("ROOT_MFA_DISABLED") == [
        (
            "ROOT_MFA_DISABLED",
            ACCOUNT,
            ROOT,
            None,
            None,
            "root MFA not active (credential report mfa_active = false); required: active",
        )
    ]


def test_root_with_mfa_is_not_a_finding(given):
    given.user(ROOT, mfa=True)
    assert given.findings("ROOT_MFA_DISABLED") == []


def test_iam_users_without_mfa_are_not_root_findings(given):
    given.user(ROOT, mfa=True)
    given.user("alice", password=True, password_last_used=days_ago(2), mfa=False)
    given.user("svc-etl", mfa=False)
    assert given.findings("ROOT_MFA_DISABLED") == []


def test_live_summary_without_root_mfa_wins_over_an_older_report(given):
    given.account(report_generated_at=AS_OF - timedelta(hours=3), summary_root_mfa_enabled=0).user(
        ROOT, mfa=True
    )
    assert given.findings("ROOT_MFA_DISABLED") == [
        (
            "ROOT_MFA_DISABLED",
            ACCOUNT,
            ROOT,
            None,
            None,
            "root MFA not active (GetAccountSummary AccountMFAEnabled = 0; the credential report"
            " of 2026-12-01 03:00 UTC still showed it); required: active",
        )
    ]


def test_live_summary_with_root_mfa_wins_over_an_older_report(given):
    given.account(summary_root_mfa_enabled=1).user(ROOT, mfa=False)
    assert given.findings("ROOT_MFA_DISABLED") == []


def test_report_and_live_summary_agreeing_on_no_root_mfa_give_one_finding(given):
    given.account(summary_root_mfa_enabled=0).user(ROOT, mfa=False)
    assert [f[5] for f in given.findings("ROOT_MFA_DISABLED")] == [
        "root MFA not active (GetAccountSummary AccountMFAEnabled = 0, credential report "
        "mfa_active = false); required: active"
    ]


def test_live_summary_alone_judges_a_report_without_root_row(given):
    # moto's report (and a hand-trimmed file) has no <root_account> row.
    given.account(summary_root_mfa_enabled=0).user("bob")
    assert [(f[1], f[2], f[5]) for f in given.findings("ROOT_MFA_DISABLED")] == [
        (
            ACCOUNT,
            ROOT,
            "root MFA not active (GetAccountSummary AccountMFAEnabled = 0); required: active",
        )
    ]


def test_root_mfa_is_judged_per_account(given):
    given.user(ROOT, mfa=False)
    given.user(ROOT, account_id=OTHER, mfa=False)
    given.user(ROOT, account_id="555566667777", mfa=True)
    assert [(f[1], f[2]) for f in given.findings("ROOT_MFA_DISABLED")] == [
        (ACCOUNT, ROOT),
        (OTHER, ROOT),
    ]


def test_unassessed_account_summary_is_not_judged(given):
    given.account(status="not_assessed", error="AccessDenied", summary_root_mfa_enabled=0)
    assert given.findings("ROOT_MFA_DISABLED") == []


# --- ROOT_USED_RECENTLY -----------------------------------------------------------------


def test_root_password_used_exactly_one_day_before_as_of_is_recent(given):
    given.user(ROOT, mfa=True, password_last_used=days_ago(1))
    assert given.findings("ROOT_USED_RECENTLY") == [
        (
            "ROOT_USED_RECENTLY",
            ACCOUNT,
            ROOT,
            None,
            None,
            "root password used 24 hours before as_of (2026-11-30 06:00 UTC); "
            "limit: no root use within 1 day",
        )
    ]


def test_root_password_used_one_day_and_one_second_ago_is_not_recent(given):
    given.user(ROOT, password_last_used=AS_OF - timedelta(days=1, seconds=1))
    assert given.findings("ROOT_USED_RECENTLY") == []


def test_root_never_signed_in_is_not_recent(given):
    given.user(ROOT, password_last_used="no_information")
    assert given.findings("ROOT_USED_RECENTLY") == []


def test_root_key_used_hours_ago_is_recent_even_when_now_inactive(given):
    given.user(
        ROOT,
        password_last_used="no_information",
        key1={"created": days_ago(300), "last_used": AS_OF - timedelta(hours=5), "active": False},
    )
    assert [f[5] for f in given.findings("ROOT_USED_RECENTLY")] == [
        "root access key in slot 1 used 5 hours before as_of (2026-12-01 01:00 UTC); "
        "limit: no root use within 1 day"
    ]


def test_recent_password_and_key_uses_are_one_finding_most_recent_first(given):
    given.user(
        ROOT,
        password_last_used=AS_OF - timedelta(hours=20),
        key1={"created": days_ago(300), "last_used": days_ago(40)},
        key2={"created": days_ago(100), "last_used": AS_OF - timedelta(minutes=30)},
    )
    assert [f[5] for f in given.findings("ROOT_USED_RECENTLY")] == [
        "root access key in slot 2 used less than 1 hour before as_of (2026-12-01 05:30 UTC); "
        "password used 20 hours before as_of (2026-11-30 10:00 UTC); "
        "limit: no root use within 1 day"
    ]


def test_root_use_after_as_of_counts_as_recent(given):
    # as_of is the run's start; the report can be generated minutes later and show a newer use.
    given.user(ROOT, password_last_used=AS_OF + timedelta(minutes=10))
    assert [f[5] for f in given.findings("ROOT_USED_RECENTLY")] == [
        "root password used less than 1 hour before as_of (2026-12-01 06:10 UTC); "
        "limit: no root use within 1 day"
    ]


def test_iam_user_used_recently_is_not_root_use(given):
    given.user(
        "alice",
        password=True,
        password_last_used=AS_OF - timedelta(hours=1),
        key1={"created": days_ago(3), "last_used": AS_OF - timedelta(hours=1)},
    )
    assert given.findings("ROOT_USED_RECENTLY") == []


def test_root_use_window_is_configurable(given):
    given.user(ROOT, password_last_used=days_ago(3))
    assert given.findings("ROOT_USED_RECENTLY") == []
    found = given.findings(
        "ROOT_USED_RECENTLY", overrides={"ROOT_USED_RECENTLY": RuleOverride(recent_use_days=7)}
    )
    assert [f[5] for f in found] == [
        "root password used 72 hours before as_of (2026-11-28 06:00 UTC); "
        "limit: no root use within 7 days"
    ]


def test_root_rows_of_newer_accounts_with_boolean_password_cells_load(given, warehouse):
    # Centrally managed root credentials: password_last_changed holds true/false, not a date.
    given.user(ROOT, password_last_changed="false", password_last_used="no_information")
    given.report[-1]["password_enabled"] = "false"
    given.report[-1]["password_next_rotation"] = "true"
    assert given.findings("ROOT_USED_RECENTLY") == []
    assert given.findings("PASSWORD_UNUSED") == []
    assert warehouse.execute(
        "select user_name, password_last_changed_at, password_next_rotation_at from users"
    ).fetchall() == [(ROOT, None, None)]
