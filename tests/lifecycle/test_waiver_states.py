"""Waivers behave like exceptions: each state at its boundary, with an injected as_of.

- expiry: `expires_on` is inclusive; at 00:00:00 UTC of the next day a waiver suppresses nothing;
- needs review: from exactly review_days before expires_on, not from review_days + 1;
- key replaced: a waiver naming a key id covers that key only, never its replacement;
- new key after the grant: a waiver without a key id reopens for a key created after `granted`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from lifecycle_given import A, finding
from lifecycle_given import waiver as given_waiver

from keyaudit.report.methodology import waiver_lists
from keyaudit.report.queries import rows
from keyaudit.rules.waivers import Waiver, parse_waivers
from keyaudit.warehouse.db import insert_frame
from keyaudit.warehouse.waivers import apply_waivers

RULE = "ACCESS_KEY_NOT_ROTATED"
OLD_KEY, NEW_KEY = "AKIAOLDKEY0000000001", "AKIANEWKEY0000000002"
GRANTED = date(2026, 9, 30)
EXPIRES = date(2027, 3, 31)
EXPIRY_INSTANT = datetime(2027, 4, 1, 0, 0, 0, tzinfo=UTC)  # the first second it no longer holds
AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def waiver(waiver_id: str = "W-1", **fields) -> Waiver:
    """A waiver of RULE in account A until EXPIRES, narrowed by `fields`."""
    return given_waiver(waiver_id, RULE, **{"expires_on": EXPIRES, **fields})


def given_keys(history, run_id: str, keys: dict[str, datetime], user: str = "svc-backup") -> None:
    """The run's keys mart holds these keys (id → created) of `user`, in slots 1, 2."""
    frame = pd.DataFrame(
        [
            {
                "run_id": run_id,
                "account_id": A,
                "user_name": user,
                "key_slot": slot,
                "access_key_id": key_id,
                "created_at": created,
            }
            for slot, (key_id, created) in enumerate(keys.items(), start=1)
        ]
    )
    insert_frame(history.con, "keys", frame)


def key_findings(*key_ids: str, user: str = "svc-backup") -> list[dict]:
    return [finding(RULE, A, user, key_id, key_slot=n) for n, key_id in enumerate(key_ids, 1)]


def waived(history, run_id: str = "r1") -> dict[str, str | None]:
    """key id → the waiver that suppresses its finding, None when open."""
    found = history.rows(
        "select access_key_id, waiver_id from findings where run_id = ? and access_key_id is not null",
        run_id,
    )
    return dict(found)


def status(history, waiver_id: str = "W-1", run_id: str = "r1") -> tuple:
    (row,) = history.rows(
        "select status, count_matched, count_reopened, needs_review from waivers "
        "where run_id = ? and waiver_id = ?",
        run_id,
        waiver_id,
    )
    return row


# --- expiry at the boundary second -----------------------------------------------------------


def test_a_waiver_still_suppresses_one_second_before_its_expiry_instant(history):
    history.run("r1", EXPIRY_INSTANT - timedelta(seconds=1), key_findings(OLD_KEY))
    apply_waivers(history.con, "r1", [waiver(access_key_id=OLD_KEY)])
    assert waived(history) == {OLD_KEY: "W-1"}
    assert status(history)[0] == "active"


def test_a_waiver_never_suppresses_at_its_expiry_instant(history):
    history.run("r1", EXPIRY_INSTANT, key_findings(OLD_KEY))
    outcome = apply_waivers(history.con, "r1", [waiver(access_key_id=OLD_KEY)])
    assert waived(history) == {OLD_KEY: None}
    assert status(history) == ("expired", 1, 0, False)  # listed, not due for review any more
    assert outcome.findings_waived == 0


def test_a_waiver_never_suppresses_after_its_expiry_instant_even_when_it_was_reopened(history):
    history.run("r1", EXPIRY_INSTANT + timedelta(days=40), key_findings(OLD_KEY, NEW_KEY))
    given_keys(history, "r1", {OLD_KEY: datetime(2026, 1, 5, tzinfo=UTC)})
    apply_waivers(history.con, "r1", [waiver(user_name="svc-backup", granted_on=GRANTED)])
    assert waived(history) == {OLD_KEY: None, NEW_KEY: None}
    assert status(history)[0] == "expired"


# --- needs review at exactly N days ----------------------------------------------------------


@pytest.mark.parametrize(
    ("days_before", "review_days", "needs_review"),
    [
        (14, 14, True),  # exactly N days before expires_on
        (15, 14, False),  # N + 1 days before
        (0, 14, True),  # the last day it holds
        (0, 0, True),
        (1, 0, False),
    ],
)
def test_a_waiver_needs_review_from_exactly_review_days_before_it_expires(
    history, days_before, review_days, needs_review
):
    as_of = datetime.combine(EXPIRES - timedelta(days=days_before), datetime.min.time(), UTC)
    history.run("r1", as_of + timedelta(hours=23, minutes=59), key_findings(OLD_KEY))
    outcome = apply_waivers(
        history.con, "r1", [waiver(access_key_id=OLD_KEY)], review_days=review_days
    )
    assert status(history) == ("active", 1, 0, needs_review)
    assert outcome.needs_review == int(needs_review)
    assert waived(history) == {OLD_KEY: "W-1"}  # needing review still suppresses


def test_an_unused_waiver_needs_review_too(history):
    history.run("r1", datetime(2027, 3, 20, tzinfo=UTC), key_findings(OLD_KEY))
    apply_waivers(history.con, "r1", [waiver(user_name="nobody")], review_days=14)
    assert status(history) == ("unused", 0, 0, True)


def test_the_owner_email_lists_only_its_accounts_waivers_that_need_review(history):
    history.run("r1", datetime(2027, 3, 20, tzinfo=UTC), key_findings(OLD_KEY))
    apply_waivers(
        history.con,
        "r1",
        [
            waiver("W-soon", access_key_id=OLD_KEY),
            waiver("W-later", access_key_id=OLD_KEY, expires_on=date(2027, 6, 30)),
            waiver("W-elsewhere", account_id="999999999999", expires_on=date(2027, 3, 21)),
        ],
        review_days=14,
    )
    listed = rows(history.con, "waivers_to_review", {"run_id": "r1", "account_ids": [A]})
    assert [(w["waiver_id"], w["expires_on"]) for w in listed] == [("W-soon", EXPIRES)]


# --- a key-id waiver and the key's replacement -----------------------------------------------


def test_a_key_waiver_does_not_cover_the_key_that_replaced_it(history):
    history.run("r1", AS_OF, key_findings(NEW_KEY))
    given_keys(history, "r1", {NEW_KEY: datetime(2026, 11, 20, tzinfo=UTC)})
    apply_waivers(history.con, "r1", [waiver(access_key_id=OLD_KEY)])
    assert waived(history) == {NEW_KEY: None}  # a new key is a new finding
    assert status(history) == ("unused", 0, 0, False)


def test_a_key_waiver_keeps_covering_the_old_key_while_both_keys_exist(history):
    history.run("r1", AS_OF, key_findings(OLD_KEY, NEW_KEY))
    given_keys(
        history,
        "r1",
        {OLD_KEY: datetime(2026, 1, 5, tzinfo=UTC), NEW_KEY: datetime(2026, 11, 20, tzinfo=UTC)},
    )
    apply_waivers(history.con, "r1", [waiver(access_key_id=OLD_KEY, granted_on=GRANTED)])
    assert waived(history) == {OLD_KEY: "W-1", NEW_KEY: None}
    assert status(history) == ("active", 1, 0, False)  # a key waiver is never "reopened"


# --- a user waiver and a key created after the grant -----------------------------------------


def test_a_user_waiver_reopens_for_a_key_created_after_it_was_granted(history):
    history.run("r1", AS_OF, key_findings(OLD_KEY, NEW_KEY))
    given_keys(
        history,
        "r1",
        {OLD_KEY: datetime(2026, 1, 5, tzinfo=UTC), NEW_KEY: datetime(2026, 10, 1, tzinfo=UTC)},
    )
    outcome = apply_waivers(history.con, "r1", [waiver(user_name="svc-backup", granted_on=GRANTED)])
    assert waived(history) == {OLD_KEY: "W-1", NEW_KEY: None}
    assert status(history) == ("active", 1, 1, False)
    assert (outcome.findings_waived, outcome.reopened) == (1, 0)


def test_a_key_created_on_the_day_the_waiver_was_granted_stays_covered(history):
    history.run("r1", AS_OF, key_findings(NEW_KEY))
    given_keys(history, "r1", {NEW_KEY: datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC)})
    apply_waivers(history.con, "r1", [waiver(user_name="svc-backup", granted_on=GRANTED)])
    assert waived(history) == {NEW_KEY: "W-1"}


def test_a_user_waiver_whose_only_key_was_replaced_after_the_grant_is_reopened(history):
    history.run("r1", AS_OF, key_findings(NEW_KEY))
    given_keys(history, "r1", {NEW_KEY: datetime(2026, 10, 1, tzinfo=UTC)})
    outcome = apply_waivers(history.con, "r1", [waiver(user_name="svc-backup", granted_on=GRANTED)])
    assert waived(history) == {NEW_KEY: None}
    assert status(history) == ("reopened", 0, 1, False)
    assert outcome.reopened == 1


def test_a_waiver_without_granted_covers_every_key_it_matches(history):
    history.run("r1", AS_OF, key_findings(NEW_KEY))
    given_keys(history, "r1", {NEW_KEY: datetime(2026, 11, 20, tzinfo=UTC)})
    apply_waivers(history.con, "r1", [waiver(user_name="svc-backup")])
    assert waived(history) == {NEW_KEY: "W-1"}


def test_the_report_lists_reopened_waivers_with_the_key_and_why(history):
    history.run("r1", AS_OF, key_findings(OLD_KEY, NEW_KEY))
    given_keys(
        history,
        "r1",
        {OLD_KEY: datetime(2026, 1, 5, tzinfo=UTC), NEW_KEY: datetime(2026, 10, 1, tzinfo=UTC)},
    )
    apply_waivers(history.con, "r1", [waiver(user_name="svc-backup", granted_on=GRANTED)])
    lists = waiver_lists(history.con, "r1", account_ids=None, as_of=AS_OF)
    assert [w["waiver_id"] for w in lists["active"]] == ["W-1"]
    assert lists["reopenings"] == [
        {
            "waiver_id": "W-1",
            "rule_id": RULE,
            "account_id": A,
            "user_name": "svc-backup",
            "access_key_id": NEW_KEY,
            "key_slot": 2,
            "key_created_on": "2026-10-01",
            "granted_on": "2026-09-30",
        }
    ]


def test_the_report_marks_waivers_that_need_review_with_the_days_left(history):
    as_of = datetime(2027, 3, 17, 12, 0, tzinfo=UTC)
    history.run("r1", as_of, key_findings(OLD_KEY))
    apply_waivers(history.con, "r1", [waiver(access_key_id=OLD_KEY)], review_days=14)
    lists = waiver_lists(history.con, "r1", account_ids=None, as_of=as_of)
    assert [(w["waiver_id"], w["days_left"]) for w in lists["needs_review"]] == [("W-1", 14)]


def test_granted_is_read_from_the_waiver_file_and_stored_with_the_run(history):
    text = """\
- id: W-1
  rule: ACCESS_KEY_NOT_ROTATED
  account: "111111111111"
  user: svc-backup
  reason: backup appliance
  approved_by: ciso@example.com
  ticket: RISK-2
  granted: 2026-09-30
  expires_on: 2027-03-31
"""
    waivers = parse_waivers(text, "waivers.yml", {RULE: "key"})
    assert waivers.waivers[0].granted_on == GRANTED
    history.run("r1", AS_OF, key_findings(OLD_KEY))
    apply_waivers(history.con, "r1", waivers)
    assert history.rows("select granted_on from waivers") == [(GRANTED,)]


def test_a_granted_that_is_not_a_date_is_refused_with_its_line_and_the_fix():
    text = """\
- id: W-1
  rule: ACCESS_KEY_NOT_ROTATED
  account: "111111111111"
  reason: backup appliance
  approved_by: ciso@example.com
  ticket: RISK-2
  granted: last autumn
  expires_on: 2027-03-31
"""
    with pytest.raises(ValueError) as refused:
        parse_waivers(text, "waivers.yml", {RULE: "key"})
    assert str(refused.value) == (
        "waivers.yml:7: waiver W-1: granted 'last autumn' is not a date — write the day the "
        "risk was accepted as YYYY-MM-DD, e.g. granted: 2026-09-30"
    )
