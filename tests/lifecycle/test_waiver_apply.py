"""Waivers applied to a run's findings: a waived finding stays, marked with its waiver; expired
waivers stop suppressing; waivers that match nothing are listed as unused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from lifecycle_given import A, B, finding, waiver

from keyaudit.evidence.kept_waivers import read_waiver_evidence, write_waiver_evidence
from keyaudit.evidence.store import EvidenceStore
from keyaudit.rules.waivers import parse_waivers
from keyaudit.warehouse.waivers import apply_waivers

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
KEY_1, KEY_2 = "AKIAAAAAAAAAAAAAAAA1", "AKIAAAAAAAAAAAAAAAA2"
FINDINGS = [
    finding("ACCESS_KEY_NOT_ROTATED", A, "svc-backup", KEY_1, key_slot=1),
    finding("ACCESS_KEY_NOT_ROTATED", A, "svc-backup", KEY_2, key_slot=2),
    finding("ACCESS_KEY_NOT_ROTATED", A, "SVC-ETL", "AKIAAAAAAAAAAAAAAAA3", key_slot=1),
    finding("ACCESS_KEY_NOT_ROTATED", A, "ana.costa", "AKIAAAAAAAAAAAAAAAA4", key_slot=1),
    finding("ACCESS_KEY_NOT_ROTATED", B, "svc-backup", "AKIAAAAAAAAAAAAAAAA5", key_slot=1),
    finding("CONSOLE_USER_WITHOUT_MFA", A, "ana.costa"),
]


def marks(history, run_id: str = "r1") -> dict[tuple, str | None]:
    """(user, key or rule) → waiver id, for every finding; None when not waived."""
    rows = history.rows(
        "select user_name, coalesce(access_key_id, rule_id), waived, waiver_id from findings "
        "where run_id = ? order by all",
        run_id,
    )
    assert all(waived == (waiver_id is not None) for _, _, waived, waiver_id in rows)
    return {(u, k): w for u, k, _, w in rows}


def statuses(history, run_id: str = "r1") -> dict[str, tuple[str, int]]:
    rows = history.rows(
        "select waiver_id, status, count_matched from waivers where run_id = ?", run_id
    )
    return {w: (s, n) for w, s, n in rows}


def test_a_waived_finding_stays_in_the_data_marked_with_its_waiver(history):
    history.run("r1", AS_OF, FINDINGS)
    outcome = apply_waivers(history.con, "r1", [waiver("W-1", user_name="ana.costa")])
    assert history.rows("select count(*) from findings where run_id = 'r1'") == [(6,)]
    assert marks(history)[("ana.costa", "AKIAAAAAAAAAAAAAAAA4")] == "W-1"
    assert marks(history)[("ana.costa", "CONSOLE_USER_WITHOUT_MFA")] is None  # other rule
    assert outcome.findings_waived == 1
    assert statuses(history) == {"W-1": ("active", 1)}


def test_a_user_glob_matches_every_user_it_names_in_its_account_only(history):
    history.run("r1", AS_OF, FINDINGS)
    apply_waivers(history.con, "r1", [waiver("W-svc", user_name="svc-*")])
    waived = {k for k, w in marks(history).items() if w == "W-svc"}
    assert waived == {
        ("svc-backup", KEY_1),
        ("svc-backup", KEY_2),
        ("SVC-ETL", "AKIAAAAAAAAAAAAAAAA3"),  # IAM user names are case-insensitive
    }
    assert statuses(history) == {"W-svc": ("active", 3)}


def test_a_waiver_without_user_covers_the_rule_in_the_whole_account(history):
    history.run("r1", AS_OF, FINDINGS)
    apply_waivers(history.con, "r1", [waiver("W-acct")])
    assert statuses(history) == {"W-acct": ("active", 4)}


def test_a_key_waiver_covers_that_key_only(history):
    history.run("r1", AS_OF, FINDINGS)
    apply_waivers(history.con, "r1", [waiver("W-key", access_key_id=KEY_2)])
    waived = {k for k, w in marks(history).items() if w == "W-key"}
    assert waived == {("svc-backup", KEY_2)}


def test_a_key_waiver_with_a_user_that_does_not_own_the_key_matches_nothing(history):
    history.run("r1", AS_OF, FINDINGS)
    apply_waivers(history.con, "r1", [waiver("W-key", user_name="ana.*", access_key_id=KEY_2)])
    assert statuses(history) == {"W-key": ("unused", 0)}


def test_a_waiver_is_still_active_on_its_expiry_day(history):
    history.run("r1", datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC), FINDINGS)
    apply_waivers(history.con, "r1", [waiver("W-1", access_key_id=KEY_1)])
    assert marks(history)[("svc-backup", KEY_1)] == "W-1"
    assert statuses(history) == {"W-1": ("active", 1)}


def test_a_waiver_expires_the_day_after_its_expiry_date(history):
    history.run("r1", datetime(2027, 2, 1, 0, 0, tzinfo=UTC), FINDINGS)
    outcome = apply_waivers(history.con, "r1", [waiver("W-1", access_key_id=KEY_1)])
    assert marks(history)[("svc-backup", KEY_1)] is None  # no longer suppressed
    assert statuses(history) == {"W-1": ("expired", 1)}  # listed, with what it would cover
    assert (outcome.findings_waived, outcome.expired) == (0, 1)


def test_expiry_uses_the_utc_date_of_as_of():
    expiring = waiver("W-1", expires_on=date(2027, 1, 31))
    assert not expiring.is_expired(datetime(2027, 1, 31, 23, 59, tzinfo=UTC))
    assert expiring.is_expired(datetime(2027, 2, 1, 0, 0, tzinfo=UTC))
    plus_two = datetime(2027, 2, 1, 1, 0, tzinfo=UTC).astimezone(
        __import__("datetime").timezone(timedelta(hours=2))
    )
    assert expiring.is_expired(plus_two)


def test_a_waiver_that_matches_nothing_is_listed_as_unused(history):
    history.run("r1", AS_OF, FINDINGS)
    outcome = apply_waivers(
        history.con,
        "r1",
        [
            waiver("W-other-account", account_id="999999999999"),
            waiver("W-no-user", user_name="nobody-*"),
            waiver("W-no-finding", rule_id="MULTIPLE_ACTIVE_KEYS"),
        ],
    )
    assert statuses(history) == {
        "W-other-account": ("unused", 0),
        "W-no-user": ("unused", 0),
        "W-no-finding": ("unused", 0),
    }
    assert outcome.unused == 3
    assert outcome.findings_waived == 0


def test_when_two_waivers_cover_a_finding_the_first_in_the_file_wins(history):
    history.run("r1", AS_OF, FINDINGS)
    text = """\
- id: W-broad
  rule: ACCESS_KEY_NOT_ROTATED
  account: "111111111111"
  reason: legacy account, decommissioned in Q1
  approved_by: ciso@example.com
  ticket: RISK-1
  expires_on: 2027-03-31
- id: W-narrow
  rule: ACCESS_KEY_NOT_ROTATED
  account: "111111111111"
  user: svc-backup
  reason: backup appliance
  approved_by: ciso@example.com
  ticket: RISK-2
  expires_on: 2027-03-31
"""
    waivers = parse_waivers(text, "waivers.yml", {"ACCESS_KEY_NOT_ROTATED": "key"})
    apply_waivers(history.con, "r1", waivers)
    assert set(marks(history).values()) == {"W-broad", None}
    assert statuses(history) == {"W-broad": ("active", 4), "W-narrow": ("active", 2)}
    stored = history.rows(
        "select waiver_id, line_number, user_name, expires_on from waivers order by line_number"
    )
    assert stored == [
        ("W-broad", 1, None, date(2027, 3, 31)),
        ("W-narrow", 8, "svc-backup", date(2027, 3, 31)),
    ]


def test_an_expired_waiver_lets_a_later_active_one_cover_the_finding(history):
    history.run("r1", AS_OF, FINDINGS)
    apply_waivers(
        history.con,
        "r1",
        [
            waiver("W-old", access_key_id=KEY_1, expires_on=date(2026, 11, 30)),
            waiver("W-new", access_key_id=KEY_1),
        ],
    )
    assert marks(history)[("svc-backup", KEY_1)] == "W-new"
    assert statuses(history) == {"W-old": ("expired", 1), "W-new": ("active", 1)}


def test_applying_again_replaces_the_runs_waivers(history):
    history.run("r1", AS_OF, FINDINGS)
    apply_waivers(history.con, "r1", [waiver("W-1"), waiver("W-2", user_name="x")])
    apply_waivers(history.con, "r1", [waiver("W-3", user_name="ana.costa")])
    assert statuses(history) == {"W-3": ("active", 1)}


def test_no_waivers_leaves_findings_unwaived(history):
    history.run("r1", AS_OF, FINDINGS)
    outcome = apply_waivers(history.con, "r1", None)
    assert outcome.findings_waived == 0
    assert history.rows("select count(*) from waivers") == [(0,)]


def test_the_waiver_file_is_kept_verbatim_with_the_runs_evidence(tmp_path):
    text = """\
- id: W-1
  rule: ACCESS_KEY_NOT_ROTATED
  account: "111111111111"
  reason: backup appliance
  approved_by: ciso@example.com
  ticket: RISK-2
  expires_on: 2027-03-31
"""
    scopes = {"ACCESS_KEY_NOT_ROTATED": "key"}
    store = EvidenceStore(tmp_path / "evidence", "run-1")
    store.prepare()
    assert read_waiver_evidence(store, scopes) is None
    write_waiver_evidence(store, parse_waivers(text, "waivers.yml", scopes))
    kept = read_waiver_evidence(store, scopes)
    assert (store.run_dir / "waivers.yml").read_text() == text
    assert kept is not None and [w.waiver_id for w in kept.waivers] == ["W-1"]
    assert (store.run_dir / "waivers.yml").stat().st_mode & 0o777 == 0o600
