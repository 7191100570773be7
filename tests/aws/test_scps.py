"""Service control policies as run evidence (issue 19), the collector against moto's
Organizations: read in the fewest calls, with where each is attached and each account's chain
from the root down; a denied call is recorded in one line, never raised; a document that does not
parse is kept raw; nothing is read when SCPs are off or there is no organization."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from keyaudit.config import DiscoveryConfig
from keyaudit.evidence.scps import read_scps, scp_gap, scp_levels
from keyaudit.evidence.store import EvidenceStore
from keyaudit.model import Account, Discovery
from keyaudit.sources.aws.organizations import discover
from keyaudit.sources.aws.scps import collect_scps
from keyaudit.sources.aws.session import AccountSessions
from keyaudit.sources.demo.organization import DENY_IAM_SCP_DOCUMENT

MANAGEMENT = "123456789012"  # moto's caller account
SCP = "SERVICE_CONTROL_POLICY"
DENY_REGIONS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "NotAction": ["iam:*", "sts:*"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}},
        }
    ],
}
GRANT = (
    "grant organizations:ListRoots, ListPolicies, DescribePolicy, ListTargetsForPolicy to the "
    "auditing principal in the management or a delegated administrator account "
    "(docs/permissions.md)"
)


# --------------------------------------------------------------------------- a small organization


class Org:
    """Root → Workloads → Prod (account `prod`), Root → Sandbox (account `sandbox`), and
    `direct` right under the root; SCPs enabled, unless a test disables them."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.root = client.list_roots()["Roots"][0]["Id"]
        self.workloads = self._ou(self.root, "Workloads")
        self.prod = self._ou(self.workloads, "Prod")
        self.sandbox = self._ou(self.root, "Sandbox")
        self.prod_account = self._account("prod", self.prod)
        self.sandbox_account = self._account("sandbox", self.sandbox)
        self.direct_account = self._account("direct", None)

    def _ou(self, parent: str, name: str) -> str:
        made = self.client.create_organizational_unit(ParentId=parent, Name=name)
        return made["OrganizationalUnit"]["Id"]

    def _account(self, name: str, ou: str | None) -> str:
        status = self.client.create_account(AccountName=name, Email=f"{name}@example.com")
        account_id = status["CreateAccountStatus"]["AccountId"]
        if ou is not None:
            self.client.move_account(
                AccountId=account_id, SourceParentId=self.root, DestinationParentId=ou
            )
        return account_id

    def enable_scps(self) -> None:
        self.client.enable_policy_type(RootId=self.root, PolicyType=SCP)

    def policy(self, name: str, content: str, *targets: str) -> str:
        made = self.client.create_policy(Name=name, Description=name, Type=SCP, Content=content)[
            "Policy"
        ]["PolicySummary"]["Id"]
        for target in targets:
            self.client.attach_policy(PolicyId=made, TargetId=target)
        return made

    def discovered(self) -> Discovery:
        return discover(AccountSessions(), DiscoveryConfig())


@pytest.fixture
def org() -> Iterator[Org]:
    with mock_aws():
        client = boto3.client("organizations", region_name="us-east-1")
        client.create_organization(FeatureSet="ALL")
        yield Org(client)


class Recording:
    """The Organizations client, every call recorded; ListPolicies and ListTargetsForPolicy
    answered `page_size` items a page with a NextToken (moto answers in one page, AWS pages)."""

    def __init__(self, client: Any, page_size: int | None = None) -> None:
        self.client = client
        self.page_size = page_size
        self.calls: list[str] = []

    def _paged(self, name: str, key: str, NextToken: str | None = None, **params: Any) -> Any:
        self.calls.append(name)
        answer = getattr(self.client, name)(**params)
        if self.page_size is None:
            return answer
        items, start = answer[key], int(NextToken or 0)
        page: dict[str, Any] = {key: items[start : start + self.page_size]}
        if start + self.page_size < len(items):
            page["NextToken"] = str(start + self.page_size)
        return page

    def list_policies(self, **params: Any) -> Any:
        return self._paged("list_policies", "Policies", **params)

    def list_targets_for_policy(self, **params: Any) -> Any:
        return self._paged("list_targets_for_policy", "Targets", **params)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name)

        def call(**params: Any) -> Any:
            self.calls.append(name)
            return method(**params)

        return call


def collect(
    tmp_path: Path, client: Any, found: Discovery, *, enabled: bool = True
) -> dict[str, Any]:
    store = EvidenceStore(tmp_path / "evidence", "run")
    store.prepare()
    outcome = collect_scps(lambda: client, found, store, enabled=enabled)
    evidence = read_scps(store.run_dir)
    assert evidence is not None
    assert (outcome.status, outcome.error) == (evidence["status"], evidence["error"])
    return evidence


def never(*_: Any) -> Any:
    raise AssertionError("no Organizations client may be made")


# --------------------------------------------------------------------------- collection


def test_scps_record_chain_from_root_to_account(org, tmp_path):
    org.enable_scps()
    deny_iam = org.policy("DenyIAM", json.dumps(DENY_IAM_SCP_DOCUMENT), org.sandbox)
    regions = org.policy("DenyRegions", json.dumps(DENY_REGIONS), org.prod_account)
    scps = collect(tmp_path, org.client, org.discovered())
    assert (scps["status"], scps["error"], scps["enabled"]) == ("collected", None, True)
    assert scps["management_account_id"] == MANAGEMENT
    assert scps["chains"] == {
        MANAGEMENT: [org.root, MANAGEMENT],
        org.prod_account: [org.root, org.workloads, org.prod, org.prod_account],
        org.sandbox_account: [org.root, org.sandbox, org.sandbox_account],
        org.direct_account: [org.root, org.direct_account],
    }
    assert scps["attachments"][org.root] == ["p-FullAWSAccess"]
    assert scps["attachments"][org.workloads] == ["p-FullAWSAccess"]
    assert scps["attachments"][org.sandbox] == sorted(["p-FullAWSAccess", deny_iam])
    assert scps["attachments"][org.prod_account] == sorted(["p-FullAWSAccess", regions])
    assert scps["policies"][deny_iam] == {
        "name": "DenyIAM",
        "arn": scps["policies"][deny_iam]["arn"],
        "aws_managed": False,
        "document": DENY_IAM_SCP_DOCUMENT,
        "parse_error": None,
    }
    assert scps["policies"][deny_iam]["arn"].endswith(f"/service_control_policy/{deny_iam}")
    full = scps["policies"]["p-FullAWSAccess"]
    assert (full["name"], full["aws_managed"]) == ("FullAWSAccess", True)
    assert full["document"]["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]


def test_scps_are_read_in_the_fewest_calls_one_listing_and_two_calls_per_policy(org, tmp_path):
    org.enable_scps()
    org.policy("DenyIAM", json.dumps(DENY_IAM_SCP_DOCUMENT), org.sandbox)
    client = Recording(org.client)
    collect(tmp_path, client, org.discovered())
    assert sorted(client.calls) == sorted(
        ["list_roots", "list_policies"] + ["describe_policy", "list_targets_for_policy"] * 2
    )


def test_the_chains_come_from_discovery_without_a_call_more(org, tmp_path):
    org.enable_scps()
    found = org.discovered()
    client = Recording(org.client)
    scps = collect(tmp_path, client, found)
    assert "list_parents" not in client.calls
    assert {a.account_id: list(a.ou_ids) for a in found.in_scope} == {
        account: chain[:-1] for account, chain in scps["chains"].items()
    }


def test_scps_not_enabled_mean_no_scp_applies_and_only_list_roots_is_called(org, tmp_path):
    org.policy("DenyIAM", json.dumps(DENY_IAM_SCP_DOCUMENT), org.sandbox)  # not enforced
    client = Recording(org.client)
    scps = collect(tmp_path, client, org.discovered())
    assert client.calls == ["list_roots"]
    assert (scps["status"], scps["enabled"], scps["policies"], scps["attachments"]) == (
        "collected",
        False,
        {},
        {},
    )
    assert scp_levels(scps, org.sandbox_account) == []


def test_every_page_of_list_policies_and_list_targets_for_policy_is_read(org, tmp_path):
    org.enable_scps()
    targets = (org.sandbox, org.prod, org.direct_account)
    for n in range(3):
        org.policy(f"Deny{n}", json.dumps(DENY_IAM_SCP_DOCUMENT), *targets)
    found = org.discovered()
    whole = collect(tmp_path / "whole", org.client, found)
    paged = Recording(org.client, page_size=1)
    assert collect(tmp_path / "paged", paged, found) == whole
    policies = len(whole["policies"])
    attachments = sum(len(ids) for ids in whole["attachments"].values())
    assert policies == 4  # FullAWSAccess and three
    assert paged.calls.count("list_policies") == policies  # one policy a page
    assert paged.calls.count("describe_policy") == policies
    assert paged.calls.count("list_targets_for_policy") == attachments  # one target a page


def test_a_policy_whose_content_is_not_json_is_kept_raw_with_its_parse_error(org, tmp_path):
    org.enable_scps()
    broken = org.policy("Broken", '{"Version": "2012-10-17", "Statement": [', org.sandbox)
    scps = collect(tmp_path, org.client, org.discovered())
    assert scps["status"] == "collected"
    entry = scps["policies"][broken]
    assert entry["document"] is None
    assert entry["content"] == '{"Version": "2012-10-17", "Statement": ['
    assert entry["parse_error"].startswith("Content is not JSON: ")
    sandbox_level = dict(scp_levels(scps, org.sandbox_account))[org.sandbox]
    assert (f"SCP Broken ({broken}) attached to {org.sandbox}", None) in sandbox_level


def test_denied_list_policies_is_recorded_as_failed_in_one_line_naming_the_call_and_the_fix(
    org, tmp_path
):
    org.enable_scps()

    class Denied(Recording):
        def list_policies(self, **params: Any) -> Any:
            from botocore.exceptions import ClientError

            error = {"Code": "AccessDeniedException", "Message": "You don't have permissions"}
            raise ClientError({"Error": error}, "ListPolicies")

    found = org.discovered()
    scps = collect(tmp_path, Denied(org.client), found)
    assert scps["status"] == "failed"
    assert scps["error"] == (
        "organizations:ListPolicies denied (AccessDeniedException: You don't have permissions) "
        f"— {GRANT}"
    )
    assert (scps["enabled"], scps["policies"], scps["attachments"]) == (None, {}, {})
    assert scps["management_account_id"] == MANAGEMENT
    assert scp_levels(scps, org.sandbox_account) is None  # unknown, never an assumed deny
    assert scp_gap(scps, org.sandbox_account) == scps["error"]
    assert scp_levels(scps, MANAGEMENT) == []


def test_any_other_failing_call_is_failed_in_one_line_with_the_call_and_aws_answer(org, tmp_path):
    org.enable_scps()

    class Failing(Recording):
        def describe_policy(self, **params: Any) -> Any:
            from botocore.exceptions import ClientError

            error = {"Code": "ServiceException", "Message": "try again\nlater"}
            raise ClientError({"Error": error}, "DescribePolicy")

    scps = collect(tmp_path, Failing(org.client), org.discovered())
    assert (scps["status"], scps["error"]) == (
        "failed",
        "ServiceException on organizations:DescribePolicy: try again later; SCPs are unknown, "
        "not assumed to deny",
    )


def test_scps_switched_off_make_no_call_and_say_off(org, tmp_path):
    org.enable_scps()
    scps = collect(tmp_path, never, org.discovered(), enabled=False)
    assert (scps["status"], scps["error"], scps["enabled"]) == ("off", None, None)
    assert scp_gap(scps, org.sandbox_account) == "[collection] scps = false"


def test_without_an_organization_scps_are_not_applicable_and_nothing_is_called(tmp_path):
    found = Discovery(
        scope="accounts",
        caller_account_id=MANAGEMENT,
        caller_arn=f"arn:aws:iam::{MANAGEMENT}:user/auditor",
        in_scope=[Account("111122223333")],
    )
    scps = collect(tmp_path, never, found)
    assert (scps["status"], scps["enabled"], scps["chains"]) == ("not applicable", None, {})
    assert scp_levels(scps, "111122223333") is None


def test_account_keeps_its_ou_ids_through_run_json_and_older_runs_still_load():
    account = Account("111122223333", ou_path="Root/Prod", ou_ids=("r-ab12", "ou-ab12-11111111"))
    recorded = json.loads(json.dumps(account.to_dict()))
    assert recorded["ou_ids"] == ["r-ab12", "ou-ab12-11111111"]
    assert Account.from_dict(recorded) == account
    del recorded["ou_ids"]  # run.json of a run recorded before ou_ids
    assert Account.from_dict(recorded).ou_ids == ()
