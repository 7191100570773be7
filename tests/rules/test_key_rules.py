"""ACCESS_KEY_NEVER_USED, ACCESS_KEY_CREATED_AT_SETUP and INACTIVE_KEY_NOT_REMOVED: given key
rows (report slots and API keys), exactly the per-key findings they should give."""

from __future__ import annotations

from datetime import timedelta

from rules_given import ACCOUNT, AS_OF, days_ago

from keyaudit.config import RuleOverride

ROOT = "<root_account>"

# --- ACCESS_KEY_NEVER_USED --------------------------------------------------------------


def test_never_used_key_exactly_at_the_grace_period_is_not_a_finding(given):
    given.user("alice", key1={"created": days_ago(7)})
    assert given.findings("ACCESS_KEY_NEVER_USED") == []


def test_never_used_key_one_second_past_the_grace_period_is_a_finding(given):
    given.user("alice", key1={"created": AS_OF - timedelta(days=7, seconds=1)})
    assert given.findings("ACCESS_KEY_NEVER_USED") == [
        (
            "ACCESS_KEY_NEVER_USED",
            ACCOUNT,
            "alice",
            1,
            None,
            "never used; created 7 days ago (2026-11-24); grace 7 days",
        )
    ]


def test_key_created_yesterday_and_not_used_yet_is_not_a_finding(given):
    given.user("bob", key1={"created": days_ago(1)})
    assert given.findings("ACCESS_KEY_NEVER_USED") == []


def test_old_key_that_was_used_once_is_not_never_used(given):
    given.user("carol", key1={"created": days_ago(300), "last_used": days_ago(290)})
    assert given.findings("ACCESS_KEY_NEVER_USED") == []


def test_never_used_key_in_slot_2_is_reported_with_its_key_id(given):
    given.user(
        "dan",
        key1={"created": days_ago(100), "last_used": days_ago(1), "id": "AKIADAN1"},
        key2={"created": days_ago(20), "id": "AKIADAN2"},
    )
    assert [(f[2], f[3], f[4], f[5]) for f in given.findings("ACCESS_KEY_NEVER_USED")] == [
        ("dan", 2, "AKIADAN2", "never used; created 20 days ago (2026-11-11); grace 7 days")
    ]


def test_inactive_never_used_key_is_not_judged_as_never_used(given):
    given.user("erin", key1={"created": days_ago(100), "active": False})
    assert given.findings("ACCESS_KEY_NEVER_USED") == []


def test_never_used_root_key_is_judged_by_root_rules_only(given):
    given.user(ROOT, key1={"created": days_ago(100)})
    assert given.findings("ACCESS_KEY_NEVER_USED") == []


def test_live_api_use_wins_over_a_report_that_says_never_used(given):
    given.user("frank", key1={"created": days_ago(30), "id": "AKIAFRANK"})
    given.keys[0]["last_used_date"] = AS_OF - timedelta(hours=2)
    assert given.findings("ACCESS_KEY_NEVER_USED") == []


def test_never_used_key_is_also_unused_once_past_the_unused_limit(given):
    given.user("gina", key1={"created": days_ago(60)})
    assert [f[0] for f in given.findings()] == [
        "ACCESS_KEY_NEVER_USED",
        "ACCESS_KEY_UNUSED",
    ]


def test_grace_period_is_configurable(given):
    given.user("hank", key1={"created": days_ago(3)})
    found = given.findings(
        "ACCESS_KEY_NEVER_USED", overrides={"ACCESS_KEY_NEVER_USED": RuleOverride(grace_days=2)}
    )
    assert [f[5] for f in found] == ["never used; created 3 days ago (2026-11-28); grace 2 days"]


# --- ACCESS_KEY_CREATED_AT_SETUP --------------------------------------------------------

SETUP = days_ago(200)


def test_console_users_key_created_the_same_second_and_never_used_is_a_finding(given):
    given.user("ivy", created=SETUP, password=True, password_last_used=days_ago(2),
               mfa=True, key1={"created": SETUP})  # fmt: skip
    assert given.findings("ACCESS_KEY_CREATED_AT_SETUP") == [
        (
            "ACCESS_KEY_CREATED_AT_SETUP",
            ACCOUNT,
            "ivy",
            1,
            None,
            "console user; key created 0 seconds after the user (2026-05-15 06:00:00 UTC) "
            "and never used",
        )
    ]


def test_key_created_one_second_after_the_user_is_not_a_setup_key(given):
    given.user("jack", created=SETUP, password=True, key1={"created": SETUP + timedelta(seconds=1)})
    assert given.findings("ACCESS_KEY_CREATED_AT_SETUP") == []


def test_setup_key_that_was_used_is_not_a_finding(given):
    given.user("kate", created=SETUP, password=True,
               key1={"created": SETUP, "last_used": days_ago(3)})  # fmt: skip
    assert given.findings("ACCESS_KEY_CREATED_AT_SETUP") == []


def test_setup_key_of_a_user_without_console_password_is_not_a_finding(given):
    given.user("svc-etl", created=SETUP, password=False, key1={"created": SETUP})
    assert given.findings("ACCESS_KEY_CREATED_AT_SETUP") == []


def test_inactive_setup_key_is_left_to_the_inactive_key_rule(given):
    given.user("lee", created=SETUP, password=True, password_last_used=days_ago(2), mfa=True,
               key1={"created": SETUP, "active": False})  # fmt: skip
    assert [f[0] for f in given.findings()] == ["INACTIVE_KEY_NOT_REMOVED"]


def test_api_key_with_fractional_create_date_in_the_same_second_is_a_setup_key(given):
    given.user("mia", created=SETUP, password=True, key1={"created": SETUP, "id": "AKIAMIA"})
    given.keys[0]["create_date"] = SETUP + timedelta(microseconds=731000)
    assert [(f[3], f[4]) for f in given.findings("ACCESS_KEY_CREATED_AT_SETUP")] == [(1, "AKIAMIA")]


def test_setup_key_in_slot_2_is_judged_per_key(given):
    given.user("ned", created=SETUP, password=True,
               key1={"created": SETUP, "last_used": days_ago(1)},
               key2={"created": SETUP})  # fmt: skip
    assert [(f[2], f[3]) for f in given.findings("ACCESS_KEY_CREATED_AT_SETUP")] == [("ned", 2)]


def test_root_key_created_with_the_account_is_not_a_setup_key(given):
    given.user(ROOT, created=SETUP, key1={"created": SETUP})
    given.report[-1]["password_enabled"] = "true"  # newer member accounts
    assert given.findings("ACCESS_KEY_CREATED_AT_SETUP") == []


# --- INACTIVE_KEY_NOT_REMOVED -----------------------------------------------------------


def test_inactive_key_created_exactly_30_days_ago_is_not_a_finding(given):
    given.user("olga", key1={"created": days_ago(30), "active": False})
    assert given.findings("INACTIVE_KEY_NOT_REMOVED") == []


def test_inactive_key_created_30_days_and_one_second_ago_is_a_finding(given):
    given.user("olga", key1={"created": AS_OF - timedelta(days=30, seconds=1), "active": False})
    assert given.findings("INACTIVE_KEY_NOT_REMOVED") == [
        (
            "INACTIVE_KEY_NOT_REMOVED",
            ACCOUNT,
            "olga",
            1,
            None,
            "inactive; created 30 days ago (2026-11-01); limit 30",
        )
    ]


def test_active_old_key_is_not_an_inactive_key(given):
    given.user("pat", key1={"created": days_ago(400), "last_used": days_ago(1)})
    assert given.findings("INACTIVE_KEY_NOT_REMOVED") == []


def test_both_inactive_slots_are_separate_findings(given):
    given.user(
        "quinn",
        key1={
            "created": days_ago(300),
            "last_used": days_ago(200),
            "active": False,
            "id": "AKIAQ1",
        },
        key2={"created": days_ago(100), "active": False, "id": "AKIAQ2"},
    )
    assert [(f[3], f[4], f[5]) for f in given.findings("INACTIVE_KEY_NOT_REMOVED")] == [
        (1, "AKIAQ1", "inactive; created 300 days ago (2026-02-04); limit 30"),
        (2, "AKIAQ2", "inactive; created 100 days ago (2026-08-23); limit 30"),
    ]


def test_key_deactivated_after_the_report_is_judged_by_the_live_status(given):
    given.user("rosa", key1={"created": days_ago(90), "last_used": days_ago(80), "id": "AKIAR"})
    given.keys[0]["status"] = "Inactive"
    assert [(f[3], f[4]) for f in given.findings("INACTIVE_KEY_NOT_REMOVED")] == [(1, "AKIAR")]


def test_inactive_root_key_is_judged_by_root_rules_only(given):
    given.user(ROOT, key1={"created": days_ago(500), "active": False})
    assert given.findings("INACTIVE_KEY_NOT_REMOVED") == []


def test_inactive_key_limit_is_configurable(given):
    given.user("sven", key1={"created": days_ago(10), "active": False})
    found = given.findings(
        "INACTIVE_KEY_NOT_REMOVED",
        overrides={"INACTIVE_KEY_NOT_REMOVED": RuleOverride(max_inactive_days=7)},
    )
    assert [f[5] for f in found] == ["inactive; created 10 days ago (2026-11-21); limit 7"]
