"""Parsing many credential reports at once gives, report by report, what parsing alone gives."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from keyaudit.sources.credential_report import (
    COLUMNS,
    CredentialReportError,
    parse_credential_report,
)
from keyaudit.sources.credential_report_bulk import REPORT, parse_credential_reports

HEADER = ",".join(COLUMNS)
ROOT = (
    "<root_account>,arn:aws:iam::111122223333:root,2019-03-04T17:10:44+00:00,not_supported,"
    "2024-05-02T08:01:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,"
    "N/A,N/A,N/A,N/A,false,N/A,false,N/A"
)
ALICE = (
    "alice,arn:aws:iam::111122223333:user/alice,2021-06-01T09:00:00+00:00,true,"
    "2024-05-01T12:35:00+00:00,2023-11-02T10:00:00+00:00,N/A,true,true,2024-01-15T08:30:12+00:00,"
    "2024-05-01T12:30:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
)
BOB = (
    "bob,arn:aws:iam::111122223333:user/bob,2023-01-10T11:00:00+00:00,true,no_information,"
    "2023-01-10T11:00:00+00:00,N/A,false,false,2023-01-10T11:00:01+00:00,N/A,N/A,N/A,false,N/A,"
    "N/A,N/A,N/A,false,N/A,false,N/A"
)


def report(*rows: str, header: str = HEADER, end: str = "\n") -> str:
    return "\n".join([header, *rows]) + end


def cell(row: str, column: str, value: str) -> str:
    cells = row.split(",")
    cells[COLUMNS.index(column)] = value
    return ",".join(cells)


def other_account(row: str, account: str = "444455556666") -> str:
    return row.replace("111122223333", account)


CORPUS = {
    "real": report(ROOT, ALICE, BOB),
    "no trailing newline": report(ROOT, ALICE, end=""),
    "crlf and bom": ("\ufeff" + report(ROOT, ALICE, BOB)).replace("\n", "\r\n").encode(),
    "upper-case booleans": report(
        cell(ALICE, "mfa_active", "TRUE"), cell(BOB, "password_enabled", "False")
    ),
    "root with true in password columns": report(cell(ROOT, "password_last_changed", "TRUE")),
    "repeated user": report(ROOT, ALICE, BOB, ALICE),
    "header only": report(),
    "quoted comma in a name": report(ALICE.replace("alice,", '"al,ice",', 1)),
    "blank line inside": report(ROOT, "", ALICE),
    "z timestamp": report(cell(ALICE, "access_key_1_last_used_date", "2024-05-01T12:30:00Z")),
    "fractional timestamp": report(
        cell(ALICE, "user_creation_time", "2024-05-01T12:30:00.250+00:00")
    ),
    "leading-zero account": report(other_account(ALICE, "012345678901")),
    "another account": report(other_account(ROOT), other_account(ALICE)),
    "bad timestamp": report(ALICE, cell(BOB, "user_creation_time", "yesterday")),
    "impossible date": report(
        cell(ALICE, "access_key_1_last_rotated", "2024-02-30T08:30:12+00:00")
    ),
    "naive timestamp": report(cell(ALICE, "password_last_used", "2024-05-01T12:35:00")),
    "bad boolean": report(cell(BOB, "mfa_active", "yes")),
    "bad arn": report(cell(ALICE, "arn", "arn:aws:iam::1111:user/alice")),
    "refused row among good ones": report(
        ROOT, cell(ALICE, "arn", "arn:aws:iam::1111:user/x"), BOB
    ),
    "name outside iam's characters": report(
        ROOT, '"b\nb","arn:aws:iam::111122223333:user/b\nb",' + BOB.split(",", 2)[2]
    ),
    "unquoted comma in a name": report(
        ROOT, "a,b,arn:aws:iam::111122223333:user/a,b," + ALICE.split(",", 2)[2], BOB
    ),
    "root arn on a user": report(cell(ALICE, "arn", "arn:aws:iam::111122223333:root")),
    "empty user": report(cell(ALICE, "user", "")),
    "two accounts in one file": report(ALICE, other_account(BOB)),
    "truncated row": report(ROOT, ALICE[:80]),
    "shifted header": report(ALICE, header=HEADER.replace("user,arn", "arn,user")),
    "not a report": "name,age\nx,1\n",
    "empty": "",
    "not utf-8": b"user,arn\n\xff\xfe",
}


def alone(content: bytes | str, source: str):
    try:
        return parse_credential_report(content, source=source)
    except CredentialReportError as exc:
        return exc


def assert_same_as_alone(items: list[tuple[bytes | str, str]]) -> None:
    bulk = parse_credential_reports(items)
    assert len(bulk.results) == len(items)
    assert bulk.rows[REPORT].is_monotonic_increasing
    for i, (content, source) in enumerate(items):
        expected, got = alone(content, source), bulk.results[i]
        rows = bulk.rows[bulk.rows[REPORT] == i].drop(columns=REPORT).reset_index(drop=True)
        if isinstance(expected, CredentialReportError):
            assert str(got.error) == str(expected), source
            assert rows.empty, source
        else:
            assert got.error is None, source
            assert (got.account_id, got.notes, got.refused) == (
                expected.account_id,
                expected.notes,
                expected.refused,
            ), source
            pd.testing.assert_frame_equal(rows, expected.rows.reset_index(drop=True), obj=source)


def test_every_kind_of_report_in_one_batch_parses_as_it_would_alone():
    assert_same_as_alone([(content, name) for name, content in CORPUS.items()])


def test_the_order_of_the_batch_does_not_matter():
    items = [(content, name) for name, content in CORPUS.items()] * 3
    random.Random(3).shuffle(items)
    assert_same_as_alone(items)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_each_report_alone_in_a_batch_parses_as_it_would_alone(name):
    assert_same_as_alone([(CORPUS[name], name)])


def test_an_empty_batch_gives_no_rows():
    parsed = parse_credential_reports([])
    assert parsed.results == []
    assert list(parsed.rows.columns) == [REPORT, "line_number", *COLUMNS]
