"""PASSWORD_UNUSED: given credential-report password cells (dates and every sentinel), exactly
the console users whose password is idle past the limit."""

from __future__ import annotations

from datetime import timedelta

from rules_given import ACCOUNT, AS_OF, days_ago

from keyaudit.config import RuleOverride

ROOT = "<root_account>"


def test_password_last_used_exactly_45_days_ago_is_not_unused(given):
    given.user("alice", password=True, mfa=True, password_last_used=days_ago(45),
               password_last_changed=days_ago(300))  # fmt: skip
    assert given.findings("PASSWORD_UNUSED") == []


def test_password_last_used_45_days_and_one_second_ago_is_unused(given):
    given.user("alice", password=True, mfa=True,
               password_last_used=AS_OF - timedelta(days=45, seconds=1),
               password_last_changed=days_ago(300))  # fmt: skip
    assert given.findings("PASSWORD_UNUSED") == [
        (
            "PASSWORD_UNUSED",
            ACCOUNT,
            "alice",
            None,
            None,
            "password not used for 45 days (last sign-in 2026-10-17); limit 45",
        )
    ]


def test_never_used_password_counts_from_the_last_password_change(given):
    given.user("bob", password=True, mfa=True, password_last_used="no_information",
               password_last_changed=days_ago(100))  # fmt: skip
    assert [f[5] for f in given.findings("PASSWORD_UNUSED")] == [
        "password never used (no_information); set 100 days ago (2026-08-23); limit 45"
    ]


def test_never_used_password_set_recently_is_not_unused(given):
    # The user is old, but the password was (re)set ten days ago.
    given.user("carol", created=days_ago(900), password=True, mfa=True,
               password_last_used="no_information", password_last_changed=days_ago(10))  # fmt: skip
    assert given.findings("PASSWORD_UNUSED") == []


def test_recent_sign_in_wins_over_an_old_password_change(given):
    given.user("dan", password=True, mfa=True, password_last_used=days_ago(3),
               password_last_changed=days_ago(400))  # fmt: skip
    assert given.findings("PASSWORD_UNUSED") == []


def test_never_used_password_without_change_date_counts_from_user_creation(given):
    given.user("erin", created=days_ago(60), password=True, mfa=True,
               password_last_used="no_information", password_last_changed="N/A")  # fmt: skip
    assert [f[5] for f in given.findings("PASSWORD_UNUSED")] == [
        "password never used (no_information); user created 60 days ago (2026-10-02); limit 45"
    ]


def test_user_without_console_password_is_not_judged(given):
    given.user("svc-etl", created=days_ago(900), password=False)  # N/A: no password
    given.user("svc-moto", created=days_ago(900), password=False,
               password_last_used="not_supported")  # fmt: skip
    assert given.findings("PASSWORD_UNUSED") == []


def test_root_password_is_judged_by_root_rules_only(given):
    given.user(ROOT, created=days_ago(2000), password_last_used=days_ago(500))
    given.user(ROOT, account_id="444455556666", password_last_used="no_information")
    given.report[-1]["password_enabled"] = "true"  # newer member accounts write true/false
    assert given.findings("PASSWORD_UNUSED") == []


def test_password_idle_limit_is_configurable(given):
    given.user("fatima", password=True, mfa=True, password_last_used=days_ago(20),
               password_last_changed=days_ago(300))  # fmt: skip
    found = given.findings(
        "PASSWORD_UNUSED", overrides={"PASSWORD_UNUSED": RuleOverride(max_unused_days=14)}
    )
    assert [f[5] for f in found] == [
        "password not used for 20 days (last sign-in 2026-11-11); limit 14"
    ]


def test_console_user_without_mfa_and_idle_password_has_both_findings(given):
    given.user("goran", password=True, mfa=False, password_last_used=days_ago(200),
               password_last_changed=days_ago(300))  # fmt: skip
    assert [f[0] for f in given.findings()] == ["CONSOLE_USER_WITHOUT_MFA", "PASSWORD_UNUSED"]
