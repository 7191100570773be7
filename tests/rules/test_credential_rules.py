"""SSH_PUBLIC_KEY_NOT_ROTATED, SERVICE_CREDENTIAL_NOT_ROTATED, SIGNING_CERTIFICATE_NOT_ROTATED and
BEDROCK_API_KEY_WITHOUT_EXPIRY: given listed credentials (and the credential report's
certificate slots), exactly the findings they should give, at the boundary second."""

from __future__ import annotations

from datetime import timedelta

from rules_given import ACCOUNT, AS_OF, days_ago

from keyaudit.config import RuleOverride

SSH, SERVICE, CERT = "ssh_public_key", "service_specific_credential", "signing_certificate"
BEDROCK, CODECOMMIT = "bedrock.amazonaws.com", "codecommit.amazonaws.com"

# --- SSH_PUBLIC_KEY_NOT_ROTATED ---------------------------------------------------------------


def test_ssh_key_exactly_at_the_limit_is_not_a_finding(given):
    given.credential("alice", SSH, "APKAALICE", created=days_ago(90))
    assert given.findings("SSH_PUBLIC_KEY_NOT_ROTATED") == []


def test_ssh_key_one_second_past_the_limit_is_a_finding_with_its_id(given):
    given.credential("alice", SSH, "APKAALICE", created=AS_OF - timedelta(days=90, seconds=1))
    assert given.findings("SSH_PUBLIC_KEY_NOT_ROTATED") == [
        (
            "SSH_PUBLIC_KEY_NOT_ROTATED",
            ACCOUNT,
            "alice",
            None,
            "APKAALICE",
            "SSH public key uploaded 90 days ago (2026-09-02); limit 90",
        )
    ]


def test_inactive_old_ssh_key_is_not_judged(given):
    given.credential("bob", SSH, "APKABOB", created=days_ago(400), active=False)
    assert given.findings("SSH_PUBLIC_KEY_NOT_ROTATED") == []


def test_ssh_key_limit_is_configurable(given):
    given.credential("carol", SSH, "APKACAROL", created=days_ago(40))
    overrides = {"SSH_PUBLIC_KEY_NOT_ROTATED": RuleOverride(max_ssh_key_age_days=30)}
    found = given.findings("SSH_PUBLIC_KEY_NOT_ROTATED", overrides=overrides)
    assert [f[5] for f in found] == ["SSH public key uploaded 40 days ago (2026-10-22); limit 30"]


# --- SERVICE_CREDENTIAL_NOT_ROTATED -----------------------------------------------------------


def test_service_credential_one_day_before_the_limit_is_not_a_finding(given):
    given.credential("dave", SERVICE, "ACCADAVE", created=days_ago(89), service=CODECOMMIT)
    assert given.findings("SERVICE_CREDENTIAL_NOT_ROTATED") == []


def test_service_credential_one_second_past_the_limit_names_its_service(given):
    created = AS_OF - timedelta(days=90, seconds=1)
    given.credential("dave", SERVICE, "ACCADAVE", created=created, service=CODECOMMIT)
    assert given.findings("SERVICE_CREDENTIAL_NOT_ROTATED") == [
        (
            "SERVICE_CREDENTIAL_NOT_ROTATED",
            ACCOUNT,
            "dave",
            None,
            "ACCADAVE",
            "codecommit.amazonaws.com credential created 90 days ago (2026-09-02); limit 90",
        )
    ]


def test_ssh_keys_and_certificates_are_not_service_credentials(given):
    given.credential("erin", SSH, "APKAERIN", created=days_ago(300))
    given.credential("erin", CERT, "CERTERIN", created=days_ago(300))
    assert given.findings("SERVICE_CREDENTIAL_NOT_ROTATED") == []


# --- SIGNING_CERTIFICATE_NOT_ROTATED ----------------------------------------------------------


def test_listed_certificate_at_the_limit_is_not_a_finding_and_one_second_past_is(given):
    given.credential("frank", CERT, "CERTFRANK1", created=days_ago(365))
    given.credential("frank", CERT, "CERTFRANK2", created=AS_OF - timedelta(days=365, seconds=1))
    assert [(f[2], f[4]) for f in given.findings("SIGNING_CERTIFICATE_NOT_ROTATED")] == [
        ("frank", "CERTFRANK2")
    ]


def test_certificate_from_the_report_slot_is_judged_when_the_listing_is_missing(given):
    """A folder of reports (no listing): the cert columns stand for the certificates, no id."""
    given.user("gina", cert2={"created": days_ago(500)})
    assert given.findings("SIGNING_CERTIFICATE_NOT_ROTATED") == [
        (
            "SIGNING_CERTIFICATE_NOT_ROTATED",
            ACCOUNT,
            "gina",
            2,
            None,
            "signing certificate uploaded 500 days ago (2025-07-19); limit 365",
        )
    ]


def test_the_listing_replaces_the_report_slots_so_no_certificate_counts_twice(given):
    given.user("hana", cert1={"created": days_ago(500)})
    given.credential("hana", CERT, "CERTHANA", created=days_ago(500))
    assert [(f[3], f[4]) for f in given.findings("SIGNING_CERTIFICATE_NOT_ROTATED")] == [
        (None, "CERTHANA")
    ]


def test_inactive_certificate_in_the_report_is_not_judged(given):
    given.user("ivan", cert1={"created": days_ago(900), "active": False})
    assert given.findings("SIGNING_CERTIFICATE_NOT_ROTATED") == []


# --- BEDROCK_API_KEY_WITHOUT_EXPIRY -----------------------------------------------------------


def test_bedrock_api_key_without_expiry_is_a_finding_whatever_its_age(given):
    given.credential("jules", SERVICE, "ACCAJULES", created=days_ago(2), service=BEDROCK)
    assert given.findings("BEDROCK_API_KEY_WITHOUT_EXPIRY") == [
        (
            "BEDROCK_API_KEY_WITHOUT_EXPIRY",
            ACCOUNT,
            "jules",
            None,
            "ACCAJULES",
            "Bedrock API key created 2026-11-29 with no expiry set; it stays valid until deleted",
        )
    ]


def test_bedrock_api_key_with_an_expiry_is_not_a_finding(given):
    given.credential(
        "kofi", SERVICE, "ACCAKOFI", created=days_ago(2), service=BEDROCK, expires=days_ago(-28)
    )
    assert given.findings("BEDROCK_API_KEY_WITHOUT_EXPIRY") == []


def test_codecommit_credential_without_expiry_is_not_a_bedrock_finding(given):
    given.credential("lena", SERVICE, "ACCALENA", created=days_ago(2), service=CODECOMMIT)
    given.credential(
        "lena", SERVICE, "ACCALENA2", created=days_ago(2), service=BEDROCK, active=False
    )
    assert given.findings("BEDROCK_API_KEY_WITHOUT_EXPIRY") == []
