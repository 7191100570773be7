"""Given credential-report rows (and API keys), the rules find exactly what they should."""

from __future__ import annotations

from datetime import timedelta

from rules_given import ACCOUNT, AS_OF, days_ago

# --- ACCESS_KEY_NOT_ROTATED -------------------------------------------------------------


def test_key_exactly_90_days_old_is_not_a_finding(given):
    given.user("alice", key1={"created": days_ago(90), "last_used": days_ago(1)})
    assert given.findings("ACCESS_KEY_NOT_ROTATED") == []


def test_key_one_second_over_90_days_is_not_rotated(given):
    given.user(
        "alice", key1={"created": AS_OF - timedelta(days=90, seconds=1), "last_used": days_ago(1)}
    )
    assert given.findings("ACCESS_KEY_NOT_ROTATED") == [
        (
            "ACCESS_KEY_NOT_ROTATED",
            ACCOUNT,
            "alice",
            1,
            None,
            "created 90 days ago (2026-09-02); limit 90",
        )
    ]


def test_old_key_in_slot_2_is_reported_with_its_key_id(given):
    given.user(
        "bob",
        key1={"created": days_ago(10), "last_used": days_ago(1), "id": "AKIANEW"},
        key2={"created": days_ago(200), "last_used": days_ago(1), "id": "AKIAOLD"},
    )
    found = given.findings("ACCESS_KEY_NOT_ROTATED")
    assert [(f[2], f[3], f[4]) for f in found] == [("bob", 2, "AKIAOLD")]
    assert found[0][5].startswith("created 200 days ago")


def test_inactive_old_key_is_not_judged_for_rotation(given):
    given.user("carol", key1={"created": days_ago(300), "active": False})
    assert given.findings("ACCESS_KEY_NOT_ROTATED") == []


def test_root_key_is_judged_by_root_rules_only(given):
    given.user("<root_account>", key1={"created": days_ago(500)})
    assert given.findings("ACCESS_KEY_NOT_ROTATED") == []
    assert [f[0] for f in given.findings("ROOT_ACCESS_KEY_PRESENT")] == ["ROOT_ACCESS_KEY_PRESENT"]


def test_rotation_limit_is_configurable(given):
    from keyaudit.config import RuleOverride

    given.user("dan", key1={"created": days_ago(40), "last_used": days_ago(1)})
    found = given.findings(
        "ACCESS_KEY_NOT_ROTATED",
        overrides={"ACCESS_KEY_NOT_ROTATED": RuleOverride(max_key_age_days=30)},
    )
    assert found[0][5] == "created 40 days ago (2026-10-22); limit 30"


# --- ACCESS_KEY_UNUSED ------------------------------------------------------------------


def test_never_used_key_counts_from_creation_date(given):
    given.user("erin", key1={"created": days_ago(60)})
    assert given.findings("ACCESS_KEY_UNUSED") == [
        ("ACCESS_KEY_UNUSED", ACCOUNT, "erin", 1, None, "never used; created 60 days ago; limit 45")
    ]


def test_recently_created_never_used_key_is_not_unused(given):
    given.user("frank", key1={"created": days_ago(1)})
    assert given.findings("ACCESS_KEY_UNUSED") == []


def test_key_idle_for_months_is_unused(given):
    given.user("gina", key1={"created": days_ago(400), "last_used": days_ago(212)})
    assert (
        given.findings("ACCESS_KEY_UNUSED")[0][5]
        == "not used for 212 days (last used 2026-05-03); limit 45"
    )


def test_key_used_exactly_45_days_ago_is_not_unused(given):
    given.user("hank", key1={"created": days_ago(100), "last_used": days_ago(45)})
    assert given.findings("ACCESS_KEY_UNUSED") == []


def test_api_last_used_wins_over_the_older_report(given):
    # The report says never used, the live API knows it was used yesterday.
    given.user("ivy", key1={"created": days_ago(100), "id": "AKIAIVY"})
    given.keys[0]["last_used_date"] = days_ago(1)
    assert given.findings("ACCESS_KEY_UNUSED") == []


# --- MULTIPLE_ACTIVE_KEYS ---------------------------------------------------------------


def test_two_active_keys_is_one_finding_per_user(given):
    given.user("jack", key1={"created": days_ago(10)}, key2={"created": days_ago(5)})
    assert given.findings("MULTIPLE_ACTIVE_KEYS") == [
        ("MULTIPLE_ACTIVE_KEYS", ACCOUNT, "jack", None, None, "2 active access keys; limit 1")
    ]


def test_one_active_and_one_inactive_key_is_fine(given):
    given.user(
        "kate", key1={"created": days_ago(10)}, key2={"created": days_ago(5), "active": False}
    )
    assert given.findings("MULTIPLE_ACTIVE_KEYS") == []


# --- CONSOLE_USER_WITHOUT_MFA -----------------------------------------------------------


def test_console_user_without_mfa_is_a_finding(given):
    given.user("lee", password=True, password_last_used=days_ago(3), mfa=False)
    given.user("mia", password=True, password_last_used="no_information", mfa=True)
    given.user("ned", password=False, mfa=False)
    assert given.findings("CONSOLE_USER_WITHOUT_MFA") == [
        (
            "CONSOLE_USER_WITHOUT_MFA",
            ACCOUNT,
            "lee",
            None,
            None,
            "console password enabled (last sign-in 2026-11-28); no MFA device active",
        )
    ]


def test_root_without_mfa_is_not_a_console_user_finding(given):
    given.user("<root_account>", mfa=False)
    assert given.findings("CONSOLE_USER_WITHOUT_MFA") == []


# --- ROOT_ACCESS_KEY_PRESENT ------------------------------------------------------------


def test_inactive_root_key_is_not_an_active_root_key(given):
    given.user("<root_account>", key1={"created": days_ago(500), "active": False})
    assert given.findings("ROOT_ACCESS_KEY_PRESENT") == []


def test_live_account_summary_catches_a_root_key_the_report_does_not_show(given):
    given.account(
        report_generated_at=AS_OF - timedelta(hours=3), summary_root_access_keys_present=1
    )
    given.user("<root_account>")
    found = given.findings("ROOT_ACCESS_KEY_PRESENT")
    assert [(f[2], f[3]) for f in found] == [("<root_account>", None)]
    assert "GetAccountSummary reports a root access key" in found[0][5]


# --- ACCOUNT_NOT_ASSESSED ---------------------------------------------------------------


def test_account_that_failed_is_a_finding_with_its_error(given):
    given.account(
        "222233334444",
        status="not_assessed",
        error="account 222233334444: AccessDenied on sts:AssumeRole",
    )
    given.account("333344445555", status="skipped", error="account state is SUSPENDED")
    assert given.findings("ACCOUNT_NOT_ASSESSED") == [
        (
            "ACCOUNT_NOT_ASSESSED",
            "222233334444",
            None,
            None,
            None,
            "account 222233334444: AccessDenied on sts:AssumeRole",
        )
    ]


def test_findings_are_deterministic_for_a_fixed_as_of(given, warehouse):
    given.user("olga", key1={"created": days_ago(120)}, key2={"created": days_ago(100)})
    first = given.findings()
    ids = warehouse.execute("select finding_id from findings order by all").fetchall()
    warehouse.execute("delete from findings")
    from keyaudit.rules.catalogue import load_catalogue
    from keyaudit.warehouse.findings import evaluate

    evaluate(warehouse, "run-1", AS_OF, load_catalogue())
    assert warehouse.execute("select finding_id from findings order by all").fetchall() == ids
    assert len(first) == 7  # not rotated, unused and never used x2; two active keys


def test_api_create_date_with_fractional_seconds_joins_its_report_slot(given, warehouse):
    given.user("pat", key1={"created": days_ago(10), "last_used": days_ago(1), "id": "AKIAPAT"})
    given.keys[0]["create_date"] = days_ago(10) + timedelta(microseconds=664590)
    given.findings()
    rows = warehouse.execute("select key_slot, access_key_id, source from keys").fetchall()
    assert rows == [(1, "AKIAPAT", "report+api")]


def test_report_slot_without_api_key_is_a_data_note(given, warehouse):
    given.user(
        "quinn", key1={"created": days_ago(10), "id": "AKIAQ"}, key2={"created": days_ago(5)}
    )
    given.findings()
    notes = warehouse.execute("select message from key_mismatches").fetchall()
    assert len(notes) == 1
    assert "credential report slot 2 of quinn" in notes[0][0]


def test_two_keys_created_in_the_same_second_are_paired_not_doubled(given, warehouse):
    same = days_ago(100)
    given.user(
        "rae",
        key1={"created": same, "id": "AKIARAE1"},
        key2={"created": same, "last_used": days_ago(1), "id": "AKIARAE2"},
    )
    given.keys[0]["create_date"] = same + timedelta(microseconds=100)
    given.keys[1]["create_date"] = same + timedelta(microseconds=900)
    found = given.findings("ACCESS_KEY_NOT_ROTATED")
    assert [(f[3], f[4]) for f in found] == [(1, "AKIARAE1"), (2, "AKIARAE2")]
    rows = warehouse.execute(
        "select key_slot, access_key_id, source from keys order by 1"
    ).fetchall()
    assert rows == [(1, "AKIARAE1", "report+api"), (2, "AKIARAE2", "report+api")]
