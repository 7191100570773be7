"""One key, one identity across runs: a key known by its id in one run and only by its report slot
in another (a files run without the access-keys file, root keys) is the same key when account,
user and creation time agree — never resolved and new at once, never counted as remediated.
Given keys for runs -> expected new, resolved and time to remediate."""

from __future__ import annotations

from datetime import UTC, datetime

from keys_given import Key, audit
from lifecycle_given import A

from keyaudit.warehouse.db import migrate

DEC = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
JAN = datetime(2027, 1, 1, 6, 0, tzinfo=UTC)  # 31 days after DEC
FEB = datetime(2027, 2, 1, 6, 0, tzinfo=UTC)  # 62 days after DEC

CREATED = datetime(2025, 6, 1, 14, 22, 5, tzinfo=UTC)  # old enough for ACCESS_KEY_NOT_ROTATED
OLD = Key("svc-etl", slot=1, created=CREATED, key_id="AKIAOLDKEY0000000001")
ROTATED = Key("svc-etl", slot=1, created=datetime(2025, 9, 1, 9, 0, 0, tzinfo=UTC),
              key_id="AKIANEWKEY0000000002")  # fmt: skip


def changes(history, run_id: str) -> dict[str, list[tuple]]:
    """What the lifecycle views say a run changed: new, resolved (with days), open (first seen)."""
    return {
        "new": history.rows(
            "select rule_id, user_name from findings_new where run_id = ? order by all", run_id
        ),
        "resolved": history.rows(
            "select rule_id, user_name, days_to_remediate from findings_resolved "
            "where run_id = ? order by all",
            run_id,
        ),
        "open": history.rows(
            "select rule_id, user_name, first_seen_run_id, days_open, is_new "
            "from finding_lifecycle where run_id = ? order by all",
            run_id,
        ),
    }


def mttr(history) -> list[tuple]:
    return history.rows("select severity, resolved_count from mttr_by_severity order by all")


def between(history, from_run: str, to_run: str) -> list[tuple]:
    """The saved query `changes_between_runs`, as `keyaudit query` runs it."""
    from keyaudit.paths import SQL_DIR

    sql = (SQL_DIR / "queries" / "changes_between_runs.sql").read_text(encoding="utf-8")
    found = history.con.execute(
        f"select change, rule_id, user_name from ({sql})",
        {"from_run": from_run, "to_run": to_run},
    )
    return [tuple(r) for r in found.fetchall()]


def test_a_key_known_by_id_then_only_by_its_slot_is_neither_resolved_nor_new(history):
    audit(history, "dec", DEC, [OLD], with_key_ids=True)
    audit(history, "jan", JAN, [OLD], with_key_ids=False)
    assert history.rows("select access_key_id, key_slot from findings where run_id = 'jan'") == [
        (None, 1)
    ]
    assert changes(history, "jan") == {
        "new": [],
        "resolved": [],
        "open": [("ACCESS_KEY_NOT_ROTATED", "svc-etl", "dec", 31, False)],
    }
    assert mttr(history) == []
    assert between(history, "dec", "jan") == []


def test_a_key_known_only_by_its_slot_then_by_id_is_neither_resolved_nor_new(history):
    audit(history, "dec", DEC, [OLD], with_key_ids=False)
    audit(history, "jan", JAN, [OLD], with_key_ids=True)
    assert changes(history, "jan") == {
        "new": [],
        "resolved": [],
        "open": [("ACCESS_KEY_NOT_ROTATED", "svc-etl", "dec", 31, False)],
    }
    assert mttr(history) == []
    assert between(history, "dec", "jan") == []


def test_an_unchanged_key_with_its_id_only_in_the_middle_run_stays_one_finding(history):
    audit(history, "dec", DEC, [OLD], with_key_ids=False)
    audit(history, "jan", JAN, [OLD], with_key_ids=True)
    audit(history, "feb", FEB, [OLD], with_key_ids=False)
    for run_id in ("jan", "feb"):
        assert changes(history, run_id)["new"] == []
        assert changes(history, run_id)["resolved"] == []
    assert changes(history, "feb")["open"] == [
        ("ACCESS_KEY_NOT_ROTATED", "svc-etl", "dec", 62, False)
    ]
    assert history.rows("select count(distinct finding_id) from findings") == [(1,)]
    assert mttr(history) == []


def test_a_key_rotated_in_the_same_slot_is_a_new_key_and_the_old_one_is_resolved(history):
    audit(history, "dec", DEC, [OLD], with_key_ids=True)
    audit(history, "jan", JAN, [ROTATED], with_key_ids=False)
    assert changes(history, "jan") == {
        "new": [("ACCESS_KEY_NOT_ROTATED", "svc-etl")],
        "resolved": [("ACCESS_KEY_NOT_ROTATED", "svc-etl", 31)],
        "open": [("ACCESS_KEY_NOT_ROTATED", "svc-etl", "jan", 0, True)],
    }
    assert mttr(history) == [("high", 1)]


def test_a_rotation_is_seen_from_the_creation_time_even_without_key_ids(history):
    audit(history, "dec", DEC, [OLD], with_key_ids=False)
    audit(history, "jan", JAN, [ROTATED], with_key_ids=False)
    assert changes(history, "jan")["new"] == [("ACCESS_KEY_NOT_ROTATED", "svc-etl")]
    assert changes(history, "jan")["resolved"] == [("ACCESS_KEY_NOT_ROTATED", "svc-etl", 31)]


def test_a_root_key_known_by_its_slot_keeps_its_finding(history):
    root_key = Key("<root_account>", slot=1, created=CREATED)
    audit(history, "dec", DEC, [root_key])
    audit(history, "jan", JAN, [root_key])
    assert changes(history, "jan")["open"] == [
        ("ROOT_ACCESS_KEY_PRESENT", "<root_account>", "dec", 31, False)
    ]


def test_two_keys_created_in_the_same_second_stay_two_findings_across_id_and_slot(history):
    twins = [
        Key("svc-etl", slot=1, created=CREATED, key_id="AKIATWIN000000000001"),
        Key("svc-etl", slot=2, created=CREATED, key_id="AKIATWIN000000000002"),
    ]
    audit(history, "dec", DEC, twins, with_key_ids=True)
    audit(history, "jan", JAN, twins, with_key_ids=False)
    for run_id in ("dec", "jan"):
        assert history.rows(
            "select count(distinct finding_id) from findings where run_id = ?", run_id
        ) == [(2,)]
    assert changes(history, "jan")["new"] == []
    assert changes(history, "jan")["resolved"] == []
    by_slot = {
        run_id: dict(history.rows(
            "select key_slot, finding_id from findings where run_id = ?", run_id
        ))
        for run_id in ("dec", "jan")
    }  # fmt: skip
    assert by_slot["dec"] == by_slot["jan"]  # slot 1 pairs with the older key id, as in the mart


def test_findings_stored_before_the_key_identity_are_re_identified_by_the_migration(history):
    audit(history, "dec", DEC, [OLD, Key("ana", slot=1, created=CREATED)], with_key_ids=True)
    # as the warehouse held them before migration 0006: named by key id, else by slot
    history.con.execute(
        "update findings set finding_id = substr(sha256(concat_ws('|', rule_id, account_id, "
        "coalesce(user_name, ''), coalesce(access_key_id, 'slot-' || cast(key_slot as varchar), "
        "''))), 1, 16)"
    )
    history.con.execute("delete from schema_migrations where version = 6")
    migrate(history.con)
    audit(history, "jan", JAN, [OLD, Key("ana", slot=1, created=CREATED)], with_key_ids=False)
    assert changes(history, "jan")["new"] == []
    assert changes(history, "jan")["resolved"] == []
    assert [r[2] for r in changes(history, "jan")["open"]] == ["dec", "dec"]


def test_findings_about_users_and_accounts_keep_their_ids(history):
    """Only key findings changed identity: a user or account finding's id is as before."""
    history.run("dec", DEC, [])
    history.con.execute(
        "insert into findings (run_id, finding_id, rule_id, severity, account_id, user_name, "
        "reason) select 'dec', ka_finding_id('MULTIPLE_ACTIVE_KEYS', ?, 'ana', null, null, "
        "null, null), 'MULTIPLE_ACTIVE_KEYS', 'medium', ?, 'ana', 'two keys'",
        [A, A],
    )
    assert history.rows("select finding_id from findings") == history.rows(
        "select substr(sha256(concat_ws('|', 'MULTIPLE_ACTIVE_KEYS', ?, 'ana', '')), 1, 16)", A
    )
