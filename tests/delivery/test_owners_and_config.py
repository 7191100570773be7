"""Grouping findings by owner for delivery (who owns what is the warehouse's business: see
test_key_owners.py), and the [delivery] settings."""

from __future__ import annotations

import pytest

from keyaudit.config import ConfigError, load_config
from keyaudit.delivery.owners import Owner, assign_owners

A, B, C = "111111111111", "222222222222", "333333333333"


def account(account_id: str, owner: str | None, status: str = "assessed") -> dict:
    return {"account_id": account_id, "status": status, "owner": owner}


def finding(finding_id: str, account_id: str, owner: str | None) -> dict:
    return {"finding_id": finding_id, "account_id": account_id, "owner": owner}


def assign(accounts: list[dict], findings: list[dict]) -> list[Owner]:
    return assign_owners(accounts, findings, compliance=["grc@example.com"])


def test_a_key_owner_gets_their_keys_across_accounts_and_the_account_owner_the_rest():
    owners = assign(
        [account(A, "pay@example.com"), account(B, "pay@example.com"), account(C, None)],
        [
            finding("a-key", A, "dev@example.com"),  # a key whose user tag names dev
            finding("a-rest", A, "pay@example.com"),
            finding("c-key", C, "dev@example.com"),
            finding("c-rest", C, None),
        ],
    )
    assert owners == [
        Owner(
            ("dev@example.com",),
            (),
            "owner",
            key_account_ids=(A, C),
            finding_ids=frozenset({"a-key", "c-key"}),
        ),
        Owner(("pay@example.com",), (A, B), "owner", finding_ids=frozenset({"a-rest"})),
        Owner(("grc@example.com",), (C,), "compliance", finding_ids=frozenset({"c-rest"})),
    ]
    assert owners[0].all_account_ids == (A, C)


def test_an_account_owner_who_also_owns_keys_elsewhere_gets_one_delivery():
    (owner,) = assign(
        [account(A, "pay@example.com"), account(B, "pay@example.com")],
        [finding("a", A, "pay@example.com"), finding("b", B, "pay@example.com")],
    )
    assert owner == Owner(("pay@example.com",), (A, B), "owner", finding_ids=frozenset({"a", "b"}))


def test_skipped_accounts_get_no_report_but_unassessed_ones_do():
    owners = assign(
        [account(A, "a@example.com", "skipped"), account(B, "b@example.com", "not_assessed")],
        [finding("na", B, "b@example.com")],
    )
    assert owners == [Owner(("b@example.com",), (B,), "owner", finding_ids=frozenset({"na"}))]


def test_owner_folder_names_are_safe_slugs():
    assert Owner(("Pay.Team+x@Example.com",), (), "owner").slug == "pay.team+x_at_example.com"
    assert Owner(("grc@example.com",), (), "compliance").slug == "unowned-accounts"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"KEYAUDIT_DELIVERY__EMAIL__SMTP_HOST": "smtp.example.com"},
            "KEYAUDIT_* environment: delivery.email.sender = '' is invalid: Value error, is "
            "needed when delivery.email.smtp_host is set",
        ),
        (
            {
                "KEYAUDIT_DELIVERY__EMAIL__SMTP_HOST": "smtp.example.com",
                "KEYAUDIT_DELIVERY__EMAIL__SENDER": "keyaudit@example.com",
            },
            "KEYAUDIT_* environment: delivery.email.compliance = [] is invalid: Value error, "
            "must name at least one address when delivery.email.smtp_host is set",
        ),
        (
            {"KEYAUDIT_DELIVERY__EMAIL__PASSWORD_ENV": "KEYAUDIT_SMTP_PASSWORD"},
            "KEYAUDIT_* environment: delivery.email.password_env = 'KEYAUDIT_SMTP_PASSWORD' is "
            "invalid: Value error, must not start with KEYAUDIT_ (those variables are configuration)",
        ),
        (
            {"KEYAUDIT_DELIVERY__EMAIL__COMPLIANCE": "grc@example.com,bad address"},
            "KEYAUDIT_* environment: delivery.email.compliance = 'grc@example.com,bad address' "
            "is invalid: Value error, 'bad address' is not an e-mail address like team@example.com "
            "(An email address must have an @-sign)",
        ),
        (
            {"KEYAUDIT_DELIVERY__S3__KMS_KEY_ID": "alias/audit"},
            "KEYAUDIT_* environment: delivery.s3.kms_key_id = 'alias/audit' is invalid: Value "
            'error, a KMS key needs sse = "aws:kms"',
        ),
        (
            {"KEYAUDIT_RUN__TASK_RUNNER": "processes"},
            "KEYAUDIT_* environment: run.task_runner = 'processes' is not allowed; use one of "
            "'threads' or 'dask'",
        ),
        (
            {"KEYAUDIT_RUN__MIN_COVERAGE": "95"},
            "KEYAUDIT_* environment: run.min_coverage = '95' is invalid: Input should be less "
            "than or equal to 1",
        ),
    ],
)
def test_wrong_delivery_and_run_settings_are_refused_with_one_line(environ, message):
    with pytest.raises(ConfigError) as caught:
        load_config(environ=environ)
    assert str(caught.value) == message


def test_compliance_list_can_come_from_one_environment_variable():
    config = load_config(
        environ={
            "KEYAUDIT_DELIVERY__EMAIL__SMTP_HOST": "smtp.example.com",
            "KEYAUDIT_DELIVERY__EMAIL__SENDER": "keyaudit@example.com",
            "KEYAUDIT_DELIVERY__EMAIL__COMPLIANCE": "grc@example.com, audit@example.com",
        }
    )
    assert config.delivery.email.compliance == ["grc@example.com", "audit@example.com"]
    assert config.delivery.email.port == 587


def test_example_file_documents_every_delivery_and_run_key():
    from pathlib import Path

    from keyaudit.config.delivery import DeliveryConfig, EmailDelivery, S3Delivery

    text = (Path(__file__).parents[2] / "keyaudit.example.toml").read_text()
    for section, model in (
        ("[delivery]", DeliveryConfig),
        ("[delivery.s3]", S3Delivery),
        ("[delivery.email]", EmailDelivery),
    ):
        assert section in text
        for key in model.model_fields:
            if key not in ("s3", "email"):
                assert f"{key} =" in text or f".{key}]" in text, key
    for key in ("task_runner", "dask_address", "min_coverage"):
        assert f"{key} =" in text


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        (
            "SENDER",
            "keyaudit@localhost",
            "The part after the @-sign is not valid. It should have a period",
        ),
        ("SENDER", "a..b@example.com", "An email address cannot have two periods in a row"),
        (
            "COMPLIANCE",
            "Audit <grc@example.com>",
            "A display name and angle brackets around the email address are not permitted here",
        ),
        (
            "COMPLIANCE",
            "grc@-example.com",
            "An email address cannot have a hyphen immediately after the @-sign",
        ),
    ],
)
def test_addresses_are_checked_by_email_validator_in_one_line_naming_key_and_value(
    key, value, reason
):
    environ = {
        "KEYAUDIT_DELIVERY__EMAIL__SMTP_HOST": "smtp.example.com",
        "KEYAUDIT_DELIVERY__EMAIL__SENDER": "keyaudit@example.com",
        "KEYAUDIT_DELIVERY__EMAIL__COMPLIANCE": "grc@example.com",
        f"KEYAUDIT_DELIVERY__EMAIL__{key}": value,
    }
    with pytest.raises(ConfigError) as caught:
        load_config(environ=environ)
    message = str(caught.value)
    assert message == (
        f"KEYAUDIT_* environment: delivery.email.{key.lower()} = {value!r} is invalid: Value "
        f"error, {value!r} is not an e-mail address like team@example.com ({reason})"
    )
    assert "\n" not in message


def test_an_international_domain_is_kept_in_its_ascii_form():
    from keyaudit.config.delivery import check_address

    assert check_address("grc@example.com") == "grc@example.com"
    assert check_address("grc@bücher.example") == "grc@xn--bcher-kva.example"
