"""Reading a run's service control policies (keyaudit.evidence.scps): for an account, the levels
from the root down to the account with the SCPs attached at each; nothing applies to the
management account or when SCPs are not enabled; unknown (None, with the reason) when they were
not read — never an assumed deny."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keyaudit.evidence.scps import SCP_FILE, read_scps, scp_gap, scp_levels

MANAGEMENT = "999999999999"
MEMBER = "111122223333"
ROOT, WORKLOADS, PROD = "r-ab12", "ou-ab12-11111111", "ou-ab12-22222222"
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
DENY_IAM = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}],
}


def policy(name: str, document: dict[str, Any] | None, parse_error: str | None = None) -> dict:
    return {
        "name": name,
        "arn": f"arn:aws:organizations::{MANAGEMENT}:policy/o-x/service_control_policy/{name}",
        "aws_managed": name == "FullAWSAccess",
        "document": document,
        "parse_error": parse_error,
    }


def collected(**changes: Any) -> dict[str, Any]:
    scps: dict[str, Any] = {
        "status": "collected",
        "error": None,
        "enabled": True,
        "management_account_id": MANAGEMENT,
        "policies": {
            "p-FullAWSAccess": policy("FullAWSAccess", ALLOW_ALL),
            "p-denyiam1": policy("DenyIAM", DENY_IAM),
        },
        "attachments": {
            ROOT: ["p-FullAWSAccess"],
            WORKLOADS: ["p-FullAWSAccess", "p-denyiam1"],
            PROD: ["p-FullAWSAccess"],
            MEMBER: ["p-FullAWSAccess"],
            MANAGEMENT: ["p-FullAWSAccess"],
        },
        "chains": {
            MEMBER: [ROOT, WORKLOADS, PROD, MEMBER],
            MANAGEMENT: [ROOT, MANAGEMENT],
        },
    }
    scps.update(changes)
    return scps


def full_access(target: str) -> tuple[str, dict[str, Any]]:
    return (f"SCP FullAWSAccess (p-FullAWSAccess) attached to {target}", ALLOW_ALL)


def test_levels_run_from_the_root_through_each_ou_to_the_account_with_their_scps():
    assert scp_levels(collected(), MEMBER) == [
        (ROOT, [full_access(ROOT)]),
        (
            WORKLOADS,
            [
                full_access(WORKLOADS),
                (f"SCP DenyIAM (p-denyiam1) attached to {WORKLOADS}", DENY_IAM),
            ],
        ),
        (PROD, [full_access(PROD)]),
        (MEMBER, [full_access(MEMBER)]),
    ]
    assert scp_gap(collected(), MEMBER) is None


def test_the_management_account_is_not_subject_to_scps():
    assert scp_levels(collected(), MANAGEMENT) == []
    failed = collected(status="failed", error="organizations:ListRoots denied", enabled=None)
    assert scp_levels(failed, MANAGEMENT) == []  # a fact of AWS, not of what was read


def test_scps_not_enabled_mean_no_scp_applies():
    assert scp_levels(collected(enabled=False, policies={}, attachments={}), MEMBER) == []


def test_a_level_without_an_attached_scp_allows_nothing_and_stays_a_level():
    attachments = {**collected()["attachments"], PROD: []}
    levels = scp_levels(collected(attachments=attachments), MEMBER)
    assert levels is not None
    assert levels[2] == (PROD, [])


def test_a_document_that_did_not_parse_is_labelled_with_no_document():
    policies = {
        **collected()["policies"],
        "p-broken12": policy("Broken", None, "Content is not JSON: Expecting value"),
    }
    attachments = {**collected()["attachments"], MEMBER: ["p-FullAWSAccess", "p-broken12"]}
    levels = scp_levels(collected(policies=policies, attachments=attachments), MEMBER)
    assert levels is not None
    assert levels[-1] == (
        MEMBER,
        [full_access(MEMBER), (f"SCP Broken (p-broken12) attached to {MEMBER}", None)],
    )


@pytest.mark.parametrize(
    ("scps", "gap"),
    [
        (None, f"the run has no {SCP_FILE} (not collected)"),
        (
            collected(status="failed", error="organizations:ListPolicies denied — grant …"),
            "organizations:ListPolicies denied — grant …",
        ),
        (collected(status="off", enabled=None), "[collection] scps = false"),
        (
            collected(status="not applicable", enabled=None, management_account_id=None),
            "the run did not discover an organization (discovery scope is not organization)",
        ),
        (collected(chains={}), f"no OU chain recorded for account {MEMBER}"),
    ],
    ids=["no file", "failed", "off", "not applicable", "no chain"],
)
def test_scps_that_were_not_read_are_unknown_never_a_deny(scps, gap):
    assert scp_levels(scps, MEMBER) is None
    assert scp_gap(scps, MEMBER) == gap


def test_read_scps_reads_the_run_file_and_none_without_one(tmp_path: Path):
    assert read_scps(tmp_path) is None
    (tmp_path / SCP_FILE).write_text(json.dumps(collected()), encoding="utf-8")
    assert read_scps(tmp_path) == collected()


def test_a_file_that_cannot_be_read_is_a_failed_collection_naming_the_file(tmp_path: Path):
    (tmp_path / SCP_FILE).write_text('{"status": "coll', encoding="utf-8")
    found = read_scps(tmp_path)
    assert found is not None
    assert found["status"] == "failed"
    assert found["error"].startswith(f"{SCP_FILE} cannot be read (JSONDecodeError: ")
    assert scp_levels(found, MEMBER) is None
