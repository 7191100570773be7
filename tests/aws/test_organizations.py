"""Discovery of the accounts in scope, against moto's Organizations."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from keyaudit.config import DiscoveryConfig
from keyaudit.sources.aws.errors import CollectionError
from keyaudit.sources.aws.organizations import account_state, discover
from keyaudit.sources.aws.session import AccountSessions


@pytest.fixture
def org() -> Iterator[dict]:
    """An organization of 25 members across OUs, one of them suspended."""
    with mock_aws():
        client = boto3.client("organizations", region_name="us-east-1")
        client.create_organization(FeatureSet="ALL")
        root_id = client.list_roots()["Roots"][0]["Id"]
        workloads = client.create_organizational_unit(ParentId=root_id, Name="Workloads")[
            "OrganizationalUnit"
        ]
        prod = client.create_organizational_unit(ParentId=workloads["Id"], Name="Prod")[
            "OrganizationalUnit"
        ]
        sandbox = client.create_organizational_unit(ParentId=root_id, Name="Sandbox")[
            "OrganizationalUnit"
        ]
        ids = []
        for n in range(25):
            status = client.create_account(Email=f"m{n}@example.com", AccountName=f"member-{n:02d}")
            account_id = status["CreateAccountStatus"]["AccountId"]
            ids.append(account_id)
            target = prod if n < 10 else sandbox if n >= 20 else workloads
            client.move_account(
                AccountId=account_id, SourceParentId=root_id, DestinationParentId=target["Id"]
            )
        client.tag_resource(
            ResourceId=ids[0], Tags=[{"Key": "owner-email", "Value": "team@example.com"}]
        )
        client.close_account(AccountId=ids[24])
        yield {"client": client, "ids": ids, "prod": prod, "sandbox": sandbox}


def test_list_accounts_is_paginated_past_20(org):
    found = discover(AccountSessions(), DiscoveryConfig())
    assert found.scope == "organization"
    assert len(found.in_scope) + len(found.skipped) == 26  # management + 25 members
    assert {a.account_id for a in found.in_scope} >= set(org["ids"][:24])


def test_ou_path_and_tags_are_attached(org):
    found = discover(AccountSessions(), DiscoveryConfig())
    first = next(a for a in found.in_scope if a.account_id == org["ids"][0])
    assert first.ou_path == "Root/Workloads/Prod"
    assert first.tags == {"owner-email": "team@example.com"}
    management = next(a for a in found.in_scope if a.is_management)
    assert management.ou_path == "Root"


def test_non_active_accounts_are_skipped_with_their_state(org):
    found = discover(AccountSessions(), DiscoveryConfig())
    assert [(a.account_id, a.state) for a in found.skipped] == [(org["ids"][24], "SUSPENDED")]


def test_include_and_exclude_by_ou_path_and_id(org):
    found = discover(
        AccountSessions(),
        DiscoveryConfig(include_ous=["Root/Workloads"], exclude_ous=[org["prod"]["Id"]]),
    )
    assert len(found.in_scope) == 10
    found = discover(
        AccountSessions(),
        DiscoveryConfig(exclude_accounts=[org["ids"][1]], include_ous=["Root/Workloads/Prod"]),
    )
    assert org["ids"][1] not in {a.account_id for a in found.in_scope}
    assert len(found.in_scope) == 9


def test_the_listing_and_what_the_filters_left_out_are_recorded_for_reconciliation(org):
    found = discover(
        AccountSessions(),
        DiscoveryConfig(exclude_accounts=[org["ids"][1]], include_ous=["Root/Workloads/Prod"]),
    )
    assert found.listed == 26  # management + 25 members, as ListAccounts answered
    assert org["ids"][1] in found.filtered_out
    assert len(found.in_scope) + len(found.skipped) + len(found.filtered_out) == found.listed


def test_unknown_included_account_is_reported_not_dropped(org):
    found = discover(
        AccountSessions(), DiscoveryConfig(include_accounts=[org["ids"][2], "999988887777"])
    )
    assert [a.account_id for a in found.in_scope] == [org["ids"][2]]
    assert found.unknown == ["999988887777"]


def test_state_falls_back_to_retired_status():
    assert account_state({"State": "SUSPENDED", "Status": "ACTIVE"}) == "SUSPENDED"
    assert account_state({"Status": "ACTIVE"}) == "ACTIVE"
    assert account_state({}) == "UNKNOWN"


def test_static_list_needs_no_organization():
    with mock_aws():
        found = discover(
            AccountSessions(),
            DiscoveryConfig(mode="accounts", accounts=["111122223333", "111122223333"]),
        )
    assert found.scope == "accounts"
    assert [a.account_id for a in found.in_scope] == ["111122223333"]


def test_auto_mode_without_organization_audits_the_caller():
    with mock_aws():
        found = discover(AccountSessions(), DiscoveryConfig())
    assert found.scope == "caller"
    assert [a.account_id for a in found.in_scope] == ["123456789012"]
    assert "organization not readable" in found.note


def test_organization_mode_without_organization_is_an_error():
    with (
        mock_aws(),
        pytest.raises(CollectionError, match="cannot list the organization's accounts"),
    ):
        discover(AccountSessions(), DiscoveryConfig(mode="organization"))


def test_filters_that_leave_no_account_stop_the_run_in_one_line(org):
    config = DiscoveryConfig(include_ous=["Root/Nowhere"])
    with pytest.raises(CollectionError) as stopped:
        discover(AccountSessions(), config)
    assert str(stopped.value) == (
        "discovery (organization) found no account to audit: the [discovery] filters "
        "(include_accounts, exclude_accounts, include_ous, exclude_ous) leave none — "
        "check them in keyaudit.toml"
    )
