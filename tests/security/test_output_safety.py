"""Output safety: folder names only from validated account ids, private folders all the way
down, and hostile names from AWS (account names, tags, IAM user names) escaped in the HTML
report and neutralised in the CSV export."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.iam.models import iam_backends

from keyaudit.evidence.store import EvidenceStore, make_private_dir
from keyaudit.model import Account
from keyaudit.report import write_report
from keyaudit.rules.catalogue import load_catalogue
from keyaudit.sources.demo import ROLE_NAME, simulated_organization
from keyaudit.warehouse.db import connect
from tests.faults.fault_harness import run_audit

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
HOSTILE_NAME = '<script>alert("account")</script>'
HOSTILE_TAG = "<img src=x onerror=alert(1)>"
HOSTILE_USER = "=1+2@evil"  # a valid IAM user name that a spreadsheet would run
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize(
    "account_id", ["../../etc", "12345678901/", "１２３４５６７８９０１２", "x" * 12]
)
def test_evidence_folders_are_named_from_valid_account_ids_only(tmp_path, account_id):
    store = EvidenceStore(tmp_path, "run-1")
    with pytest.raises(ValueError, match="is not 12 digits"):
        store.account_dir(account_id)
    assert not (tmp_path / "run-1").exists() or list((tmp_path / "run-1").iterdir()) == []


def test_account_ids_are_validated_where_accounts_are_made():
    with pytest.raises(ValueError, match="is not 12 digits"):
        Account("../123456789")


def test_private_folders_are_private_all_the_way_down(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    old_umask = os.umask(0o022)
    try:
        make_private_dir(shared / "a" / "b" / "c")
    finally:
        os.umask(old_umask)
    for folder in (shared / "a", shared / "a" / "b", shared / "a" / "b" / "c"):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    assert shared.stat().st_mode & 0o777 == 0o755  # folders it did not create are left alone


def _hostile_member(org: Any) -> str:
    """A member account with an IAM user named like a formula, holding an old, unused key."""
    member = next(
        a.account_id
        for a in org.accounts
        if not a.is_management
        and a.state == "ACTIVE"
        and a.account_id != org.missing_role_account_id
    )
    session = boto3.Session(region_name="us-east-1")
    creds = session.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/{ROLE_NAME}", RoleSessionName="setup"
    )["Credentials"]
    iam = session.client(
        "iam",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    iam.create_user(UserName=HOSTILE_USER)
    iam.create_access_key(UserName=HOSTILE_USER)
    old = (AS_OF - timedelta(days=400)).replace(tzinfo=None)
    user = iam_backends[member]["global"].users[HOSTILE_USER]
    user.create_date = user.access_keys[0].create_date = old
    return member


@pytest.mark.slow  # a whole run again: make test-slow
def test_hostile_names_are_escaped_in_html_and_neutralised_in_csv(vt, recorder, tmp_path: Path):
    def rename(parsed: dict[str, Any]) -> None:
        for account in parsed["Accounts"]:
            if account["Id"] == member:
                account["Name"] = HOSTILE_NAME

    def retag(parsed: dict[str, Any]) -> None:
        for tag in parsed["Tags"]:
            tag["Value"] = HOSTILE_TAG

    with simulated_organization(AS_OF, members=3, users_per_account=2) as org:
        member = _hostile_member(org)
        recorder.rewrite("organizations.ListAccounts", rename)
        recorder.rewrite("organizations.ListTagsForResource", retag)
        result = run_audit(org, tmp_path, vt=vt, injector=recorder)
    assert result.accounts[member].status == "assessed"
    assert any(f[2] == HOSTILE_USER for f in result.findings), "the hostile user has no finding"
    con = connect(result.warehouse)
    try:
        files = write_report(
            con, result.run_id, tmp_path / "out", rules=load_catalogue(), formats=("html", "csv")
        )
    finally:
        con.close()
    html = files.html.read_text(encoding="utf-8")
    assert HOSTILE_NAME not in html and HOSTILE_TAG not in html
    assert "&lt;script&gt;alert(" in html
    rows = list(csv.reader(io.StringIO(files.csv.read_text(encoding="utf-8"))))
    cells = [cell for row in rows for cell in row]
    assert f"'{HOSTILE_USER}" in cells
    assert not [c for c in cells if c.startswith(FORMULA_START)], "a formula cell survived"
