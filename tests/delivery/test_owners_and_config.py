"""Owner resolution (tag, then OU map, then the compliance list) and the [delivery] settings."""

from __future__ import annotations

import pytest

from keyaudit.config import ConfigError, load_config
from keyaudit.delivery.owners import Owner, assign_owners
from keyaudit.report.digest import AccountLine

NONE = dict.fromkeys(("critical", "high", "medium", "low"), 0)


def account(
    account_id: str, ou: str = "Root", status: str = "assessed", **tags: str
) -> AccountLine:
    return AccountLine(account_id, f"acct-{account_id[-2:]}", ou, status, tags, 0, NONE)


def assign(*accounts: AccountLine, ou_owners: dict[str, str] | None = None):
    return assign_owners(
        accounts, tag="owner-email", ou_owners=ou_owners or {}, compliance=["grc@example.com"]
    )


def test_owner_tag_wins_and_accounts_of_one_owner_share_one_report():
    owners, notes = assign(
        account("111111111111", **{"owner-email": "pay@example.com"}),
        account("222222222222", "Root/Prod", **{"Owner-Email": "pay@example.com"}),
        ou_owners={"Root/Prod": "prod@example.com"},
    )
    assert owners == [Owner(("pay@example.com",), ("111111111111", "222222222222"), "owner")]
    assert notes == []


def test_without_a_tag_the_deepest_matching_ou_owns_the_account():
    owners, _ = assign(
        account("111111111111", "Root/Workloads/Prod/Payments"),
        account("222222222222", "Root/Workloads/Dev"),
        ou_owners={
            "Root/Workloads": "workloads@example.com",
            "Root/Workloads/Prod": "prod@example.com",
        },
    )
    assert owners == [
        Owner(("prod@example.com",), ("111111111111",), "owner"),
        Owner(("workloads@example.com",), ("222222222222",), "owner"),
    ]


def test_an_ou_map_entry_does_not_match_a_sibling_with_the_same_prefix():
    owners, _ = assign(
        account("111111111111", "Root/Production"), ou_owners={"Root/Prod": "prod@example.com"}
    )
    assert owners == [Owner(("grc@example.com",), ("111111111111",), "compliance")]


def test_a_tag_that_is_not_an_address_falls_through_and_is_noted():
    owners, notes = assign(account("111111111111", **{"owner-email": "platform team"}))
    assert owners == [Owner(("grc@example.com",), ("111111111111",), "compliance")]
    assert notes == [
        "account 111111111111: tag owner-email = 'platform team' is not an e-mail address"
    ]


def test_skipped_accounts_get_no_report_but_unassessed_ones_do():
    owners, _ = assign(
        account("111111111111", status="skipped", **{"owner-email": "a@example.com"}),
        account("222222222222", status="not_assessed", **{"owner-email": "b@example.com"}),
    )
    assert owners == [Owner(("b@example.com",), ("222222222222",), "owner")]


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

    from keyaudit.delivery.config import DeliveryConfig, EmailDelivery, S3Delivery

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
    from keyaudit.delivery.config import check_address

    assert check_address("grc@example.com") == "grc@example.com"
    assert check_address("grc@bücher.example") == "grc@xn--bcher-kva.example"
