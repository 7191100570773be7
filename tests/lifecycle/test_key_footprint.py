"""The key_footprint view on given rows: IAM users and their active access keys per run and
account, root keys apart, and accounts not assessed never counted (and never free of keys)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from lifecycle_given import A, B, C, History

from keyaudit.report import footprint as report_footprint
from keyaudit.report.history import trend
from keyaudit.sources.credential_report import COLUMNS
from keyaudit.warehouse.db import insert_frame
from keyaudit.warehouse.marts import build_marts

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
D = "444444444444"  # suspended: skipped, outside the scope
E = "555555555555"  # no IAM-user key, but a root key
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def ts(days: float) -> str:
    return (AS_OF - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def line(account: str, user: str, keys: tuple[tuple[bool, float], ...] = ()) -> dict[str, Any]:
    """A credential-report line; keys: (active, created days ago) per slot."""
    root = user == "<root_account>"
    row = dict.fromkeys(COLUMNS, "N/A")
    row.update(
        user=user,
        arn=f"arn:aws:iam::{account}:" + ("root" if root else f"user/{user}"),
        user_creation_time=ts(900),
        password_enabled="not_supported" if root else "false",
        mfa_active="true",
        access_key_1_active="false",
        access_key_2_active="false",
        cert_1_active="false",
        cert_2_active="false",
    )
    for slot, (active, created) in enumerate(keys, start=1):
        row[f"access_key_{slot}_active"] = str(active).lower()
        row[f"access_key_{slot}_last_rotated"] = ts(created)
    return {"account_id": account, **row}


def listed(account: str, user: str, key_id: str, active: bool, created: float) -> dict[str, Any]:
    return {
        "account_id": account,
        "user_name": user,
        "access_key_id": key_id,
        "status": "Active" if active else "Inactive",
        "create_date": AS_OF - timedelta(days=created),
        "last_used_date": None,
        "last_used_service": "N/A",
        "last_used_region": "N/A",
    }


REPORT = [
    # A (assessed, permissions read): alice admin with a 400-day key; bob two active keys (10 and
    # 500 days); carol an inactive key only; dave no key; gina only in the key listing (created
    # after the report); the root user has no key
    line(A, "<root_account>"),
    line(A, "alice", ((True, 400),)),
    line(A, "bob", ((True, 10), (True, 500))),
    line(A, "carol", ((False, 600),)),
    line(A, "dave"),
    # B (partial: its report has no root row; permissions not read): erin one 30-day key
    line(B, "erin", ((True, 30),)),
    # E (assessed): no IAM-user key, the root user has one
    line(E, "<root_account>", ((True, 800),)),
    line(E, "frank"),
]
LISTED = [
    listed(A, "alice", "AKIAALICE00000000001", True, 400),
    listed(A, "bob", "AKIABOB0000000000001", True, 10),
    listed(A, "bob", "AKIABOB0000000000002", True, 500),
    listed(A, "carol", "AKIACAROL00000000001", False, 600),
    listed(A, "gina", "AKIAGINA000000000001", True, 1),
]


def load(history: History, run_id: str, as_of: datetime, report, keys, accounts) -> None:
    """A run as load_run leaves it: accounts, report, key listing, permissions, marts."""
    history.run(run_id, as_of, accounts=accounts)
    con = history.con
    for table, given in (("credential_report", report), ("access_keys", keys)):
        frame = pd.DataFrame(given)
        if frame.empty:
            continue
        frame.insert(0, "run_id", run_id)
        if table == "credential_report":
            frame.insert(2, "line_number", range(2, len(frame) + 2))
        else:
            frame["create_date"] = pd.to_datetime(frame["create_date"], utc=True)
            frame["last_used_date"] = pd.to_datetime(frame["last_used_date"], utc=True)
        insert_frame(con, table, frame)
    # A's and E's user permissions were read: alice holds AdministratorAccess, the rest nothing
    con.execute(
        "update accounts set privilege_status = 'collected' "
        "where run_id = ? and account_id in (?, ?)",
        [run_id, A, E],
    )
    inputs = [(A, u) for u in ("alice", "bob", "carol", "dave", "gina")] + [(E, "frank")]
    for account, user in inputs:
        con.execute(
            "insert into iam_user_privilege_inputs (run_id, account_id, user_name) "
            "values (?, ?, ?)",
            [run_id, account, user],
        )
    con.execute(
        "insert into iam_user_policies (run_id, account_id, user_name, via, policy_type, "
        "policy_name, policy_arn) values (?, ?, 'alice', 'user', 'managed', "
        "'AdministratorAccess', ?)",
        [run_id, A, ADMIN_POLICY],
    )
    for account, user in inputs:  # the load's evaluation of them (keyaudit.privilege)
        admin = user == "alice"
        con.execute(
            "insert into iam_user_privilege (run_id, account_id, user_name, privilege, "
            "privilege_reason, is_conditional) values (?, ?, ?, ?, ?, false)",
            [run_id, account, user, "admin" if admin else "other",
             "managed policy AdministratorAccess attached to the user, statement 1: allows * on *"
             if admin else "no one-step path to administrator"],
        )  # fmt: skip
    build_marts(con, run_id)


ACCOUNTS = {A: "assessed", B: "partial", C: "not_assessed", D: "skipped", E: "assessed"}


@pytest.fixture
def footprint(history: History) -> dict[str, dict[str, Any]]:
    load(history, "r1", AS_OF, REPORT, LISTED, ACCOUNTS)
    cursor = history.con.execute("select * from key_footprint where run_id = 'r1'")
    columns = [d[0] for d in cursor.description]
    return {r[2]: dict(zip(columns, r, strict=True)) for r in cursor.fetchall()}


def counts(row: dict[str, Any]) -> tuple:
    return (
        row["count_iam_users"],
        row["count_users_with_active_keys"],
        row["count_active_keys"],
        row["count_active_keys_older_than_365_days"],
        row["count_active_root_keys"],
        row["has_no_active_user_keys"],
        row["count_active_keys_on_admin_users"],
    )


def test_an_assessed_account_counts_its_iam_users_and_their_active_keys(footprint):
    # users alice, bob, carol, dave, gina; with active keys alice, bob, gina; keys 1 + 2 + 1;
    # over 365 days alice (400) and bob's second (500); on admin users alice's
    assert counts(footprint[A]) == (5, 3, 4, 2, 0, False, 1)


def test_a_partial_account_is_counted_and_its_unread_privilege_is_unknown_not_zero(footprint):
    # no root row: root keys unknown; permissions not read: erin's key may be an admin's
    assert footprint[B]["is_assessed"] is True
    assert counts(footprint[B]) == (1, 1, 1, 0, None, False, None)


def test_a_root_key_is_counted_apart_and_leaves_the_account_free_of_user_keys(footprint):
    assert counts(footprint[E]) == (1, 0, 0, 0, 1, True, 0)


def test_an_account_not_assessed_has_no_counts_and_is_never_free_of_keys(footprint):
    row = footprint[C]
    assert (row["is_assessed"], row["account_status"]) == (False, "not_assessed")
    assert counts(row) == (None, None, None, None, None, False, None)


def test_skipped_accounts_are_outside_the_footprint(footprint):
    assert set(footprint) == {A, B, C, E}


def test_the_columns_keep_the_documented_order_with_the_other_credentials_last(footprint):
    assert list(footprint[A])[-5:] == [
        "has_no_active_user_keys",
        "count_active_keys_on_admin_users",
        "count_active_ssh_public_keys",
        "count_active_service_credentials",
        "count_active_signing_certificates",
    ]


def test_an_account_not_assessed_in_one_run_is_not_free_there_though_it_was_before(history):
    load(history, "r1", AS_OF, REPORT, LISTED, ACCOUNTS)
    later = AS_OF + timedelta(days=30)
    load(history, "r2", later, [], [], {A: "not_assessed", E: "not_assessed"})
    found = history.rows(
        "select run_id, account_id, has_no_active_user_keys, count_active_keys "
        "from key_footprint where account_id = ? order by run_id",
        E,
    )
    assert found == [("r1", E, True, 0), ("r2", E, False, None)]


def test_keys_age_past_365_days_against_each_runs_as_of(history):
    load(history, "r1", AS_OF, REPORT, LISTED, ACCOUNTS)
    # the same keys audited 400 days later: every active key is then past 365 days
    later = AS_OF + timedelta(days=400)
    load(history, "r2", later, REPORT, LISTED, ACCOUNTS)
    found = history.rows(
        "select run_id, account_id, count_active_keys_older_than_365_days from key_footprint "
        "where account_id in (?, ?) order by all",
        A,
        B,
    )
    assert found == [("r1", A, 2), ("r1", B, 0), ("r2", A, 4), ("r2", B, 1)]


def trend_of(history: History, run_id: str, account_ids: list[str] | None = None) -> list[tuple]:
    """The report's footprint trend for `run_id`, over the runs history.trend picks."""
    con = history.con
    runs = trend(con, run_id, account_ids)["runs"]
    shown = report_footprint.footprint(con, run_id, account_ids, runs)
    return [
        (r["active_keys"], r["old_keys"], r["admin_keys"], r["free"], r["not_assessed"])
        for r in shown["runs"]
    ]


def without(*users: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return (
        [r for r in REPORT if r["user"] not in users],
        [k for k in LISTED if k["user_name"] not in users],
    )


@pytest.fixture
def four_months(history: History) -> History:
    """Keys removed month after month; in the fourth month B could not be assessed. A run of
    another organization in between is another audit and stays out of the trend."""
    month = timedelta(days=30)
    load(history, "r1", AS_OF, REPORT, LISTED, ACCOUNTS)
    load(history, "r2", AS_OF + month, *without("gina"), ACCOUNTS)
    history.run("other-org", AS_OF + month + timedelta(days=1), organization_id="o-other")
    load(history, "r3", AS_OF + 2 * month, *without("gina", "bob"), ACCOUNTS)
    load(history, "r4", AS_OF + 3 * month, *without("gina", "bob"), {**ACCOUNTS, B: "not_assessed"})
    return history


def test_the_trend_falls_as_keys_are_removed_run_after_run(four_months):
    # (active, over 365 days, on admin users, accounts free, accounts not assessed), oldest first;
    # admin unknown in B (permissions not read) until B is not assessed at all
    assert trend_of(four_months, "r4") == [
        (5, 2, 1, 1, 1),
        (4, 2, 1, 1, 1),
        (2, 1, 1, 1, 1),
        (1, 1, 1, 1, 2),
    ]


def test_an_earlier_run_sees_only_the_runs_before_it(four_months):
    assert trend_of(four_months, "r2") == [(5, 2, 1, 1, 1), (4, 2, 1, 1, 1)]


def test_a_slice_counts_only_its_accounts_and_an_unassessed_month_is_unknown(four_months):
    assert trend_of(four_months, "r4", [B]) == [
        (1, 0, None, 0, 0),
        (1, 0, None, 0, 0),
        (1, 0, None, 0, 0),
        (None, None, None, 0, 1),
    ]


def test_other_long_term_credentials_are_counted_by_kind_and_unknown_where_not_listed(history):
    """A's listing was collected: its active SSH keys, service-specific credentials and
    certificates are counted; B's was not: SSH keys and service-specific credentials are
    unknown there (never zero), and its certificates come from the credential report."""
    report = [*REPORT]
    erin = next(r for r in report if r["user"] == "erin")
    report[report.index(erin)] = {**erin, "cert_1_active": "true", "cert_1_last_rotated": ts(50)}
    load(history, "r1", AS_OF, report, LISTED, ACCOUNTS)
    con = history.con
    con.execute(
        "update accounts set credentials_status = 'collected' where run_id = 'r1' and account_id = ?",
        [A],
    )
    listed = [
        ("alice", "ssh_public_key", "APKAALICE1", None, "Active"),
        ("alice", "ssh_public_key", "APKAALICE2", None, "Inactive"),
        ("bob", "service_specific_credential", "ACCABOB1", "codecommit.amazonaws.com", "Active"),
        ("bob", "service_specific_credential", "ACCABOB2", "bedrock.amazonaws.com", "Active"),
        ("dave", "signing_certificate", "CERTDAVE1", None, "Active"),
    ]
    for user, kind, credential_id, service, status in listed:
        con.execute(
            "insert into iam_credentials (run_id, account_id, user_name, credential_kind, "
            "credential_id, service_name, status, created_at) values ('r1', ?, ?, ?, ?, ?, ?, ?)",
            [A, user, kind, credential_id, service, status, AS_OF - timedelta(days=10)],
        )
    build_marts(con, "r1")
    found = dict(
        (row[0], row[1:])
        for row in history.rows(
            "select account_id, count_active_ssh_public_keys, count_active_service_credentials, "
            "count_active_signing_certificates from key_footprint where run_id = ?",
            "r1",
        )
    )
    assert found[A] == (1, 2, 1)
    assert found[B] == (None, None, 1)
    assert found[C] == (None, None, None)  # not assessed: nothing is known
