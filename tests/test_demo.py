"""The simulated organization: deterministic, AWS-like where moto is not, truth that adds up."""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from keyaudit.rules.catalogue import load_catalogue
from keyaudit.sources.aws.errors import CollectionError
from keyaudit.sources.aws.session import AccountSessions
from keyaudit.sources.demo import (
    PERSONAS,
    ROLE_NAME,
    ROOT_USER,
    SimulatedOrganization,
    simulated_organization,
)
from keyaudit.sources.demo.organization import (
    DENY_IAM_SCP_DOCUMENT,
    DENY_IAM_SCP_NAME,
    DENY_IAM_SCP_OU,
)
from keyaudit.sources.demo.personas import (
    INACTIVE_KEY_DAYS,
    MAX_KEY_AGE_DAYS,
    MAX_UNUSED_DAYS,
    NEVER_USED_GRACE_DAYS,
    PASSWORD_UNUSED_DAYS,
    ROOT_RECENT_USE_DAYS,
    margin,
)

AS_OF = datetime(2026, 3, 31, 9, 0, tzinfo=UTC)
RULES = {rule.rule_id for rule in load_catalogue()}  # the demo exercises every rule
CREDENTIAL_RULES = {
    "SSH_PUBLIC_KEY_NOT_ROTATED",
    "SERVICE_CREDENTIAL_NOT_ROTATED",
    "SIGNING_CERTIFICATE_NOT_ROTATED",
    "BEDROCK_API_KEY_WITHOUT_EXPIRY",
}


def snapshot(org: SimulatedOrganization) -> tuple[Any, ...]:
    return (
        org.accounts,
        org.users,
        org.expected,
        org.missing_role_account_id,
        org.roots,
        org.iam_denied_by_scp,
    )


@pytest.mark.slow  # a whole run again: make test-slow
def test_same_seed_and_as_of_give_the_same_organization() -> None:
    before = dict(os.environ)
    with simulated_organization(AS_OF) as first:
        one = snapshot(first)
    with simulated_organization(AS_OF) as second:
        two = snapshot(second)
    assert one == two
    assert dict(os.environ) == before
    with simulated_organization(AS_OF, seed=8, members=3, users_per_account=2) as other:
        assert other.accounts[1].account_id != first.accounts[1].account_id


def test_naive_as_of_is_refused() -> None:
    with (
        pytest.raises(ValueError, match="timezone-aware"),
        simulated_organization(datetime(2026, 3, 31)),
    ):
        pass


def report_rows(session: Any) -> tuple[list[dict[str, str]], datetime, bytes]:
    iam = session.client("iam")
    iam.generate_credential_report()
    answer = iam.get_credential_report()
    content = answer["Content"]
    return list(csv.DictReader(io.StringIO(content.decode()))), answer["GeneratedTime"], content


@pytest.fixture(scope="class")
def org() -> Any:
    with simulated_organization(AS_OF) as org:
        yield org


@pytest.fixture(scope="class")
def sessions(org: SimulatedOrganization) -> AccountSessions:
    return AccountSessions(customizers=[org.customize])


class TestSimulatedOrganization:
    def assessable(self, org: SimulatedOrganization) -> list[str]:
        return [
            a.account_id
            for a in org.accounts
            if a.state == "ACTIVE" and a.account_id != org.missing_role_account_id
        ]

    def session(self, org: SimulatedOrganization, sessions: AccountSessions, account: str) -> Any:
        caller = account == org.management_account_id
        return sessions.session_for(account, is_caller_account=caller)

    def test_shape_of_the_organization(self, org: SimulatedOrganization) -> None:
        states = Counter(a.state for a in org.accounts)
        assert states == {"ACTIVE": 9, "SUSPENDED": 1}
        assert [a.is_management for a in org.accounts].count(True) == 1
        assert org.accounts[0].account_id == org.management_account_id
        assert {a.ou_path for a in org.accounts} == {
            "Root",
            "Root/Security",
            "Root/Workloads/Prod",
            "Root/Workloads/Dev",
            "Root/Sandbox",
        }
        assert all(set(a.tags) == {"owner-email", "cost-center"} for a in org.accounts)
        assert len(org.users) == 9 * 14
        assert {u.persona for u in org.users} == {p.kind for p in PERSONAS}

    def test_list_accounts_pages_include_the_suspended_account(
        self, org: SimulatedOrganization, sessions: AccountSessions
    ) -> None:
        pages = list(
            sessions.base_client("organizations")
            .get_paginator("list_accounts")
            .paginate(PaginationConfig={"PageSize": 3})
        )
        listed = {a["Id"]: a["State"] for page in pages for a in page["Accounts"]}
        assert len(pages) > 1
        assert listed == {a.account_id: a.state for a in org.accounts}
        assert list(listed.values()).count("SUSPENDED") == 1

    def test_discovered_ou_and_tags_match_moto(
        self, org: SimulatedOrganization, sessions: AccountSessions
    ) -> None:
        client = sessions.base_client("organizations")
        for account in org.accounts[1:]:
            parent = client.list_parents(ChildId=account.account_id)["Parents"][0]
            name = client.describe_organizational_unit(OrganizationalUnitId=parent["Id"])
            assert account.ou_path.endswith("/" + name["OrganizationalUnit"]["Name"])
            tags = client.list_tags_for_resource(ResourceId=account.account_id)["Tags"]
            assert {t["Key"]: t["Value"] for t in tags} == account.tags

    def test_an_scp_on_the_sandbox_ou_denies_iam_to_an_assessed_member(
        self, org: SimulatedOrganization, sessions: AccountSessions
    ) -> None:
        sandbox = [a for a in org.accounts if a.ou_path == DENY_IAM_SCP_OU and a.state == "ACTIVE"]
        assert [a.name for a in sandbox] == ["sandbox-ml"]
        assert org.iam_denied_by_scp == {sandbox[0].account_id}
        assert sandbox[0].account_id != org.missing_role_account_id  # its users are assessed
        client = sessions.base_client("organizations")
        (root,) = client.list_roots()["Roots"]
        assert {"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"} in root["PolicyTypes"]
        ou = client.list_parents(ChildId=sandbox[0].account_id)["Parents"][0]["Id"]
        attached = client.list_policies_for_target(TargetId=ou, Filter="SERVICE_CONTROL_POLICY")
        names = {p["Name"]: p["Id"] for p in attached["Policies"]}
        assert set(names) == {"FullAWSAccess", DENY_IAM_SCP_NAME}
        content = client.describe_policy(PolicyId=names[DENY_IAM_SCP_NAME])["Policy"]["Content"]
        assert json.loads(content) == DENY_IAM_SCP_DOCUMENT

    def test_assume_role_into_the_missing_role_account_is_denied(
        self, org: SimulatedOrganization, sessions: AccountSessions
    ) -> None:
        arn = f"arn:aws:iam::{org.missing_role_account_id}:role/{ROLE_NAME}"
        with pytest.raises(ClientError) as denied:
            sessions.base_client("sts").assume_role(RoleArn=arn, RoleSessionName="keyaudit")
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
        assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert arn in denied.value.response["Error"]["Message"]
        with pytest.raises(CollectionError, match=f"AccessDenied on sts:AssumeRole {arn}"):
            sessions.session_for(org.missing_role_account_id, is_caller_account=False)

    def test_assume_role_works_elsewhere_and_iam_is_isolated(
        self, org: SimulatedOrganization, sessions: AccountSessions
    ) -> None:
        seen: dict[str, set[str]] = {}
        for account in self.assessable(org):
            session = self.session(org, sessions, account)
            assert session.client("sts").get_caller_identity()["Account"] == account
            listed = session.client("iam").list_users()["Users"]
            seen[account] = {u["Arn"] for u in listed}
            truth = {u.user_name for u in org.users if u.account_id == account}
            assert {u["UserName"] for u in listed} == truth
            assert all(f":{account}:" in arn for arn in seen[account])
        assert sum(map(len, seen.values())) == len(set().union(*seen.values()))

    def test_credential_report_is_in_real_aws_format(
        self, org: SimulatedOrganization, sessions: AccountSessions
    ) -> None:
        account = self.assessable(org)[1]
        rows, generated, content = report_rows(self.session(org, sessions, account))
        assert not content.endswith(b"\n")
        assert len(rows[0]) == 22
        root = rows[0]
        assert root["user"] == ROOT_USER
        assert root["arn"] == f"arn:aws:iam::{account}:root"
        assert root["password_enabled"] == "not_supported"
        assert AS_OF - timedelta(hours=4) < generated < AS_OF
        assert generated == org.report_times[account]
        users = rows[1:]
        for row in users:
            assert "not_supported" not in row.values(), row
            assert row["password_next_rotation"] == "N/A"
            if row["password_enabled"] == "false":
                assert row["password_last_used"] == "N/A"
            for slot in (1, 2):
                if row[f"access_key_{slot}_last_used_date"] == "N/A":
                    assert row[f"access_key_{slot}_last_used_region"] == "N/A"
                    assert row[f"access_key_{slot}_last_used_service"] == "N/A"
        truth = {u.user_name: u for u in org.users if u.account_id == account}
        assert {r["user"] for r in users} == set(truth)
        for row in users:
            user = truth[row["user"]]
            assert row["user_creation_time"] == stamp(user.created)
            assert row["mfa_active"] == str(user.mfa).lower()
            assert row["password_enabled"] == str(user.console).lower()
            for key in user.keys:
                prefix = f"access_key_{key.slot}_"
                assert row[prefix + "active"] == str(key.active).lower()
                assert row[prefix + "last_rotated"] == stamp(key.created)
                assert row[prefix + "last_used_date"] == stamp(key.last_used)
                assert row[prefix + "last_used_service"] == key.service

    def test_report_keys_join_list_access_keys_and_last_used(
        self, org: SimulatedOrganization, sessions: AccountSessions
    ) -> None:
        account = self.assessable(org)[2]
        iam = self.session(org, sessions, account).client("iam")
        for user in (u for u in org.users if u.account_id == account and u.keys):
            listed = iam.list_access_keys(UserName=user.user_name)["AccessKeyMetadata"]
            assert [k["AccessKeyId"] for k in listed] == [k.access_key_id for k in user.keys]
            assert [k["CreateDate"] for k in listed] == [k.created for k in user.keys]
            for key in user.keys:
                used = iam.get_access_key_last_used(AccessKeyId=key.access_key_id)
                assert used["AccessKeyLastUsed"].get("LastUsedDate") == key.last_used

    def test_root_key_and_root_mfa_show_in_report_and_summary(
        self, org: SimulatedOrganization, sessions: AccountSessions
    ) -> None:
        with_key, without_mfa = [], []
        for account in self.assessable(org):
            session = self.session(org, sessions, account)
            summary = session.client("iam").get_account_summary()["SummaryMap"]
            root = report_rows(session)[0][0]
            assert root["access_key_1_active"] == (
                "true" if summary["AccountAccessKeysPresent"] else "false"
            )
            assert root["mfa_active"] == ("true" if summary["AccountMFAEnabled"] else "false")
            if summary["AccountAccessKeysPresent"]:
                with_key.append(account)
                assert root["access_key_1_last_rotated"] != "N/A"
                assert root["access_key_1_last_used_date"] != "N/A"
            if not summary["AccountMFAEnabled"]:
                without_mfa.append(account)
        assert len(with_key) == 1 and len(without_mfa) == 1
        assert with_key[0] != org.management_account_id
        root_findings = [f for f in org.expected if f.rule_id == "ROOT_ACCESS_KEY_PRESENT"]
        assert [(f.account_id, f.user_name, f.key_slot) for f in root_findings] == [
            (with_key[0], ROOT_USER, 1)
        ]

    def test_expected_findings_cover_every_rule_and_skip_the_unassessed(
        self, org: SimulatedOrganization
    ) -> None:
        assert {f.rule_id for f in org.expected} == RULES
        missing = [f for f in org.expected if f.account_id == org.missing_role_account_id]
        assert [(f.rule_id, f.user_name) for f in missing] == [("ACCOUNT_NOT_ASSESSED", None)]
        key_ids = {k.access_key_id for u in org.users for k in u.keys}
        credential_ids = {c.credential_id for u in org.users for c in u.credentials}
        for finding in org.expected:
            if finding.rule_id.startswith("ACCESS_KEY_") or finding.rule_id.startswith("INACTIVE"):
                assert finding.key_slot in (1, 2) and finding.access_key_id in key_ids
            elif finding.rule_id in CREDENTIAL_RULES:  # listed: an id, no report slot
                assert finding.key_slot is None and finding.access_key_id in credential_ids
            elif finding.rule_id != "ROOT_ACCESS_KEY_PRESENT":
                assert finding.key_slot is None and finding.access_key_id is None

    def test_expected_findings_follow_the_rule_semantics(self, org: SimulatedOrganization) -> None:
        by_user = {(u.account_id, u.user_name): u for u in org.users}
        clean_never_used = 0
        for (account, name), user in by_user.items():
            if account == org.missing_role_account_id:
                continue
            rules = {
                (f.rule_id, f.key_slot)
                for f in org.expected
                if (f.account_id, f.user_name) == (account, name)
            }
            for key in user.keys:
                old = key.active and AS_OF - key.created > timedelta(days=MAX_KEY_AGE_DAYS)
                idle = key.active and AS_OF - (key.last_used or key.created) > timedelta(
                    days=MAX_UNUSED_DAYS
                )
                never = key.active and key.last_used is None
                past_grace = AS_OF - key.created > timedelta(days=NEVER_USED_GRACE_DAYS)
                setup = never and user.console and key.created == user.created
                kept = not key.active and AS_OF - key.created > timedelta(days=INACTIVE_KEY_DAYS)
                assert (("ACCESS_KEY_NOT_ROTATED", key.slot) in rules) == old
                assert (("ACCESS_KEY_UNUSED", key.slot) in rules) == idle
                assert (("ACCESS_KEY_NEVER_USED", key.slot) in rules) == (never and past_grace)
                assert (("ACCESS_KEY_CREATED_AT_SETUP", key.slot) in rules) == setup
                assert (("INACTIVE_KEY_NOT_REMOVED", key.slot) in rules) == kept
                clean_never_used += never and not idle and not past_grace
            two = sum(k.active for k in user.keys) == 2
            assert (("MULTIPLE_ACTIVE_KEYS", None) in rules) == two
            assert (("CONSOLE_USER_WITHOUT_MFA", None) in rules) == (user.console and not user.mfa)
            idle_since = user.password_last_used or user.created  # password set with the user
            stale = user.console and AS_OF - idle_since > timedelta(days=PASSWORD_UNUSED_DAYS)
            assert (("PASSWORD_UNUSED", None) in rules) == stale
        assert clean_never_used > 0  # the key created two days ago is not a finding

    def test_root_findings_follow_the_rule_semantics(self, org: SimulatedOrganization) -> None:
        window = timedelta(days=ROOT_RECENT_USE_DAYS)
        for account, root in org.roots.items():
            if account == org.missing_role_account_id:
                continue
            rules = {f.rule_id for f in org.expected
                     if (f.account_id, f.user_name) == (account, ROOT_USER)}  # fmt: skip
            uses = [t for t in (root.password_last_used, root.key_last_used) if t]
            assert ("ROOT_MFA_DISABLED" in rules) == (not root.mfa_active)
            assert ("ROOT_USED_RECENTLY" in rules) == any(AS_OF - t <= window for t in uses)
        recent = [f.account_id for f in org.expected if f.rule_id == "ROOT_USED_RECENTLY"]
        assert recent == [org.management_account_id]

    def test_every_age_is_a_day_away_from_the_thresholds_that_apply(
        self, org: SimulatedOrganization
    ) -> None:
        checked: list[tuple[timedelta, tuple[int, ...]]] = []
        for key in (k for u in org.users for k in u.keys):
            inactive = () if key.active else (INACTIVE_KEY_DAYS,)
            never = () if key.last_used else (NEVER_USED_GRACE_DAYS, MAX_UNUSED_DAYS)
            checked.append((AS_OF - key.created, (MAX_KEY_AGE_DAYS, *never, *inactive)))
            if key.last_used:
                checked.append((AS_OF - key.last_used, (MAX_UNUSED_DAYS, *inactive)))
        for user in org.users:
            if user.console:  # idle since the last sign-in, or since the password was set
                idle_since = user.password_last_used or user.created
                checked.append((AS_OF - idle_since, (PASSWORD_UNUSED_DAYS,)))
        for root in org.roots.values():
            for use in (root.password_last_used, root.key_last_used):
                if use:
                    checked.append((AS_OF - use, (ROOT_RECENT_USE_DAYS,)))
        for age, thresholds in checked:
            assert all(
                abs(age - timedelta(days=t)) >= timedelta(days=margin(t)) for t in thresholds
            ), age

    def test_every_use_precedes_the_report(self, org: SimulatedOrganization) -> None:
        first_report = min(org.report_times.values())
        uses = [k.last_used for u in org.users for k in u.keys if k.last_used]
        uses += [u.password_last_used for u in org.users if u.password_last_used]
        uses += [r.key_last_used for r in org.roots.values() if r.key_last_used]
        uses += [r.password_last_used for r in org.roots.values() if r.password_last_used]
        assert max(uses) < first_report

    def test_suspended_account_has_no_findings(self, org: SimulatedOrganization) -> None:
        suspended = next(a for a in org.accounts if a.state == "SUSPENDED")
        assert not [f for f in org.expected if f.account_id == suspended.account_id]


def stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00") if moment else "N/A"
