"""moto 5.2 does not implement service-specific credentials; keyaudit.sources.demo.
moto_service_credentials teaches its IAM backend and responses the calls. These tests make the
real boto3 Query-protocol calls against it, as the IAM API Reference describes their answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from keyaudit.sources.demo.moto_service_credentials import install

BEDROCK, CODECOMMIT, KEYSPACES = (
    "bedrock.amazonaws.com",
    "codecommit.amazonaws.com",
    "cassandra.amazonaws.com",
)


@pytest.fixture
def iam() -> Iterator[Any]:
    install()
    with mock_aws():
        client = boto3.client(
            "iam", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="x"
        )
        for name in ("ana", "ben"):
            client.create_user(UserName=name)
        yield client


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_create_answers_the_password_once_and_list_never_shows_it(iam):
    made = iam.create_service_specific_credential(UserName="ana", ServiceName=CODECOMMIT)
    credential = made["ServiceSpecificCredential"]
    assert credential["ServiceUserName"].startswith("ana-at-")
    assert credential["ServicePassword"] and credential["Status"] == "Active"
    (listed,) = iam.list_service_specific_credentials(UserName="ana")["ServiceSpecificCredentials"]
    assert listed["ServiceSpecificCredentialId"] == credential["ServiceSpecificCredentialId"]
    assert listed["ServiceName"] == CODECOMMIT and "ServicePassword" not in listed
    assert "ExpirationDate" not in listed


def test_a_bedrock_api_key_with_an_age_expires_and_one_without_does_not(iam):
    iam.create_service_specific_credential(
        UserName="ben", ServiceName=BEDROCK, CredentialAgeDays=30
    )
    iam.create_service_specific_credential(UserName="ben", ServiceName=BEDROCK)
    listed = iam.list_service_specific_credentials(UserName="ben")["ServiceSpecificCredentials"]
    expiring, forever = listed
    assert (expiring["ExpirationDate"] - expiring["CreateDate"]).days == 30
    assert "ExpirationDate" not in forever
    assert expiring["ServiceCredentialAlias"].startswith("BedrockAPIKey-")


def test_all_users_lists_every_users_credentials_and_filters_by_service(iam):
    iam.create_service_specific_credential(UserName="ana", ServiceName=CODECOMMIT)
    iam.create_service_specific_credential(UserName="ben", ServiceName=KEYSPACES)
    everyone = iam.list_service_specific_credentials(AllUsers=True)["ServiceSpecificCredentials"]
    assert sorted(c["UserName"] for c in everyone) == ["ana", "ben"]
    only = iam.list_service_specific_credentials(AllUsers=True, ServiceName=KEYSPACES)
    assert [c["UserName"] for c in only["ServiceSpecificCredentials"]] == ["ben"]


def test_all_users_pages_with_marker_and_max_items(iam):
    for name in ("ana", "ben"):
        for service in (CODECOMMIT, KEYSPACES):
            iam.create_service_specific_credential(UserName=name, ServiceName=service)
    first = iam.list_service_specific_credentials(AllUsers=True, MaxItems=3)
    assert first["IsTruncated"] is True and len(first["ServiceSpecificCredentials"]) == 3
    rest = iam.list_service_specific_credentials(AllUsers=True, MaxItems=3, Marker=first["Marker"])
    assert rest["IsTruncated"] is False and len(rest["ServiceSpecificCredentials"]) == 1


def test_two_per_service_and_user_then_limit_exceeded(iam):
    for _ in range(2):
        iam.create_service_specific_credential(UserName="ana", ServiceName=CODECOMMIT)
    with pytest.raises(ClientError) as exc:
        iam.create_service_specific_credential(UserName="ana", ServiceName=CODECOMMIT)
    assert code(exc) == "LimitExceeded"


def test_unsupported_service_unknown_user_and_age_off_bedrock_are_refused(iam):
    with pytest.raises(ClientError) as exc:
        iam.create_service_specific_credential(UserName="ana", ServiceName="s3.amazonaws.com")
    assert code(exc) == "NotSupportedService"
    with pytest.raises(ClientError) as exc:
        iam.list_service_specific_credentials(UserName="nobody")
    assert code(exc) == "NoSuchEntity"
    with pytest.raises(ClientError) as exc:
        iam.create_service_specific_credential(
            UserName="ana", ServiceName=CODECOMMIT, CredentialAgeDays=5
        )
    assert code(exc) == "ValidationError"


def test_update_and_delete_change_what_is_listed(iam):
    made = iam.create_service_specific_credential(UserName="ana", ServiceName=KEYSPACES)
    credential_id = made["ServiceSpecificCredential"]["ServiceSpecificCredentialId"]
    iam.update_service_specific_credential(
        UserName="ana", ServiceSpecificCredentialId=credential_id, Status="Inactive"
    )
    (listed,) = iam.list_service_specific_credentials(UserName="ana")["ServiceSpecificCredentials"]
    assert listed["Status"] == "Inactive"
    iam.delete_service_specific_credential(
        UserName="ana", ServiceSpecificCredentialId=credential_id
    )
    assert iam.list_service_specific_credentials(UserName="ana")["ServiceSpecificCredentials"] == []
