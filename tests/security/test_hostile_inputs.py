"""Hostile inputs (issue 13): a keys file, a credential report or a waiver file built to crash the
run, stall it or exhaust memory is refused in one line naming the file and the limit. Each bomb
is generated here; the tests assert the message, not a time (the figures are in bench notes)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from keyaudit.rules.waiver_yaml import MAX_NESTING, MAX_PROBLEMS
from keyaudit.rules.waivers import WAIVER_FILE_MAX_BYTES, WaiverError, load_waivers, parse_waivers
from keyaudit.sources.access_keys_file import (
    MAX_BYTES,
    MAX_KEYS,
    AccessKeysFileError,
    read_access_keys,
)
from keyaudit.sources.credential_report import parse_credential_report
from keyaudit.sources.credential_report_bulk import parse_credential_reports
from tests.auditor.given import A, access_keys, alice, audit_files, folder_of, report
from tests.auditor.given import with_cell as cell

KEYS = "file 111122223333.access_keys.json"
KEYS_FIX = "fix the file, or leave it out to audit from the credential report alone"
CATALOGUE = {"ACCESS_KEY_NOT_ROTATED": "key"}


def keys_error(content: bytes) -> str:
    with pytest.raises(AccessKeysFileError) as caught:
        read_access_keys(content, source=KEYS)
    return str(caught.value)


def waiver_problems(text: str | bytes) -> list[str]:
    with pytest.raises(WaiverError) as caught:
        parse_waivers(text, "waivers.yml", CATALOGUE)
    return caught.value.problems


# --- the access-keys file ---------------------------------------------------------------------

DEEP = f"{KEYS}: JSON nested deeper than 8 levels (a keys file needs 3) — {KEYS_FIX}"


def test_keys_file_nested_100000_levels_is_refused_not_a_recursion_error():
    assert keys_error(b"[" * 100_000 + b"]" * 100_000) == DEEP


def test_keys_file_nested_beyond_the_limit_inside_a_key_is_refused():
    keys = access_keys()
    keys[0]["LastUsed"]["Region"] = json.loads("[" * 9 + "]" * 9)
    assert keys_error(json.dumps(keys).encode()) == DEEP


def test_keys_file_with_an_integer_of_5000_digits_is_refused_as_invalid_json():
    message = keys_error(b"[" + b"1" * 5000 + b"]")
    assert message.startswith(f"{KEYS}: not valid JSON ('Exceeds the limit (4300 digits)")
    assert message.endswith(KEYS_FIX) and len(message) < 300


def test_keys_file_larger_than_the_cap_is_refused_before_parsing():
    assert keys_error(b" " * (MAX_BYTES + 1)) == (
        f"{KEYS}: 8,388,609 bytes, more than the 8,388,608 a keys file of 10,000 keys (IAM's "
        f"most per account) needs — {KEYS_FIX}"
    )


def test_keys_file_with_more_entries_than_iam_allows_is_refused():
    assert keys_error(json.dumps([{}] * (MAX_KEYS + 1)).encode()) == (
        f"{KEYS}: 10,001 entries, more than the 10,000 keys IAM allows in one account (5,000 "
        f"users, 2 keys each) — {KEYS_FIX}"
    )


@pytest.mark.parametrize("top", [b'"' + b"a" * 120_000 + b'"', b'{"a": 1}', b"7", b"null"])
def test_keys_file_whose_top_level_is_not_an_array_is_refused(top):
    assert keys_error(top).startswith(f"{KEYS}: expected a JSON array of keys like [")


@pytest.mark.parametrize(
    ("field", "limit"), [("UserName", "64"), ("ServiceName", "2,048"), ("Region", "2,048")]
)
def test_keys_file_text_longer_than_iam_allows_is_refused_with_an_excerpt(field, limit):
    keys = access_keys()
    if field == "UserName":
        keys[0][field] = "u" * 120_000
    else:
        keys[0]["LastUsed"][field] = "u" * 120_000
    assert keys_error(json.dumps(keys).encode()) == (
        f"{KEYS}, key 1 (AKIAI44QH8DHBEXAMPLE): {field} {'u' * 40!r}… is 120,000 characters "
        f"long; IAM's limit is {limit} — {KEYS_FIX}"
    )


@pytest.mark.parametrize(
    ("value", "side"),
    [
        (
            "9999-12-31T23:00:00-05:00",
            "after 9999-12-31T23:59:59Z, the latest time keyaudit can store",
        ),
        ("1970-01-01T00:00:00Z", "before 2000-01-01, earlier than any AWS account"),
    ],
)
def test_keys_file_instant_out_of_range_in_utc_is_refused(value, side):
    keys = access_keys()
    keys[1]["CreateDate"] = value
    assert keys_error(json.dumps(keys).encode()) == (
        f"{KEYS}, key 2 (AKIAIOSFODNN7EXAMPLE): CreateDate {value!r} is out of range: in UTC it "
        f"falls {side} — {KEYS_FIX}"
    )


# --- credential reports in bulk: the same refusal as alone ------------------------------------


def test_bulk_parse_refuses_a_long_cell_and_an_overflowing_instant_as_a_lone_parse_does():
    long_user = report(A).replace("\nalice,", "\n" + "a" * 120_000 + ",", 1)
    late = report(A).replace("2026-11-30T12:30:00+00:00", "9999-12-31T23:00:00-05:00")
    items = [(report(A), "clean"), (long_user, "long"), (late, "late")]
    parsed = parse_credential_reports(items)
    assert parsed.results[0].error is None
    for (content, source), result in zip(items[1:], parsed.results[1:], strict=True):
        with pytest.raises(Exception) as alone:
            parse_credential_report(content, source=source)
        assert str(result.error) == str(alone.value)
    assert "column user: " in str(parsed.results[1].error)
    assert "in UTC it falls after 9999-12-31T23:59:59Z" in str(parsed.results[2].error)
    assert set(parsed.rows["report"]) == {0}


def test_files_run_with_a_year_10000_instant_leaves_that_account_not_assessed(tmp_path: Path):
    late = cell(alice(A), "access_key_1_last_used_date", "9999-12-31T23:00:00-05:00")
    content = report(A).replace(alice(A), late)
    run = audit_files(folder_of(tmp_path, {f"{A}.csv": content}), tmp_path)
    status, error = run.account(A)
    assert status == "not_assessed"
    assert error.endswith(
        "line 3, column access_key_1_last_used_date: '9999-12-31T23:00:00-05:00' is out of range:"
        " in UTC it falls after 9999-12-31T23:59:59Z, the latest time keyaudit can store — fetch "
        "the report again or fix the file"
    )
    loaded = run.rows("select count(*) from credential_report where run_id = ?", run.run_id)
    assert loaded == [(0,)]


# --- the waiver file --------------------------------------------------------------------------

ALIASES = (
    "waivers.yml:1: YAML anchors and aliases (&name, *name) are not allowed in the waiver file — "
    "write each waiver's values out in full"
)


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, levels):
        previous, name = chr(96 + n), chr(97 + n)
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_at_the_first_anchor():
    assert waiver_problems(billion_laughs()) == [ALIASES]


def test_an_alias_of_a_whole_waiver_is_refused_too():
    text = "- &w {id: W-1}\n- *w\n"
    assert waiver_problems(text) == [ALIASES]


def too_deep(line: int) -> str:
    return (
        f"waivers.yml:{line}: nested deeper than {MAX_NESTING} levels (a waiver file is a list "
        "of waivers, each a mapping of single values) — write one entry per waiver, each "
        "starting with '- id: ...'"
    )


def test_flow_nesting_100000_deep_is_refused_in_one_line():
    assert waiver_problems("\n" + "[" * 100_000 + "]" * 100_000) == [too_deep(2)]


def test_nesting_with_text_between_the_brackets_is_refused_by_the_composer():
    text = "- id: " + "".join(f"[v{n}, " for n in range(20)) + "x" + "]" * 20 + "\n"
    assert waiver_problems(text) == [too_deep(1)]


def test_block_nesting_deeper_than_the_limit_is_refused():
    text = "".join("  " * n + "-\n" for n in range(40))
    assert waiver_problems(text) == [too_deep(MAX_NESTING + 1)]


TOO_BIG = (
    "the waiver file is larger than 1,048,576 bytes (1 MiB, about 3,000 waivers) — keep only "
    "current waivers in it (each past run keeps its own copy)"
)


def test_an_82_mb_waiver_file_is_refused_reading_no_more_than_the_cap(tmp_path, monkeypatch):
    path = tmp_path / "waivers.yml"
    with path.open("wb") as sparse:  # 82 MB without writing them
        sparse.truncate(82 * 1024 * 1024)
    read = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: read.append(n) or real_read(fd, n))
    with pytest.raises(WaiverError) as caught:
        load_waivers(path, CATALOGUE)
    assert caught.value.problems == [f"{path}: {TOO_BIG}"]
    assert sum(read) <= WAIVER_FILE_MAX_BYTES + 1  # its size says it is too large: none is read


def test_waiver_text_over_the_cap_is_refused_before_yaml_parsing():
    assert waiver_problems("#" * (WAIVER_FILE_MAX_BYTES + 1)) == [f"waivers.yml: {TOO_BIG}"]


def not_regular(kind: str) -> str:
    return (
        f"the waiver file is {kind}, not a regular file — check waivers_file in the "
        "configuration and the file's permissions"
    )


def test_a_fifo_as_waiver_file_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "waivers.yml"
    os.mkfifo(fifo)  # nobody writes: a plain open() would wait forever
    with pytest.raises(WaiverError) as caught:
        load_waivers(fifo, CATALOGUE)
    assert caught.value.problems == [f"{fifo}: {not_regular('a FIFO')}"]


@pytest.mark.parametrize(
    ("path", "kind"), [(os.devnull, "a character device"), ("folder", "a folder")]
)
def test_a_device_or_folder_as_waiver_file_is_refused(path, kind, tmp_path):
    target = tmp_path if path == "folder" else Path(path)
    with pytest.raises(WaiverError) as caught:
        load_waivers(target, CATALOGUE)
    assert caught.value.problems == [f"{target}: {not_regular(kind)}"]


def test_a_link_as_waiver_file_is_not_followed(tmp_path):
    real = tmp_path / "real.yml"
    real.write_text("[]\n", encoding="utf-8")
    link = tmp_path / "waivers.yml"
    link.symlink_to(real)
    with pytest.raises(WaiverError) as caught:
        load_waivers(link, CATALOGUE)
    assert caught.value.problems == [f"{link}: {not_regular('a symbolic link')}"]


WAIVER = """\
- id: W-1
  rule: ACCESS_KEY_NOT_ROTATED
  account: "111122223333"
  reason: {reason}
  approved_by: jane.doe@example.com
  ticket: RISK-1
  expires_on: {expires_on}
"""


def test_a_120000_character_reason_is_refused_with_an_excerpt():
    text = WAIVER.format(reason="x" * 120_000, expires_on="2027-03-31")
    assert waiver_problems(text) == [
        f"waivers.yml:4: waiver W-1: reason {'x' * 40!r}… is 120,000 characters long; at most "
        "2,048 — shorten it (a ticket or a link can carry the detail), reason: why the risk is "
        "accepted"
    ]


@pytest.mark.parametrize("value", ["1700006400", "2027-03-31T00:00:00", "+2027-03-31"])
def test_expires_on_must_be_written_as_a_plain_date(value):
    text = WAIVER.format(reason="r", expires_on=value)
    assert waiver_problems(text) == [
        f"waivers.yml:7: waiver W-1: expires_on {value!r} is not a date — write the last day the "
        "waiver applies as YYYY-MM-DD, e.g. expires_on: 2027-03-31"
    ]


def test_expires_on_before_2000_is_refused():
    text = WAIVER.format(reason="r", expires_on="0001-01-01")
    assert waiver_problems(text) == [
        "waivers.yml:7: waiver W-1: expires_on '0001-01-01' is before 2000-01-01, earlier than "
        "any audit keyaudit runs — write the last day the waiver applies as YYYY-MM-DD, e.g. "
        "expires_on: 2027-03-31"
    ]


def test_a_file_of_many_broken_waivers_lists_the_first_problems_and_counts_the_rest():
    problems = waiver_problems("".join(f"- id: W-{n}\n" for n in range(200)))
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1].startswith("waivers.yml: ")
    assert problems[-1].endswith(
        "more problem(s) not listed — fix the ones above and validate again"
    )
