"""One step from administrator: each path, and the same request where the path is not real (no
administrator to reach, a boundary or a Deny in the way)."""

from __future__ import annotations

from account_given import ARN, Given, allow, deny, doc, trusts

NEW_ROLE = ["iam:CreateRole", "iam:AttachRolePolicy", "sts:AssumeRole"]


def test_attach_user_policy_on_itself_is_escalation_with_the_path_named() -> None:
    found = Given().user("ci", doc(allow("iam:AttachUserPolicy", f"{ARN}:user/ci"))).judge()["ci"]
    assert found.privilege == "escalation"
    assert found.reason.startswith(
        "can attach any policy to itself: iam:AttachUserPolicy on arn:aws:iam::111122223333:user/ci"
    )


def test_attach_user_policy_on_someone_else_only_is_not_a_path() -> None:
    assert (
        Given()
        .user("ci", doc(allow("iam:AttachUserPolicy", f"{ARN}:user/other")))
        .privilege_of("ci")
        == "other"
    )


def test_put_user_policy_on_itself_through_a_policy_variable() -> None:
    given = Given().user(
        "ci", doc(allow("iam:PutUserPolicy", "arn:aws:iam::*:user/${aws:username}"))
    )
    assert given.privilege_of("ci") == "escalation"


def test_iam_star_on_its_own_arn_is_escalation() -> None:
    assert (
        Given().user("ci", doc(allow("iam:*", f"{ARN}:user/ci"))).privilege_of("ci") == "escalation"
    )


def test_self_attach_under_a_boundary_is_no_path() -> None:
    given = Given().user(
        "ci", doc(allow("iam:AttachUserPolicy", f"{ARN}:user/ci")), boundary="AdministratorAccess"
    )
    given.users[0]["PermissionsBoundary"]["PermissionsBoundaryArn"] = f"{ARN}:policy/attach-only"
    given.policy("attach-only", doc(allow("iam:AttachUserPolicy", f"{ARN}:user/ci")))
    assert given.privilege_of("ci") == "other"  # attaching more does not lift the boundary


def test_removing_its_own_boundary_is_a_path() -> None:
    given = Given().policy(
        "cap", doc(allow(["iam:DeleteUserPermissionsBoundary", "s3:GetObject"], "*"))
    )
    given.user("ci", managed_=("AdministratorAccess",))
    given.users[0]["PermissionsBoundary"] = {"PermissionsBoundaryArn": f"{ARN}:policy/cap"}
    found = given.judge()["ci"]
    assert found.privilege == "escalation"
    assert "remove its own permissions boundary" in found.reason


def test_detaching_the_policy_that_denies_it_is_a_path() -> None:
    given = Given().policy("no-iam-writes", doc(deny(["iam:Create*", "iam:Put*"])))
    given.user("ci", managed_=("AdministratorAccess", "no-iam-writes"))
    found = given.judge()["ci"]
    assert found.privilege == "escalation"
    assert "iam:DetachUserPolicy" in found.reason


def test_attach_group_policy_on_its_own_group() -> None:
    given = (
        Given()
        .group("devs")
        .user("ci", doc(allow("iam:PutGroupPolicy", f"{ARN}:group/devs")), groups=("devs",))
    )
    assert "its own group devs" in given.reason_of("ci")


def test_create_policy_version_on_a_policy_it_holds() -> None:
    given = Given().policy("deploy", doc(allow("iam:CreatePolicyVersion", f"{ARN}:policy/deploy")))
    given.user("ci", managed_=("deploy",))
    found = given.judge()["ci"]
    assert found.privilege == "escalation"
    assert "iam:CreatePolicyVersion on arn:aws:iam::111122223333:policy/deploy" in found.reason


def test_set_default_policy_version_to_an_admin_version() -> None:
    given = Given().policy(
        "deploy", doc(allow("iam:SetDefaultPolicyVersion", f"{ARN}:policy/deploy")), doc(allow("*"))
    )
    given.user("ci", managed_=("deploy",))
    assert "version v2" in given.reason_of("ci")


def test_set_default_policy_version_without_an_admin_version_is_no_path() -> None:
    given = Given().policy(
        "deploy",
        doc(allow("iam:SetDefaultPolicyVersion", f"{ARN}:policy/deploy")),
        doc(allow("s3:*")),
    )
    given.user("ci", managed_=("deploy",))
    assert given.privilege_of("ci") == "other"


def test_add_user_to_group_with_an_admin_group_in_the_account() -> None:
    given = Given().group("admins", managed_=("AdministratorAccess",))
    given.user("ci", doc(allow("iam:AddUserToGroup")))
    assert "administrators' group admins" in given.reason_of("ci")


def test_add_user_to_group_without_an_admin_group_is_no_path() -> None:
    given = Given().group("readers", managed_=("ReadOnlyAccess",))
    given.user("ci", doc(allow("iam:AddUserToGroup")))
    assert given.privilege_of("ci") == "other"


def test_create_access_key_with_an_admin_user_in_the_account() -> None:
    given = (
        Given()
        .user("boss", managed_=("AdministratorAccess",))
        .user("ci", doc(allow("iam:CreateAccessKey")))
    )
    found = given.judge()["ci"]
    assert found.privilege == "escalation"
    assert "can create an access key for administrator boss" in found.reason


def test_create_access_key_without_an_admin_user_is_no_path() -> None:
    given = (
        Given()
        .user("reader", managed_=("ReadOnlyAccess",))
        .user("ci", doc(allow("iam:CreateAccessKey")))
    )
    assert given.privilege_of("ci") == "other"


def test_create_access_key_for_an_admin_who_has_two_keys_is_no_path() -> None:
    given = (
        Given()
        .user("boss", managed_=("AdministratorAccess",))
        .user("ci", doc(allow("iam:CreateAccessKey")))
    )
    given.key_counts = {"boss": 2}
    assert given.privilege_of("ci") == "other"


def test_create_login_profile_only_for_an_admin_without_password() -> None:
    given = (
        Given()
        .user("boss", managed_=("AdministratorAccess",))
        .user("ci", doc(allow("iam:CreateLoginProfile")))
    )
    given.passwords = {"boss": True, "ci": False}
    assert given.privilege_of("ci") == "other"  # boss has a password: CreateLoginProfile fails
    given.passwords = {"boss": False, "ci": False}
    assert "can set a console password for administrator boss" in given.reason_of("ci")


def test_update_login_profile_for_an_admin_with_password() -> None:
    given = (
        Given()
        .user("boss", managed_=("AdministratorAccess",))
        .user("ci", doc(allow("iam:UpdateLoginProfile")))
    )
    given.passwords = {"boss": True}
    assert "can reset the console password of administrator boss" in given.reason_of("ci")


def test_pass_an_admin_role_to_ec2() -> None:
    given = Given().role(
        "ec2-admin",
        trusts(Service="ec2.amazonaws.com"),
        managed_=("AdministratorAccess",),
        profiles=1,
    )
    given.user("ci", doc(allow("iam:PassRole", f"{ARN}:role/ec2-admin"), allow("ec2:RunInstances")))
    found = given.judge()["ci"]
    assert found.privilege == "escalation"
    assert "pass the administrator role ec2-admin to ec2.amazonaws.com" in found.reason


def test_pass_role_without_an_admin_role_is_no_path() -> None:
    given = Given().role(
        "ec2-reader", trusts(Service="ec2.amazonaws.com"), managed_=("ReadOnlyAccess",), profiles=1
    )
    given.user("ci", doc(allow("iam:PassRole"), allow("ec2:RunInstances")))
    assert given.privilege_of("ci") == "other"


def test_pass_role_without_run_instances_is_no_path() -> None:
    given = Given().role(
        "ec2-admin",
        trusts(Service="ec2.amazonaws.com"),
        managed_=("AdministratorAccess",),
        profiles=1,
    )
    given.user("ci", doc(allow("iam:PassRole")))
    assert given.privilege_of("ci") == "other"


def test_pass_role_to_lambda_needs_create_and_invoke() -> None:
    given = Given().role(
        "fn-admin", trusts(Service="lambda.amazonaws.com"), managed_=("AdministratorAccess",)
    )
    given.user(
        "ci", doc(allow("iam:PassRole"), allow(["lambda:CreateFunction", "lambda:InvokeFunction"]))
    )
    assert "lambda.amazonaws.com" in given.reason_of("ci")


def test_update_assume_role_policy_of_an_admin_role() -> None:
    given = Given().role(
        "ops", trusts(AWS="arn:aws:iam::999999999999:root"), managed_=("AdministratorAccess",)
    )
    given.user(
        "ci", doc(allow(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"], f"{ARN}:role/ops"))
    )
    assert "can make the administrator role ops trust it" in given.reason_of("ci")


def test_assume_an_admin_role_that_trusts_the_account() -> None:
    given = Given().role("ops", trusts(AWS=f"{ARN}:root"), managed_=("AdministratorAccess",))
    given.user("ci", doc(allow("sts:AssumeRole", f"{ARN}:role/ops")))
    given.user("other", managed_=("ReadOnlyAccess",))
    judged = given.judge()
    assert judged["ci"].privilege == "escalation"
    assert (
        judged["other"].privilege == "other"
    )  # the account is trusted, but its policies do not allow


def test_assume_an_admin_role_that_names_the_user_needs_no_identity_grant() -> None:
    given = Given().role("ops", trusts(AWS=f"{ARN}:user/ci"), managed_=("AdministratorAccess",))
    given.user("ci", managed_=("ReadOnlyAccess",))
    assert "can assume the administrator role ops" in given.reason_of("ci")


def test_write_policy_of_a_role_it_can_assume() -> None:
    given = Given().role("app", trusts(AWS=f"{ARN}:root"), managed_=("ReadOnlyAccess",))
    given.user("ci", doc(allow(["iam:AttachRolePolicy", "sts:AssumeRole"], f"{ARN}:role/app")))
    assert "can give the role app, which it can assume, any policy" in given.reason_of("ci")


def test_create_a_role_give_it_a_policy_and_assume_it() -> None:
    given = Given().user("ci", doc(allow(NEW_ROLE)))
    assert "can create a role that trusts it" in given.reason_of("ci")


def test_administrator_access_amplify_like_role_writes_are_escalation() -> None:
    amplify = doc(
        allow(
            [
                "iam:CreateRole",
                "iam:AttachRolePolicy",
                "iam:PutRolePolicy",
                "iam:PassRole",
                "sts:AssumeRole",
            ]
        ),
        allow("cloudformation:*", "arn:aws:cloudformation:*:*:stack/amplify-*"),
    )
    assert Given().user("amplify", amplify).privilege_of("amplify") == "escalation"


def test_quarantine_blocks_the_escalation_it_denies() -> None:
    given = Given().user("boss", managed_=("AdministratorAccess",))
    given.user("ci", doc(allow("iam:CreateAccessKey")), managed_=("AWSCompromisedKeyQuarantineV2",))
    assert given.privilege_of("ci") == "other"


def test_conditional_step_says_conditional() -> None:
    step = allow(
        "iam:AttachUserPolicy",
        f"{ARN}:user/ci",
        Condition={"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}},
    )
    found = Given().user("ci", doc(step)).judge()["ci"]
    assert (found.privilege, found.is_conditional) == ("escalation", True)
    assert "conditional" in found.reason


def test_an_scp_denying_iam_closes_every_iam_path() -> None:
    given = (
        Given()
        .user("boss", managed_=("AdministratorAccess",))
        .user("ci", doc(allow("iam:CreateAccessKey")))
    )
    given.scps = [
        (
            "r-root",
            [
                ("SCP FullAWSAccess attached to r-root", doc(allow("*"))),
                ("SCP DenyIAM attached to r-root", doc(deny("iam:*"))),
            ],
        )
    ]
    judged = given.judge()
    assert judged["boss"].privilege == "other"
    assert judged["ci"].privilege == "other"


def test_a_path_to_a_conditional_administrator_is_conditional_and_a_plain_one_is_preferred() -> (
    None
):
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    given = Given().user("aa-mfa-admin", doc(allow("*", Condition=mfa)))
    given.user("ci", doc(allow("iam:CreateAccessKey")))
    found = given.judge()["ci"]
    assert (found.privilege, found.is_conditional) == ("escalation", True)
    given.user("zz-admin", managed_=("AdministratorAccess",))
    found = given.judge()["ci"]
    assert (found.is_conditional, "administrator zz-admin" in found.reason) == (False, True)
