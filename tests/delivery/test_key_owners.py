"""Who owns a key (views account_owners, key_owners, finding_owners), from given rows: the user's
owner tag, then the key's description, then the account's owner tag, then the OU map, else the
compliance list; a value that is not an e-mail address falls through with a note, and an account
whose user tags were not read says so."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from keyaudit.model import address_in
from keyaudit.warehouse.db import insert_frame

RUN = "run-owners"
A, B, C = "111111111111", "222222222222", "333333333333"
KEY_1, KEY_2, KEY_3 = "AKIAAAAAAAAAAAAAAAA1", "AKIAAAAAAAAAAAAAAAA2", "AKIAAAAAAAAAAAAAAAA3"


def given(
    con: Any,
    *,
    user_tags: dict[tuple[str, str], dict[str, str]] | None = None,
    account_tags: dict[str, dict[str, str]] | None = None,
    keys: list[tuple[str, str, str | None, int]] | None = None,
    privilege: dict[str, str] | None = None,
    user_tag: str = "owner",
    ou_owners: dict[str, str] | None = None,
    ou_paths: dict[str, str] | None = None,
) -> None:
    """A run whose recorded configuration names the owner settings, its accounts, keys and tags
    (each tag's address decided as the load decides it)."""
    config = {
        "owners": {"user_tag": user_tag},
        "delivery": {"email": {"owner_tag": "owner-email", "ou_owners": ou_owners or {}}},
    }
    as_of = datetime(2026, 12, 1, 6, tzinfo=UTC)
    con.execute(
        "insert into runs (run_id, started_at, as_of, source, scope, config_digest, config_json, "
        "parameters_json, tool_version, status, accounts_in_scope, accounts_assessed, "
        "accounts_not_assessed, accounts_skipped) values (?, ?, ?, 'aws', 'organization', 'x', "
        "?, '{}', 'test', 'finished', 3, 3, 0, 0)",
        [RUN, as_of, as_of, json.dumps(config)],
    )
    paths = ou_paths or {}
    account_rows = [
        {
            "run_id": RUN,
            "account_id": a,
            "name": f"acct-{a[:2]}",
            "ou_path": paths.get(a, "Root/Workloads"),
            "tags": "{}",
            "status": "assessed",
            "privilege_status": (privilege or {}).get(a, "collected"),
        }
        for a in (A, B, C)
    ]
    insert_frame(con, "accounts", pd.DataFrame(account_rows))
    tags = [
        {"account_id": a, "user_name": None, "tag_key": k, "tag_value": v}
        for a, found in (account_tags or {}).items()
        for k, v in found.items()
    ] + [
        {"account_id": a, "user_name": u, "tag_key": k, "tag_value": v}
        for (a, u), found in (user_tags or {}).items()
        for k, v in found.items()
    ]
    if tags:
        frame = pd.DataFrame(
            [{"run_id": RUN, **t, "address": address_in(t["tag_value"])} for t in tags]
        )
        insert_frame(con, "owner_tags", frame)
    key_rows = [
        {
            "run_id": RUN,
            "account_id": a,
            "user_name": u,
            "access_key_id": k,
            "key_slot": slot,
            "is_root": u == "<root_account>",
            "is_active": True,
        }
        for a, u, k, slot in keys or []
    ]
    if key_rows:
        insert_frame(con, "keys", pd.DataFrame(key_rows))


def owners(con: Any) -> dict[str | None, tuple[str | None, str, str | None]]:
    """access key id (or user name for a key without one) -> (owner, owner_source, owner_note)."""
    found = con.execute(
        "select coalesce(access_key_id, user_name), owner, owner_source, owner_note "
        "from key_owners where run_id = ?",
        [RUN],
    ).fetchall()
    return {key: (owner, source, note) for key, owner, source, note in found}


def test_the_users_owner_tag_owns_its_keys_before_description_and_account(warehouse):
    given(
        warehouse,
        user_tags={(A, "deploy"): {"Owner": " dev@example.com ", KEY_1: "ops@example.com"}},
        account_tags={A: {"owner-email": "acct@example.com"}},
        keys=[(A, "deploy", KEY_1, 1)],
    )
    assert owners(warehouse)[KEY_1] == ("dev@example.com", "user_tag", None)


def test_a_keys_description_owns_it_when_the_user_has_no_owner_tag(warehouse):
    given(
        warehouse,
        user_tags={(A, "deploy"): {KEY_1: "ops@example.com"}},
        account_tags={A: {"owner-email": "acct@example.com"}},
        keys=[(A, "deploy", KEY_1, 1), (A, "deploy", KEY_2, 2)],
    )
    found = owners(warehouse)
    assert found[KEY_1] == ("ops@example.com", "key_description", None)
    assert found[KEY_2] == (
        "acct@example.com",
        "account_tag",
        None,
    )  # the other key: no description


def test_an_owner_tag_that_is_not_an_address_falls_through_with_a_note(warehouse):
    given(
        warehouse,
        user_tags={(A, "deploy"): {"owner": "platform team", KEY_1: "ops@example.com"}},
        keys=[(A, "deploy", KEY_1, 1)],
    )
    assert owners(warehouse)[KEY_1] == (
        "ops@example.com",
        "key_description",
        "user deploy: tag owner = 'platform team' is not an e-mail address",
    )


def test_a_description_that_is_not_an_address_falls_to_the_account_owner_with_a_note(warehouse):
    given(
        warehouse,
        user_tags={(A, "deploy"): {KEY_1: "jenkins deploy key"}},
        account_tags={A: {"Owner-Email": "acct@example.com"}},
        keys=[(A, "deploy", KEY_1, 1)],
    )
    assert owners(warehouse)[KEY_1] == (
        "acct@example.com",
        "account_tag",
        f"key {KEY_1}: description 'jenkins deploy key' is not an e-mail address",
    )


def test_without_an_account_tag_the_deepest_ou_owns_then_nobody(warehouse):
    given(
        warehouse,
        account_tags={B: {"owner-email": "the payments team"}},
        keys=[(A, "a", KEY_1, 1), (B, "b", KEY_2, 1), (C, "c", KEY_3, 1)],
        ou_owners={
            "Root/Workloads": "workloads@example.com",
            "Root/Workloads/Prod": "prod@example.com",
        },
        ou_paths={A: "Root/Workloads/Prod/Payments", B: "Root/Workloads/Dev", C: "Root/Production"},
    )
    found = owners(warehouse)
    assert found[KEY_1] == ("prod@example.com", "ou_map", None)
    assert found[KEY_2] == ("workloads@example.com", "ou_map", None)
    assert found[KEY_3] == (None, "compliance", None)  # Root/Production is not Root/Prod
    accounts = warehouse.execute(
        "select account_id, owner, owner_source, owner_note from account_owners where run_id = ?",
        [RUN],
    ).fetchall()
    assert sorted(accounts) == [
        (A, "prod@example.com", "ou_map", None),
        (
            B,
            "workloads@example.com",
            "ou_map",
            f"account {B}: tag owner-email = 'the payments team' is not an e-mail address",
        ),
        (C, None, "compliance", None),
    ]


def test_where_user_tags_were_not_read_keys_fall_back_to_the_account_owner_and_say_so(warehouse):
    given(
        warehouse,
        account_tags={A: {"owner-email": "acct@example.com"}},
        keys=[(A, "deploy", KEY_1, 1), (A, "<root_account>", None, 1)],
        privilege={A: "off"},
    )
    found = owners(warehouse)
    assert found[KEY_1] == (
        "acct@example.com",
        "account_tag",
        f"account {A}: user tags were not read (privilege collection off), so its keys are "
        "owned by the account's owner",
    )
    assert found["<root_account>"] == ("acct@example.com", "account_tag", None)


def test_an_empty_user_tag_setting_reads_no_user_tag(warehouse):
    given(
        warehouse,
        user_tags={(A, "deploy"): {"owner": "dev@example.com"}},
        account_tags={A: {"owner-email": "acct@example.com"}},
        keys=[(A, "deploy", KEY_1, 1)],
        user_tag="",
    )
    assert owners(warehouse)[KEY_1] == ("acct@example.com", "account_tag", None)


def test_a_finding_belongs_to_its_keys_owner_and_any_other_to_the_accounts(warehouse):
    given(
        warehouse,
        user_tags={(A, "deploy"): {"owner": "dev@example.com"}},
        account_tags={A: {"owner-email": "acct@example.com"}},
        keys=[(A, "deploy", KEY_1, 1), (A, "deploy", None, 2)],
    )
    findings = [
        ("key", "deploy", KEY_1, 1),
        ("slot", "deploy", None, 2),  # a report-only key, named by its slot
        ("user", "deploy", None, None),  # a user finding: the account's owner
    ]
    insert_frame(
        warehouse,
        "findings",
        pd.DataFrame(
            [
                {
                    "run_id": RUN,
                    "finding_id": f,
                    "rule_id": "R",
                    "severity": "high",
                    "account_id": A,
                    "user_name": u,
                    "access_key_id": k,
                    "key_slot": s,
                    "reason": "r",
                    "waived": False,
                }
                for f, u, k, s in findings
            ]
        ),
    )
    found = dict(
        (f, (o, s))
        for f, o, s in warehouse.execute(
            "select finding_id, owner, owner_source from finding_owners where run_id = ?", [RUN]
        ).fetchall()
    )
    assert found == {
        "key": ("dev@example.com", "user_tag"),
        "slot": ("dev@example.com", "user_tag"),
        "user": ("acct@example.com", "account_tag"),
    }


@pytest.mark.parametrize(
    ("value", "address"),
    [
        (" dev@example.com ", "dev@example.com"),
        ("platform team", None),
        ("owner: dev@example.com", None),  # an address inside text is not one
        ("a@b@example.com", None),
    ],
)
def test_only_a_value_that_is_one_address_names_an_owner(value, address):
    assert address_in(value) == address
