"""A waiver file is refused before the run starts, one line per problem: `<file>:<line>: problem —
fix`."""

from __future__ import annotations

import errno
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from keyaudit.rules.waivers import WaiverError, load_waivers, parse_waivers

VALID = """\
- id: W-2026-001
  rule: ACCESS_KEY_NOT_ROTATED
  account: "111122223333"
  user: svc-legacy-*
  reason: vendor appliance cannot rotate its key; replacement ordered
  approved_by: jane.doe@example.com
  ticket: RISK-1234
  expires_on: 2027-03-31
"""


def refused(text: str, catalogue) -> list[str]:
    with pytest.raises(WaiverError) as caught:
        parse_waivers(text, "waivers.yml", catalogue)
    return caught.value.problems


def one_waiver(**changes: str | None) -> str:
    """VALID with fields replaced (value None: field removed)."""
    lines = VALID.splitlines()
    out = []
    for line in lines:
        key = line.strip("- ").split(":", 1)[0]
        if key in changes:
            value = changes.pop(key)
            if value is None:
                continue
            prefix = "- " if line.startswith("- ") else "  "
            line = f"{prefix}{key}: {value}"
        out.append(line)
    out += [f"  {k}: {v}" for k, v in changes.items() if v is not None]
    return "\n".join(out) + "\n"


def test_a_valid_waiver_file_loads_with_every_field(waiver_file, catalogue):
    loaded = load_waivers(waiver_file(VALID), catalogue)
    (waiver,) = loaded.waivers
    assert waiver.waiver_id == "W-2026-001"
    assert waiver.rule_id == "ACCESS_KEY_NOT_ROTATED"
    assert waiver.account_id == "111122223333"
    assert waiver.user_name == "svc-legacy-*"
    assert waiver.access_key_id is None
    assert waiver.expires_on == date(2027, 3, 31)
    assert waiver.ticket == "RISK-1234"
    assert waiver.line == 1
    assert loaded.content == VALID.encode()


def test_an_unquoted_account_keeps_its_leading_zero(catalogue):
    loaded = parse_waivers(one_waiver(account="012345678901"), "waivers.yml", catalogue)
    assert loaded.waivers[0].account_id == "012345678901"


def test_a_user_named_like_a_yaml_boolean_stays_text(catalogue):
    loaded = parse_waivers(one_waiver(user="no"), "waivers.yml", catalogue)
    assert loaded.waivers[0].user_name == "no"


def test_an_empty_file_has_no_waivers(catalogue):
    assert parse_waivers("", "waivers.yml", catalogue).waivers == ()


def test_missing_expiry_is_refused_with_the_line_of_the_waiver(catalogue):
    assert refused(one_waiver(expires_on=None), catalogue) == [
        "waivers.yml:1: waiver W-2026-001 has no expires_on — add expires_on: the last day the "
        "waiver applies, as YYYY-MM-DD; every waiver must expire"
    ]


def test_missing_approver_is_refused(catalogue):
    assert refused(one_waiver(approved_by=None), catalogue) == [
        "waivers.yml:1: waiver W-2026-001 has no approved_by — add approved_by: who accepted "
        "the risk"
    ]


def test_an_invalid_date_is_refused_on_its_line(catalogue):
    assert refused(one_waiver(expires_on="31/03/2027"), catalogue) == [
        "waivers.yml:8: waiver W-2026-001: expires_on '31/03/2027' is not a date — write the "
        "last day the waiver applies as YYYY-MM-DD, e.g. expires_on: 2027-03-31"
    ]


def test_an_impossible_date_is_refused(catalogue):
    assert refused(one_waiver(expires_on="2027-02-30"), catalogue) == [
        "waivers.yml:8: waiver W-2026-001: expires_on '2027-02-30' is not a date — write the "
        "last day the waiver applies as YYYY-MM-DD, e.g. expires_on: 2027-03-31"
    ]


def test_an_unknown_rule_is_refused_with_the_closest_rule_and_the_catalogue(catalogue):
    known = ", ".join(sorted(r.rule_id for r in catalogue))
    assert refused(one_waiver(rule="ACCESS_KEY_NOT_ROTATD"), catalogue) == [
        "waivers.yml:2: waiver W-2026-001: unknown rule 'ACCESS_KEY_NOT_ROTATD' — did you mean "
        f"ACCESS_KEY_NOT_ROTATED? known rules: {known}"
    ]


def test_a_rule_nothing_resembles_is_refused_with_the_catalogue(catalogue):
    known = ", ".join(sorted(r.rule_id for r in catalogue))
    assert refused(one_waiver(rule="S3_BUCKET_PUBLIC"), catalogue) == [
        f"waivers.yml:2: waiver W-2026-001: unknown rule 'S3_BUCKET_PUBLIC' — known rules: {known}"
    ]


def test_a_duplicate_id_is_refused_at_its_second_use(catalogue):
    assert refused(VALID + VALID, catalogue) == [
        "waivers.yml:9: waiver id W-2026-001 is used twice (first at line 1) — give every "
        "waiver its own id"
    ]


@pytest.mark.parametrize("account", ['"12345"', '"1111222233334"', "abcdefghijkl"])
def test_an_account_that_is_not_12_digits_is_refused(catalogue, account):
    shown = account.strip('"')
    assert refused(one_waiver(account=account), catalogue) == [
        f"waivers.yml:3: waiver W-2026-001: account '{shown}' is not a 12-digit account id — "
        'write all 12 digits, leading zeros included, e.g. account: "012345678901"'
    ]


def test_an_unknown_field_is_refused_with_the_closest_allowed_key(catalogue):
    text = one_waiver(expires_on=None, expires="2027-03-31")
    assert refused(text, catalogue) == [
        "waivers.yml:1: waiver W-2026-001 has no expires_on — add expires_on: the last day the "
        "waiver applies, as YYYY-MM-DD; every waiver must expire",
        "waivers.yml:8: waiver W-2026-001: unknown key 'expires' — did you mean expires_on? "
        "allowed keys: id, rule, account, user, key, reason, approved_by, ticket, granted, "
        "expires_on",
    ]


def test_an_empty_reason_is_refused(catalogue):
    assert refused(one_waiver(reason='""'), catalogue) == [
        "waivers.yml:5: waiver W-2026-001: reason is empty — write reason: why the risk is accepted"
    ]


def test_a_list_where_one_value_belongs_is_refused(catalogue):
    assert refused(one_waiver(approved_by="[jane, joe]"), catalogue) == [
        "waivers.yml:6: waiver W-2026-001: approved_by is a list, not a single value — write "
        "approved_by: who accepted the risk"
    ]


def test_a_malformed_key_id_is_refused(catalogue):
    assert refused(one_waiver(key="akia-123"), catalogue) == [
        "waivers.yml:9: waiver W-2026-001: key 'akia-123' is not an access key id — use the id "
        "IAM shows for the key (16 to 128 capital letters and digits), e.g. AKIAIOSFODNN7EXAMPLE"
    ]


def test_a_user_name_with_forbidden_characters_is_refused(catalogue):
    assert refused(one_waiver(user='"svc legacy"'), catalogue) == [
        "waivers.yml:4: waiver W-2026-001: user 'svc legacy' is not an IAM user name or glob "
        "pattern — use the user name (letters, digits and + = , . @ _ -), <root_account>, or a "
        "pattern with * (any text), ? (one character) or [abc] (one of), e.g. svc-*"
    ]


def test_a_key_on_a_rule_about_users_is_refused(catalogue):
    text = one_waiver(rule="CONSOLE_USER_WITHOUT_MFA", key="AKIAIOSFODNN7EXAMPLE")
    assert refused(text, catalogue) == [
        "waivers.yml:9: waiver W-2026-001: key is set but rule CONSOLE_USER_WITHOUT_MFA judges "
        "users, not access keys — remove key, or waive a rule about access keys"
    ]


def test_a_user_on_a_rule_about_accounts_is_refused(catalogue):
    assert refused(one_waiver(rule="ACCOUNT_NOT_ASSESSED"), catalogue) == [
        "waivers.yml:4: waiver W-2026-001: user is set but rule ACCOUNT_NOT_ASSESSED judges "
        "whole accounts — remove user, or waive a rule about users or keys"
    ]


def test_a_field_given_twice_is_refused(catalogue):
    text = VALID + "  ticket: RISK-9\n"
    assert refused(text, catalogue) == [
        "waivers.yml:9: waiver #1: ticket is given twice (lines 7 and 9) — keep one"
    ]


def test_an_entry_that_is_not_a_mapping_is_refused(catalogue):
    assert refused(VALID + "- W-2026-002\n", catalogue) == [
        "waivers.yml:9: waiver #2 is the text 'W-2026-002', not a mapping of fields — write "
        "each waiver as '- id: ...' followed by rule, account, reason, approved_by, ticket and "
        "expires_on on their own lines"
    ]


def test_a_file_that_is_not_a_list_is_refused(catalogue):
    assert refused("waivers:\n  - id: W-1\n", catalogue) == [
        "waivers.yml:1: expected a list of waivers, found a mapping — write one entry per "
        "waiver, each starting with '- id: ...'"
    ]


def test_broken_yaml_is_refused_with_the_line_of_the_error(catalogue):
    text = VALID + '- id: "W-2\n  rule: X\n'
    assert refused(text, catalogue) == [
        "waivers.yml:11: not valid YAML: found unexpected end of stream — fix the YAML syntax "
        "on this line"
    ]


def test_every_problem_of_a_file_is_listed_in_line_order(catalogue):
    text = one_waiver(account='"12345"', expires_on=None) + one_waiver(id="W-2", rule="NOPE")
    problems = refused(text, catalogue)
    assert [p.split(":", 2)[1] for p in problems] == ["1", "3", "9"]
    assert problems[2].startswith("waivers.yml:9: waiver W-2: unknown rule 'NOPE' — ")


def test_a_missing_file_is_refused_with_the_os_error(tmp_path, catalogue):
    path = tmp_path / "nowhere.yml"
    with pytest.raises(WaiverError) as caught:
        load_waivers(path, catalogue)
    assert str(caught.value) == (
        f"{path}: cannot read the waiver file: No such file or directory — check waivers_file "
        "in the configuration and the file's permissions"
    )


def test_an_unreadable_file_is_refused_with_the_os_error(waiver_file, catalogue, monkeypatch):
    path: Path = waiver_file(VALID)
    real_open = os.open

    def refused(file: Any, flags: int, *args: Any) -> int:  # chmod 000, for root too (CI)
        if str(file) == str(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
        return real_open(file, flags, *args)

    monkeypatch.setattr(os, "open", refused)
    with pytest.raises(WaiverError) as caught:
        load_waivers(path, catalogue)
    assert str(caught.value) == (
        f"{path}: cannot read the waiver file: Permission denied — check waivers_file in the "
        "configuration and the file's permissions"
    )


def test_a_file_that_is_not_utf8_is_refused(waiver_file, catalogue, tmp_path):
    path = tmp_path / "latin1.yml"
    path.write_bytes(VALID.replace("jane.doe", "jos\xe9").encode("latin-1"))
    with pytest.raises(WaiverError) as caught:
        load_waivers(path, catalogue)
    assert str(caught.value) == (f"{path}:6: not UTF-8 text — save the file as UTF-8")
