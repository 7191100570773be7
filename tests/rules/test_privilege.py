"""Privilege by attached policy (int_user_privilege → users and keys marts), the rule
ACCESS_KEY_ON_PRIVILEGED_USER, its coverage, and the Fix first ranking: given rows of
iam_user_policies, iam_user_privilege_inputs and accounts.privilege_status → expected rows."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from rules_given import ACCOUNT, AS_OF, Given, days_ago

from keyaudit.privilege.account import evaluate_account
from keyaudit.rules.catalogue import load_catalogue
from keyaudit.warehouse.db import insert_frame
from keyaudit.warehouse.run_rules import record_run_rules

RULE = "ACCESS_KEY_ON_PRIVILEGED_USER"
OTHER_ACCOUNT = "444455556666"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
READ_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "iam:Get*"], "Resource": "*"}]}  # fmt: skip


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    """A policy document with one Allow statement (an object, not a list)."""
    return {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": action, "Resource": resource, **extra}}  # fmt: skip


class Privileged(Given):
    """Given rows plus the privilege tables the collection fills."""

    def policy(
        self,
        user: str,
        name: str,
        document: dict[str, Any] | None,
        *,
        arn: str | None = None,
        group: str | None = None,
        account_id: str = ACCOUNT,
    ) -> Privileged:
        self.policies.append(
            {
                "run_id": self.run_id,
                "account_id": account_id,
                "user_name": user,
                "via": "group" if group else "user",
                "group_name": group,
                "policy_type": "managed" if arn else "inline",
                "policy_name": name,
                "policy_arn": arn,
                "document": None if document is None else json.dumps(document),
            }
        )
        return self

    def listed(
        self, *users: str, account_id: str = ACCOUNT, boundary: str | None = None
    ) -> Privileged:
        for user in users:
            self.inputs.append(
                {"run_id": self.run_id, "account_id": account_id, "user_name": user,
                 "permissions_boundary_arn": boundary}
            )  # fmt: skip
        return self

    def _evaluated(self) -> list[dict[str, Any]]:
        """What the load stores: each listed user judged by keyaudit.privilege, from the given
        policies rebuilt as GetAccountAuthorizationDetails pages (documents None: not fetched)."""
        rows: list[dict[str, Any]] = []
        for account_id in sorted({i["account_id"] for i in self.inputs}):
            users, groups, customer, fetched = {}, {}, {}, {}
            for i in (i for i in self.inputs if i["account_id"] == account_id):
                users[i["user_name"]] = {
                    "UserName": i["user_name"], "Arn": f"arn:aws:iam::{account_id}:user/{i['user_name']}",
                    "GroupList": [], "UserPolicyList": [], "AttachedManagedPolicies": [],
                    **({"PermissionsBoundary": {"PermissionsBoundaryArn": i["permissions_boundary_arn"]}} if i["permissions_boundary_arn"] else {}),
                }  # fmt: skip
            for p in (p for p in self.policies if p["account_id"] == account_id):
                document = None if p["document"] is None else json.loads(p["document"])
                holder = users.setdefault(
                    p["user_name"],
                    {
                        "UserName": p["user_name"],
                        "GroupList": [],
                        "UserPolicyList": [],
                        "AttachedManagedPolicies": [],
                    },
                )
                if p["via"] == "group":
                    if p["group_name"] not in holder["GroupList"]:
                        holder["GroupList"].append(p["group_name"])
                    holder = groups.setdefault(
                        p["group_name"],
                        {
                            "GroupName": p["group_name"],
                            "GroupPolicyList": [],
                            "AttachedManagedPolicies": [],
                        },
                    )
                inline = "GroupPolicyList" if p["via"] == "group" else "UserPolicyList"
                if p["policy_type"] == "inline":
                    holder[inline].append(
                        {"PolicyName": p["policy_name"], "PolicyDocument": document}
                    )
                    continue
                holder["AttachedManagedPolicies"].append(
                    {"PolicyName": p["policy_name"], "PolicyArn": p["policy_arn"]}
                )
                if document is None:
                    continue
                if ":iam::aws:" in p["policy_arn"]:
                    fetched[p["policy_arn"]] = {
                        "Policy": {"Arn": p["policy_arn"], "PolicyName": p["policy_name"]},
                        "PolicyVersion": {"VersionId": "v1", "Document": document},
                    }
                else:
                    customer[p["policy_arn"]] = {
                        "PolicyName": p["policy_name"],
                        "Arn": p["policy_arn"],
                        "PolicyVersionList": [
                            {"VersionId": "v1", "IsDefaultVersion": True, "Document": document}
                        ],
                    }
            listed = {i["user_name"] for i in self.inputs if i["account_id"] == account_id}
            pages = [
                {
                    "UserDetailList": [u for n, u in users.items() if n in listed],
                    "GroupDetailList": list(groups.values()),
                    "RoleDetailList": [],
                    "Policies": list(customer.values()),
                }
            ]
            for judged in evaluate_account(account_id, pages, list(fetched.values()), []):
                rows.append({"run_id": self.run_id, "account_id": account_id, "user_name": judged.user_name, "privilege": judged.privilege, "privilege_reason": judged.reason, "is_conditional": judged.is_conditional, "quarantine_policy": judged.quarantine_policy})  # fmt: skip
        return rows

    def _insert(self) -> None:
        insert_frame(self.con, "iam_user_policies", pd.DataFrame(self.policies))
        insert_frame(self.con, "iam_user_privilege", pd.DataFrame(self._evaluated()))
        insert_frame(self.con, "iam_user_privilege_inputs", pd.DataFrame(self.inputs))
        self.con.execute(
            """insert into runs (run_id, started_at, finished_at, as_of, source, scope,
                config_digest, config_json, parameters_json, tool_version, status,
                accounts_in_scope, accounts_assessed, accounts_not_assessed, accounts_skipped)
               values (?, ?, ?, ?, 'demo', 'organization', 'd', '{}', '{}', 'test', 'finished',
                       1, 1, 0, 0)""",
            [self.run_id, AS_OF, AS_OF, AS_OF],
        )
        super()._insert()

    def privilege(self, table: str = "users") -> dict[str, tuple[Any, ...]]:
        self.findings(RULE)  # loads the rows and builds the marts, as loading a run does
        key = "user_name" if table == "users" else "coalesce(access_key_id, user_name)"
        return {
            row[0]: tuple(row[1:])
            for row in self.con.execute(
                f"select {key}, privilege, privilege_reason from {table} where not is_root"
            ).fetchall()
        }


@pytest.fixture
def given(warehouse: Any) -> Privileged:
    built = Privileged(warehouse)
    built.policies, built.inputs = [], []  # type: ignore[attr-defined]
    return built


def collected(given: Privileged, account_id: str = ACCOUNT) -> Privileged:
    return given.account(account_id, privilege_status="collected")


KEY = {"created": days_ago(200), "last_used": days_ago(3), "id": "AKIAADMIN1"}

# --- classification: each way to be admin --------------------------------------------------


def test_administrator_access_attached_directly_is_admin(given):
    collected(given).user("alice", key1=KEY).listed("alice")
    given.policy("alice", "AdministratorAccess", allow("*"), arn=ADMIN_ARN)
    assert given.privilege()["alice"] == (
        "admin", "managed policy AdministratorAccess attached to the user, statement 1: allows * on *",
    )  # fmt: skip


def test_administrator_access_through_a_group_is_admin(given):
    collected(given).user("bob", key1=KEY).listed("bob")
    given.policy("bob", "AdministratorAccess", allow("*"), arn=ADMIN_ARN, group="admins")
    assert given.privilege()["bob"] == (
        "admin", "managed policy AdministratorAccess attached to group admins, statement 1: allows * on *",
    )  # fmt: skip


def test_administrator_access_counts_even_when_its_document_was_not_fetched(given):
    collected(given).user("bob", key1=KEY).listed("bob")
    given.policy("bob", "AdministratorAccess", None, arn=ADMIN_ARN)
    assert given.privilege()["bob"][0] == "admin"


def test_inline_policy_allowing_star_on_star_is_admin(given):
    collected(given).user("carol", key1=KEY).listed("carol")
    given.policy("carol", "allow-everything", allow("*"))
    assert given.privilege()["carol"] == (
        "admin",
        "inline policy allow-everything of the user, statement 1: allows * on *",
    )


def test_customer_policy_allowing_iam_star_in_a_list_statement_is_admin(given):
    collected(given).user("dan", key1=KEY).listed("dan")
    document = {"Statement": [allow("s3:GetObject")["Statement"], allow(["sts:GetCallerIdentity", "IAM:*"], ["*"])["Statement"]]}  # fmt: skip
    given.policy("dan", "iam-full-access", document, arn="arn:aws:iam::111122223333:policy/iam-full-access")  # fmt: skip
    assert given.privilege()["dan"] == (
        "admin",
        "managed policy iam-full-access attached to the user, statement 2: allows sts:getcalleridentity, iam:* on *",
    )


@pytest.mark.parametrize("action", ["iam*", "i*", "*:*", "iam:**"])
def test_wildcards_that_cover_every_iam_action_are_admin(given, action):
    collected(given).user("erin", key1=KEY).listed("erin")
    given.policy("erin", "wild", allow(action))
    assert given.privilege()["erin"][0] == "admin"


def test_allow_not_action_that_spares_iam_is_admin(given):
    collected(given).user("fay", key1=KEY).listed("fay")
    given.policy("fay", "all-but-s3", {"Statement": {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}})  # fmt: skip
    assert given.privilege()["fay"] == ("admin", "inline policy all-but-s3 of the user, statement 1: allows every action but s3:* on *")  # fmt: skip


@pytest.mark.parametrize(
    "document",
    [
        allow("iam:Create*"),  # some IAM actions only
        {"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}},
        {
            "Statement": {
                "Effect": "Allow",
                "NotAction": ["iam:*", "organizations:*"],
                "Resource": "*",
            }
        },  # PowerUser
    ],
)
def test_statements_short_of_admin_are_other(given, document):
    collected(given).user("gus", key1=KEY).listed("gus")
    given.policy("gus", "narrow", document)
    privilege, reason = given.privilege()["gus"]
    assert privilege == "other"
    assert reason.startswith(("no one-step path to administrator", "not an administrator"))


def test_iam_star_on_users_only_is_one_step_from_admin(given):
    collected(given).user("gus", key1=KEY).listed("gus")
    given.policy("gus", "narrow", allow("iam:*", "arn:aws:iam::111122223333:user/*"))
    assert given.privilege()["gus"][0] == "escalation"
    assert [f[2] for f in given.findings(RULE)] == ["gus"]


def test_read_only_user_is_other_and_its_key_no_finding(given):
    collected(given).user("reader", key1=KEY).listed("reader")
    given.policy("reader", "ReadOnlyAccess", READ_ONLY, arn=READ_ONLY_ARN)
    assert given.privilege("keys")["AKIAADMIN1"][0] == "other"
    assert given.findings(RULE) == []


def test_user_without_any_policy_is_other(given):
    collected(given).user("plain", key1=KEY).listed("plain")
    assert given.privilege()["plain"][0] == "other"


# --- unknown: only where it could matter ----------------------------------------------------


def test_unfetched_managed_policy_makes_an_otherwise_other_user_unknown(given):
    collected(given).user("hal", key1=KEY).listed("hal")
    given.policy("hal", "ReadOnlyAccess", None, arn=READ_ONLY_ARN)
    assert given.privilege()["hal"] == (
        "unknown", "cannot be evaluated: managed policy ReadOnlyAccess attached to the user: document not fetched",
    )  # fmt: skip


def test_unfetched_policy_beside_an_admin_grant_is_unknown_since_it_may_deny(given):
    collected(given).user("ivy", key1=KEY).listed("ivy")
    given.policy("ivy", "ReadOnlyAccess", None, arn=READ_ONLY_ARN)
    given.policy("ivy", "allow-everything", allow("*"))
    assert given.privilege()["ivy"][0] == "unknown"


def test_denied_listing_leaves_users_unknown_and_the_rule_unevaluated(given):
    given.account(privilege_status="failed", privilege_error="AccessDenied on iam:GetAccountAuthorizationDetails")  # fmt: skip
    given.user("jo", key1=KEY)
    assert given.privilege()["jo"] == (
        "unknown",
        "user permissions could not be read: AccessDenied on iam:GetAccountAuthorizationDetails",
    )
    assert given.findings(RULE) == []
    assert coverage(given) == {ACCOUNT: (False, 0)}


def test_collection_off_leaves_users_unknown_and_the_rule_unevaluated(given):
    given.account(privilege_status="off").user("kim", key1=KEY)
    assert given.privilege()["kim"] == (
        "unknown", "user permissions not collected ([collection] privilege = false)",
    )  # fmt: skip
    assert coverage(given) == {ACCOUNT: (False, 0)}


def test_a_files_run_or_an_old_run_has_privilege_unknown(given):
    given.user("lee", key1=KEY)  # privilege_status NULL: not recorded
    assert given.privilege()["lee"] == ("unknown", "user permissions not collected by this run's source")  # fmt: skip


def test_a_user_missing_from_the_listing_is_unknown(given):
    collected(given).user("new", key1=KEY)
    assert given.privilege()["new"] == ("unknown", "user missing from the permissions listing")


# --- the rule -------------------------------------------------------------------------------


def test_active_key_of_an_admin_is_a_finding_with_the_grant_in_its_reason(given):
    collected(given).user("alice", key1=KEY).listed("alice")
    given.policy("alice", "AdministratorAccess", allow("*"), arn=ADMIN_ARN, group="admins")
    assert given.findings(RULE) == [
        (
            RULE, ACCOUNT, "alice", 1, "AKIAADMIN1",
            "active key of an administrator: managed policy AdministratorAccess attached to group "
            "admins, statement 1: allows * on *",
        )
    ]  # fmt: skip


def test_inactive_key_on_an_admin_is_no_finding_and_the_user_stays_admin(given):
    collected(given).user("old", key1={**KEY, "active": False}).listed("old")
    given.policy("old", "AdministratorAccess", allow("*"), arn=ADMIN_ARN, group="admins")
    assert given.findings(RULE) == []
    assert given.privilege()["old"][0] == "admin"
    assert given.privilege("keys")["AKIAADMIN1"][0] == "admin"


def test_admin_without_keys_is_admin_in_users_and_has_no_key_rows(given):
    collected(given).user("boss", password=True, mfa=True).listed("boss")
    given.policy("boss", "AdministratorAccess", allow("*"), arn=ADMIN_ARN)
    assert given.privilege()["boss"][0] == "admin"
    assert given.privilege("keys") == {}
    assert given.findings(RULE) == []


def test_permissions_boundary_is_applied_and_an_unread_one_leaves_the_user_unknown(given):
    boundary = "arn:aws:iam::111122223333:policy/boundary"
    collected(given).user("bounded", key1=KEY).listed("bounded", boundary=boundary)
    given.policy("bounded", "allow-everything", allow("*"))
    given.findings(RULE)
    assert given.con.execute(
        "select privilege, permissions_boundary_arn, has_permissions_boundary from users "
        "where user_name = 'bounded'"
    ).fetchall() == [("unknown", boundary, True)]  # the boundary's document was not collected
    assert given.findings(RULE) == []


def test_root_is_admin_and_left_to_the_root_rules(given):
    given.user("<root_account>", key1={"created": days_ago(30)})
    given.findings(RULE)
    assert given.con.execute("select privilege from users where is_root").fetchall() == [("admin",)]
    assert given.findings(RULE) == []


def test_severity_is_high_by_default_and_configurable(given):
    from keyaudit.config import RuleOverride

    collected(given).user("alice", key1=KEY).listed("alice")
    given.policy("alice", "AdministratorAccess", None, arn=ADMIN_ARN)
    given.findings(RULE)
    assert given.con.execute("select severity from findings").fetchall() == [("high",)]
    given.findings(RULE, overrides={RULE: RuleOverride(severity="critical")})
    assert given.con.execute("select severity from findings").fetchall() == [("critical",)]


def coverage(given: Privileged) -> dict[str, tuple[bool, int]]:
    record_run_rules(given.con, given.run_id, [r for r in load_catalogue() if r.rule_id == RULE])
    return {
        row[0]: (row[1], row[2])
        for row in given.con.execute(
            "select account_id, is_evaluated, evaluated from rule_coverage where rule_id = ?",
            [RULE],
        ).fetchall()
    }


def test_the_rule_is_evaluated_only_where_privilege_was_collected(given):
    collected(given).user("alice", key1=KEY).listed("alice")
    given.user("reader", key1={**KEY, "id": "AKIAREAD"}).listed("reader")
    given.account(OTHER_ACCOUNT, privilege_status="failed", privilege_error="denied")
    given.user("carl", account_id=OTHER_ACCOUNT, key1={**KEY, "id": "AKIACARL"})
    given.policy("alice", "allow-everything", allow("*"))
    given.findings(RULE)
    assert coverage(given) == {ACCOUNT: (True, 2), OTHER_ACCOUNT: (False, 0)}
    results = given.con.execute(
        "select distinct result from control_results where rule_id = ? ", [RULE]
    ).fetchall()
    assert results == [("fail",)]


def test_an_account_without_collected_privilege_never_passes(given):
    given.account(privilege_status="off").user("kim", key1=KEY)
    given.findings(RULE)
    coverage(given)
    results = given.con.execute(
        "select distinct result from control_results where rule_id = ?", [RULE]
    ).fetchall()
    assert results == [("not evaluated",)]


# --- Fix first ------------------------------------------------------------------------------


def test_fix_first_ranks_privilege_then_severity_then_idle_days_then_age(given):
    collected(given)
    old, idle = days_ago(400), days_ago(100)
    # other user, critical severity cannot outrank an admin's high one
    given.user("aa-other", key1={"created": old, "last_used": days_ago(300), "id": "AKIAOTHER"}).listed("aa-other")  # fmt: skip
    # admins: same severity (high: rotation + privileged); idle decides, then age
    given.user("admin-busy", key1={"created": old, "last_used": days_ago(1), "id": "AKIABUSY"}).listed("admin-busy")  # fmt: skip
    given.user("admin-idle", key1={"created": days_ago(200), "last_used": idle, "id": "AKIAIDLE"}).listed("admin-idle")  # fmt: skip
    given.user("admin-idle-older", key1={"created": days_ago(300), "last_used": idle, "id": "AKIAIDOLD"}).listed("admin-idle-older")  # fmt: skip
    # unknown: a managed policy whose document was not fetched
    given.user("mystery", key1={"created": old, "id": "AKIAMYST"}).listed("mystery")
    given.policy("mystery", "Custom", None, arn="arn:aws:iam::111122223333:policy/Custom")
    for user in ("admin-busy", "admin-idle", "admin-idle-older"):
        given.policy(user, "AdministratorAccess", allow("*"), arn=ADMIN_ARN)
    given.findings()
    given.con.execute(
        "update findings set severity = 'critical' where user_name = 'aa-other' "
        "and rule_id = 'ACCESS_KEY_NOT_ROTATED'"
    )
    ranked = given.con.execute(
        "select fix_rank, user_name, privilege, severity, days_idle, age_days from fix_first "
        "order by fix_rank"
    ).fetchall()
    assert ranked == [
        (1, "admin-idle-older", "admin", "high", 100, 300),
        (2, "admin-idle", "admin", "high", 100, 200),
        (3, "admin-busy", "admin", "high", 1, 400),
        (4, "mystery", "unknown", "high", 400, 400),  # never used: idle since creation
        (5, "aa-other", "other", "critical", 300, 400),
    ]


def test_fix_first_gives_one_row_per_key_with_its_rules_and_why(given):
    collected(given).user("alice", key1=KEY).listed("alice")
    given.policy("alice", "AdministratorAccess", allow("*"), arn=ADMIN_ARN)
    given.findings()
    assert given.con.execute(
        "select fix_rank, access_key_id, rule_ids, why from fix_first"
    ).fetchall() == [
        (
            1, "AKIAADMIN1", ["ACCESS_KEY_NOT_ROTATED", RULE],
            "admin user; high: ACCESS_KEY_NOT_ROTATED, ACCESS_KEY_ON_PRIVILEGED_USER; "
            "idle 3 days, 200 days old",
        )
    ]  # fmt: skip


def test_fix_first_leaves_out_waived_findings_and_findings_about_no_key(given):
    collected(given).user("alice", password=True, key1=KEY).listed("alice")
    given.policy("alice", "AdministratorAccess", allow("*"), arn=ADMIN_ARN)
    given.findings()
    given.con.execute("update findings set waived = true where access_key_id is not null")
    assert given.con.execute("select count(*) from fix_first").fetchall() == [(0,)]
    about_the_user = given.con.execute(
        "select rule_id from findings where not waived and access_key_id is null order by all"
    ).fetchall()
    assert about_the_user == [("CONSOLE_USER_WITHOUT_MFA",), ("PASSWORD_UNUSED",)]


def test_fix_first_counts_a_never_used_key_idle_from_its_creation(given):
    collected(given).user("new", key1={"created": AS_OF - timedelta(days=60), "id": "AKIANEW"}).listed("new")  # fmt: skip
    given.findings()
    assert given.con.execute("select days_idle, age_days, why from fix_first").fetchall() == [
        (60, 60, "other user; medium: ACCESS_KEY_NEVER_USED, ACCESS_KEY_UNUSED; never used, "
         "created 60 days ago")
    ]  # fmt: skip


def test_saved_query_lists_the_view_in_its_order_with_a_limit_and_an_account(given):
    from keyaudit.warehouse.saved_queries import bind, find_query

    collected(given).user("alice", key1=KEY).listed("alice")
    given.user("zed", key1={"created": days_ago(100), "id": "AKIAZED"}).listed("zed")
    given.policy("alice", "AdministratorAccess", allow("*"), arn=ADMIN_ARN)
    given.findings()
    saved = find_query("fix_first")
    assert saved.question == "Which access keys should be fixed first?"

    def run(**params: str) -> list[tuple]:
        cursor = given.con.execute(saved.sql, bind(saved, params))
        return [(r[0], r[2], r[5]) for r in cursor.fetchall()]

    assert run() == [(1, "alice", "admin"), (2, "zed", "other")]
    assert run(limit="1") == [(1, "alice", "admin")]
    assert run(account_id=OTHER_ACCOUNT) == []


# --- ACCESS_KEY_QUARANTINED ----------------------------------------------------------------

QUARANTINE_ARN = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"
QUARANTINE = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": ["iam:CreateAccessKey", "iam:AttachUserPolicy"], "Resource": "*"}]}  # fmt: skip


def test_active_key_of_a_quarantined_user_is_critical_and_an_inactive_one_is_not(given):
    collected(given).user("leaked", key1=KEY).listed("leaked")
    given.user("cleaned", key1={**KEY, "id": "AKIACLEANED", "active": False}).listed("cleaned")
    for user in ("leaked", "cleaned"):
        given.policy(user, "AWSCompromisedKeyQuarantineV2", QUARANTINE, arn=QUARANTINE_ARN)
    assert given.findings("ACCESS_KEY_QUARANTINED") == [
        (
            "ACCESS_KEY_QUARANTINED", ACCOUNT, "leaked", 1, "AKIAADMIN1",
            "active key of a user AWS quarantined for an exposed key: "
            "AWSCompromisedKeyQuarantineV2 is attached to the user",
        )
    ]  # fmt: skip
    severity = given.con.execute(
        "select severity from findings where rule_id = 'ACCESS_KEY_QUARANTINED'"
    ).fetchall()
    assert severity == [("critical",)]


def test_a_quarantine_policy_through_a_group_is_not_aws_quarantine(given):
    collected(given).user("member", key1=KEY).listed("member")
    given.policy(
        "member", "AWSCompromisedKeyQuarantineV2", QUARANTINE, arn=QUARANTINE_ARN, group="g"
    )
    assert given.findings("ACCESS_KEY_QUARANTINED") == []


def test_a_quarantined_key_tops_fix_first_above_an_admin(given):
    collected(given).user("admin", key1={**KEY, "id": "AKIAADMIN9"}).listed("admin")
    given.user("leaked", key1={"created": days_ago(10), "last_used": days_ago(1), "id": "AKIALEAK"})
    given.listed("leaked")
    given.policy("admin", "AdministratorAccess", allow("*"), arn=ADMIN_ARN)
    given.policy("leaked", "AWSCompromisedKeyQuarantineV2", QUARANTINE, arn=QUARANTINE_ARN)
    given.findings()
    ranked = given.con.execute(
        "select fix_rank, user_name, is_quarantined, privilege from fix_first order by fix_rank"
    ).fetchall()
    assert ranked == [(1, "leaked", True, "other"), (2, "admin", False, "admin")]


def test_escalation_ranks_between_admin_and_unknown_in_fix_first(given):
    collected(given)
    for name, key_id in (("mystery", "AKIAMYST"), ("climber", "AKIACLIMB"), ("boss", "AKIABOSS")):
        given.user(name, key1={"created": days_ago(200), "last_used": days_ago(1), "id": key_id})
        given.listed(name)
    given.policy("mystery", "Custom", None, arn="arn:aws:iam::111122223333:policy/Custom")
    given.policy(
        "climber", "self", allow("iam:AttachUserPolicy", "arn:aws:iam::*:user/${aws:username}")
    )
    given.policy("boss", "AdministratorAccess", allow("*"), arn=ADMIN_ARN)
    given.findings()
    ranked = given.con.execute(
        "select user_name, privilege from fix_first order by fix_rank"
    ).fetchall()
    assert ranked == [("boss", "admin"), ("climber", "escalation"), ("mystery", "unknown")]
