"""Owners by user tag and by key description, through the pipeline against moto (issue 22.2):
the tags come from GetAccountAuthorizationDetails (moto 5.2 returns UserDetailList[].Tags), are
kept in owner_tags, and key_owners reads them; the demo's personas carry each kind. With
privilege collection off no user tag is read, and every key says it falls back to its account."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import openpyxl
import pytest

from keyaudit.config import Config
from keyaudit.report import write_report
from keyaudit.rules.catalogue import load_catalogue
from keyaudit.sources.demo import simulated_organization
from keyaudit.sources.demo.personas import PERSONAS, expected_key_owner
from keyaudit.warehouse.db import connect
from tests.faults.fault_harness import AuditResult, VirtualTime, install_virtual_time, run_audit

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def org() -> Iterator[Any]:
    with simulated_organization(AS_OF, members=3, users_per_account=len(PERSONAS)) as org:
        yield org


def audit(org: Any, folder: Any, config: Config | None = None) -> AuditResult:
    with pytest.MonkeyPatch.context() as monkeypatch:
        vt = VirtualTime()
        install_virtual_time(monkeypatch, vt)
        return run_audit(org, folder, vt=vt, config=config)


@pytest.fixture(scope="module")
def result(org: Any, tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    """One fault-free run."""
    return audit(org, tmp_path_factory.mktemp("owners"))


@pytest.fixture(scope="module")
def key_owners(result: AuditResult) -> dict[str, tuple]:
    """access key id -> (account, owner, owner_source, owner_note)."""
    return owners_of(result)


def owners_of(result: AuditResult) -> dict[str, tuple]:
    con = connect(result.warehouse, read_only=True)
    try:
        found = con.execute(
            "select access_key_id, account_id, owner, owner_source, owner_note "
            "from key_owners where run_id = ? and access_key_id is not null",
            [result.run_id],
        ).fetchall()
    finally:
        con.close()
    return {key: rest for key, *rest in found}


def account_owner(org: Any, account_id: str) -> str:
    return next(a.tags["owner-email"] for a in org.accounts if a.account_id == account_id)


@pytest.mark.slow  # a whole run again: make test-slow
def test_each_key_is_owned_by_its_user_tag_its_description_or_its_account(org, key_owners):
    seen = set()
    for user in org.users:
        for key in user.keys:
            if key.access_key_id not in key_owners:
                continue  # an account that was not assessed
            account, owner, source, _ = key_owners[key.access_key_id]
            expected, expected_source = expected_key_owner(user, key)
            if expected is None:
                expected, expected_source = account_owner(org, account), "account_tag"
            assert (owner, source) == (expected, expected_source), (user.persona, key)
            seen.add(source)
    assert seen == {"user_tag", "key_description", "account_tag"}


@pytest.mark.slow  # a whole run again: make test-slow
def test_an_owner_tag_naming_a_team_falls_to_the_account_owner_with_a_note(org, key_owners):
    teams = [u for u in org.users if u.owned_by == "not_an_address"]
    checked = 0
    for user in teams:
        key = user.keys[0].access_key_id
        if key in key_owners:
            account, owner, source, note = key_owners[key]
            assert (owner, source) == (account_owner(org, account), "account_tag")
            assert (
                note
                == f"user {user.user_name}: tag owner = 'platform team' is not an e-mail address"
            )
            checked += 1
    assert checked


@pytest.mark.slow  # a whole run again: make test-slow
def test_with_privilege_collection_off_every_key_falls_back_to_its_account_and_says_so(
    org, tmp_path
):
    config = Config.model_validate({"collection": {"privilege": False}})
    found = owners_of(audit(org, tmp_path, config))
    assert found
    for account, owner, source, note in found.values():
        assert (owner, source) == (account_owner(org, account), "account_tag")
        assert note == (
            f"account {account}: user tags were not read (privilege collection off), so its "
            "keys are owned by the account's owner"
        )


@pytest.mark.slow  # a whole run again: make test-slow
def test_exports_carry_each_findings_owner_and_where_it_came_from(org, result, tmp_path):
    con = connect(result.warehouse, read_only=True)
    try:
        files = write_report(
            con, result.run_id, tmp_path, rules=load_catalogue(), formats="csv,json,xlsx"
        )
    finally:
        con.close()
    with files.csv.open(newline="", encoding="utf-8") as handle:
        csv_rows = {r["finding_id"]: r for r in csv.DictReader(handle)}
    json_rows = {r["finding_id"]: r for r in json.loads(files.json.read_text())["findings"]}
    sheet = openpyxl.load_workbook(files.xlsx, read_only=True)["findings"]
    header, *cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    xlsx_rows = {r[header.index("finding_id")]: dict(zip(header, r, strict=True)) for r in cells}
    tagged = {
        k.access_key_id: expected_key_owner(u, k)
        for u in org.users
        for k in u.keys
        if u.owned_by in ("user_tag", "key_description")
    }
    checked = set()
    for finding_id, row in json_rows.items():
        if row["access_key_id"] in tagged:
            owner, source = tagged[row["access_key_id"]]
            assert (row["owner"], row["owner_source"]) == (owner, source)
            assert (csv_rows[finding_id]["owner"], csv_rows[finding_id]["owner_source"]) == (
                owner,
                source,
            )
            xlsx = xlsx_rows[finding_id]
            assert (xlsx["owner"], xlsx["owner_source"]) == (owner, source)
            checked.add(source)
        elif row["rule_id"] == "ACCOUNT_NOT_ASSESSED":
            assert row["owner_source"] == "account_tag"
    assert checked == {"user_tag", "key_description"}
