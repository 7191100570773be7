"""The control view: per control and rule, resources evaluated, failing, waived and passing —
checked against hand counts on given credential-report rows."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd
import pytest
from lifecycle_given import A, B, C, History

from keyaudit.frameworks import BY_KEY, FRAMEWORKS
from keyaudit.rules.waivers import Waiver
from keyaudit.sources.credential_report import COLUMNS
from keyaudit.warehouse.db import insert_frame
from keyaudit.warehouse.findings import evaluate
from keyaudit.warehouse.marts import build_marts
from keyaudit.warehouse.run_rules import record_run_rules
from keyaudit.warehouse.waivers import apply_waivers

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
D = "444444444444"  # a suspended account: skipped
KEY = {"alice": "AKIAALICE00000000001", "svc-a1": "AKIASVCA000000000001",
       "svc-a2": "AKIASVCA000000000002", "svc-b": "AKIASVCB000000000001",
       "carol": "AKIACAROL00000000001"}  # fmt: skip


def ts(days: float) -> str:
    return (AS_OF - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def row(account: str, user: str, *, console=False, mfa=False, pw_used="N/A", keys=()) -> dict:
    """A credential-report line; keys: (active, created days ago, used days ago or None)."""
    root = user == "<root_account>"
    line = dict.fromkeys(COLUMNS, "N/A")
    line.update(
        user=user,
        arn=f"arn:aws:iam::{account}:root" if root else f"arn:aws:iam::{account}:user/{user}",
        user_creation_time=ts(800),
        password_enabled="not_supported" if root else str(console).lower(),
        password_last_used=pw_used,
        password_last_changed="not_supported" if root else (ts(700) if console else "N/A"),
        password_next_rotation="not_supported" if root else "N/A",
        mfa_active=str(mfa).lower(),
        access_key_1_active="false",
        access_key_2_active="false",
        cert_1_active="false",
        cert_2_active="false",
    )
    for slot, (active, created, used) in enumerate(keys, start=1):
        line[f"access_key_{slot}_active"] = str(active).lower()
        line[f"access_key_{slot}_last_rotated"] = ts(created)
        if used is not None:
            line[f"access_key_{slot}_last_used_date"] = ts(used)
            line[f"access_key_{slot}_last_used_region"] = "us-east-1"
            line[f"access_key_{slot}_last_used_service"] = "s3"
    return {"account_id": account, **line}


def api_key(account: str, user: str, key_id: str, active: bool, created: float, used) -> dict:
    return {
        "account_id": account,
        "user_name": user,
        "access_key_id": key_id,
        "status": "Active" if active else "Inactive",
        "create_date": AS_OF - timedelta(days=created),
        "last_used_date": None if used is None else AS_OF - timedelta(days=used),
        "last_used_service": "s3" if used is not None else "N/A",
        "last_used_region": "us-east-1" if used is not None else "N/A",
    }


REPORT = [
    # account A: root clean; alice has an old key; bob has no MFA; svc-a two active keys, the
    # first old and idle (waived for rotation); svc-b only an inactive key
    row(A, "<root_account>", mfa=True, pw_used="no_information"),
    row(A, "alice", console=True, mfa=True, pw_used=ts(10), keys=[(True, 100, 1)]),
    row(A, "bob", console=True, pw_used=ts(5)),
    row(A, "svc-a", keys=[(True, 200, 60), (True, 10, 1)]),
    row(A, "svc-b", keys=[(False, 100, 95)]),
    # account B: root has a key and no MFA; carol is fine
    row(B, "<root_account>", mfa=False, pw_used="no_information", keys=[(True, 400, 30)]),
    row(B, "carol", keys=[(True, 30, 2)]),
]
API_KEYS = [
    api_key(A, "alice", KEY["alice"], True, 100, 1),
    api_key(A, "svc-a", KEY["svc-a1"], True, 200, 60),
    api_key(A, "svc-a", KEY["svc-a2"], True, 10, 1),
    api_key(A, "svc-b", KEY["svc-b"], False, 100, 95),
    api_key(B, "carol", KEY["carol"], True, 30, 2),
]
WAIVER = Waiver(
    waiver_id="W-1", rule_id="ACCESS_KEY_NOT_ROTATED", account_id=A, user_name="svc-a",
    access_key_id=KEY["svc-a1"], reason="appliance", approved_by="ciso", ticket="RISK-1",
    expires_on=date(2027, 1, 31),
)  # fmt: skip


@pytest.fixture(scope="module")
def run(migrated_template, tmp_path_factory, catalogue) -> Iterator[History]:
    """One evaluated run shared by the module's tests, which only read it."""
    path = tmp_path_factory.mktemp("controls") / "keyaudit.duckdb"
    shutil.copyfile(migrated_template, path)
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")
    history = History(con)
    history.run(
        "r1", AS_OF, accounts={A: "assessed", B: "assessed", C: "not_assessed", D: "skipped"}
    )
    con = history.con
    for table, rows in (("credential_report", REPORT), ("access_keys", API_KEYS)):
        frame = pd.DataFrame(rows)
        frame.insert(0, "run_id", "r1")
        if table == "credential_report":
            frame.insert(2, "line_number", range(2, len(frame) + 2))
        else:
            for column in ("create_date", "last_used_date"):
                frame[column] = pd.to_datetime(frame[column], utc=True)
        insert_frame(con, table, frame)
    # as load_run does, inside its transaction
    build_marts(con, "r1")
    evaluate(con, "r1", AS_OF, catalogue)
    record_run_rules(con, "r1", catalogue)
    apply_waivers(con, "r1", [WAIVER])
    yield history
    con.close()


def results(run: History) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    rows = run.rows(
        "select framework, control_id, rule_id, evaluated, failing, waived, passing, population "
        "from control_results where run_id = 'r1'"
    )
    return {(f, c, r): (e, fail, w, p, pop) for f, c, r, e, fail, w, p, pop in rows}


def test_key_rotation_counts_active_iam_user_keys_and_leaves_the_waived_one_out(run):
    # active IAM-user keys: alice, svc-a x2, carol = 4; over 90 days: alice (100), svc-a 1
    # (200, waived); the root key of B is a root rule's business
    assert results(run)[("CIS v1.4–v4.0", "1.14", "ACCESS_KEY_NOT_ROTATED")] == (
        4, 1, 1, 2, "active IAM-user access keys",
    )  # fmt: skip


def test_every_framework_of_a_rule_reports_the_same_numbers(run):
    found = results(run)
    same = {
        ("CIS v1.4–v4.0", "1.14"), ("CIS v5.0", "1.13"), ("CIS v6.0", "2.13"),
        ("Security Hub", "IAM.3"), ("AWS Config", "access-keys-rotated"),
        ("NIST SP 800-53 Rev. 5", "AC-2(1)"), ("NIST SP 800-53 Rev. 5", "IA-5"),
        ("PCI DSS v4.0.1", "8.3.9"), ("PCI DSS v4.0.1", "8.6.3"), ("SOC 2", "CC6.1"),
        ("ISO/IEC 27001:2022", "A.5.15"), ("ISO/IEC 27001:2022", "A.5.17"),
    }  # fmt: skip
    assert {(f, c) for f, c, r in found if r == "ACCESS_KEY_NOT_ROTATED"} == same
    assert {found[(f, c, "ACCESS_KEY_NOT_ROTATED")] for f, c in same} == {
        (4, 1, 1, 2, "active IAM-user access keys")
    }


@pytest.mark.parametrize(
    ("rule_id", "cis"),
    [
        ("ACCESS_KEY_UNUSED", "1.12"),
        ("PASSWORD_UNUSED", "1.12"),
        ("ROOT_ACCESS_KEY_PRESENT", "1.4"),
        ("ROOT_MFA_DISABLED", "1.5"),
        ("CONSOLE_USER_WITHOUT_MFA", "1.10"),
        ("ROOT_USED_RECENTLY", "1.7"),
    ],
)
def test_each_new_framework_reports_the_cis_numbers_of_the_same_rule(run, catalogue, rule_id, cis):
    found = results(run)
    expected = found[("CIS v1.4–v4.0", cis, rule_id)]
    rule = next(r for r in catalogue if r.rule_id == rule_id)
    for framework in ("nist_800_53_r5", "pci_dss_v4_0_1", "soc2", "iso_27001_2022",
                      "cis_controls_v8_1"):  # fmt: skip
        name = BY_KEY[framework].name
        for control_id in getattr(rule.controls, framework):
            assert found[(name, control_id, rule_id)] == expected, (name, control_id)


def test_the_view_names_each_framework_as_the_registry_does(run):
    named = {f for f, _c, _r in results(run)}
    assert named == {f.short for f in FRAMEWORKS}
    assert {"NIST SP 800-53 Rev. 5", "PCI DSS v4.0.1", "SOC 2", "ISO/IEC 27001:2022",
            "CIS Controls v8.1"} <= named  # fmt: skip


def test_a_new_framework_control_fails_when_its_cis_twin_fails(run):
    rows = run.rows(
        "select framework, control_id, result, evaluated, accounts_evaluated from control_results "
        "where run_id = 'r1' and rule_id = 'ROOT_ACCESS_KEY_PRESENT' order by all"
    )
    assert {r[2] for r in rows} == {"fail"}
    assert ("PCI DSS v4.0.1", "8.2.1", "fail", 2, 2) in rows


def test_a_control_two_rules_implement_has_a_row_per_rule(run):
    found = results(run)
    # CIS 1.12 (credentials unused 45 days): keys (svc-a 1 idle 60 days) and passwords (none)
    assert found[("CIS v1.4–v4.0", "1.12", "ACCESS_KEY_UNUSED")] == (
        4, 1, 0, 3, "active IAM-user access keys",
    )  # fmt: skip
    assert found[("CIS v1.4–v4.0", "1.12", "PASSWORD_UNUSED")] == (
        2, 0, 0, 2, "IAM users with a console password",
    )  # fmt: skip


def test_console_mfa_counts_console_users(run):
    assert results(run)[("Security Hub", "IAM.5", "CONSOLE_USER_WITHOUT_MFA")] == (
        2, 1, 0, 1, "IAM users with a console password",
    )  # fmt: skip


def test_one_active_key_per_user_counts_iam_users(run):
    assert results(run)[("CIS v1.4–v4.0", "1.13", "MULTIPLE_ACTIVE_KEYS")] == (
        5, 1, 0, 4, "IAM users",
    )  # fmt: skip


def test_root_controls_count_the_root_user_of_each_assessed_account(run):
    found = results(run)
    assert found[("CIS v1.4–v4.0", "1.4", "ROOT_ACCESS_KEY_PRESENT")] == (
        2, 1, 0, 1, "root users of assessed accounts",
    )  # fmt: skip
    assert found[("Security Hub", "IAM.9", "ROOT_MFA_DISABLED")] == (
        2, 1, 0, 1, "root users of assessed accounts",
    )  # fmt: skip


def test_coverage_counts_accounts_in_scope_but_not_skipped_ones(run):
    assert results(run)[("keyaudit", "KA-1", "ACCOUNT_NOT_ASSESSED")] == (
        3, 1, 0, 2, "accounts in scope",
    )  # fmt: skip


def test_inactive_keys_are_their_own_population(run):
    assert results(run)[("keyaudit", "KA-3", "INACTIVE_KEY_NOT_REMOVED")] == (
        1, 1, 0, 0, "inactive IAM-user access keys",
    )  # fmt: skip


def test_a_disabled_rule_is_not_in_the_control_view(history, catalogue):
    from dataclasses import replace

    history.run("r1", AS_OF)
    rules = [replace(r, enabled=r.rule_id != "ACCESS_KEY_UNUSED") for r in catalogue]
    record_run_rules(history.con, "r1", rules)
    found = history.rows("select distinct rule_id from control_results where run_id = 'r1'")
    assert ("ACCESS_KEY_UNUSED",) not in found
    assert ("ACCESS_KEY_NOT_ROTATED",) in found


def test_the_catalogue_in_force_is_stored_with_the_run(run, catalogue):
    rows = run.rows(
        "select rule_id, severity, scope, controls, parameters from run_rules "
        "where run_id = 'r1' and rule_id = 'ACCESS_KEY_NOT_ROTATED'"
    )
    (rule_id, severity, scope, controls, parameters) = rows[0]
    assert (rule_id, severity, scope) == ("ACCESS_KEY_NOT_ROTATED", "high", "key")
    assert json.loads(controls)["cis_v1_4_to_v4_0"] == "1.14"
    assert json.loads(controls)["security_hub"] == ["IAM.3"]
    assert json.loads(parameters) == {"max_key_age_days": 90}
    assert run.rows("select count(*) from run_rules where run_id = 'r1'") == [(len(catalogue),)]


def test_every_rule_of_the_catalogue_has_a_population_of_its_own(run, catalogue):
    """A new rule must be given its evaluated population in sql/views/rule_population_kinds.sql."""
    defaulted = run.rows(
        "select rule_id from rule_population where run_id = 'r1' and is_default_population"
    )
    assert defaulted == [], (
        "add these rules to `definitions` in sql/views/rule_population_kinds.sql"
    )
    listed = {r[0] for r in run.rows("select rule_id from rule_population where run_id = 'r1'")}
    assert listed == {r.rule_id for r in catalogue}


def test_no_control_counts_more_failures_than_resources_evaluated(run):
    bad = run.rows(
        "select framework, control_id, rule_id from control_results "
        "where failing + waived + passing <> evaluated or passing < 0 or failing < 0"
    )
    assert bad == []


def outcomes(run: History, accounts: list[str] | None = None) -> dict[tuple[str, str, str], Any]:
    """(framework, control, rule) -> (result, accounts evaluated, in scope, not assessed)."""
    rows = run.con.execute(
        "select framework, control_id, rule_id, result, accounts_evaluated, accounts_in_scope, "
        "accounts_not_assessed from control_results_for(?) where run_id = 'r1'",
        [accounts],
    ).fetchall()
    return {(f, c, r): tuple(rest) for f, c, r, *rest in rows}


def test_a_control_without_failures_passes_only_in_the_accounts_it_evaluated(run):
    # A and B assessed, C not assessed, D skipped (outside the scope)
    assert outcomes(run)[("CIS v1.4–v4.0", "1.13", "MULTIPLE_ACTIVE_KEYS")] == ("fail", 2, 3, 1)
    assert outcomes(run)[("CIS v1.4–v4.0", "1.12", "PASSWORD_UNUSED")] == ("pass", 2, 3, 1)


def test_the_view_carries_the_result_column(run):
    found = dict(
        ((f, c, r), result)
        for f, c, r, result in run.rows(
            "select framework, control_id, rule_id, result from control_results where run_id = 'r1'"
        )
    )
    assert found[("CIS v1.4–v4.0", "1.12", "PASSWORD_UNUSED")] == "pass"
    assert found[("CIS v1.4–v4.0", "1.14", "ACCESS_KEY_NOT_ROTATED")] == "fail"


def test_a_slice_of_only_an_unassessed_account_evaluates_no_control(run):
    found = outcomes(run, [C])
    assert found.pop(("keyaudit", "KA-1", "ACCOUNT_NOT_ASSESSED")) == ("fail", 1, 1, 1)
    assert found  # every other control of the catalogue
    assert {v[0] for v in found.values()} == {"not evaluated"}
    assert {v[1:] for v in found.values()} == {(0, 1, 1)}


def test_a_slice_counts_only_its_own_accounts(run):
    found = outcomes(run, [B])
    # carol's key is fine; B's root has a key and no MFA
    assert found[("CIS v1.4–v4.0", "1.14", "ACCESS_KEY_NOT_ROTATED")] == ("pass", 1, 1, 0)
    assert found[("Security Hub", "IAM.9", "ROOT_MFA_DISABLED")] == ("fail", 1, 1, 0)
    rows = run.con.execute(
        "select evaluated, failing, passing from control_results_for(?) "
        "where run_id = 'r1' and control_id = '1.14' and framework = 'CIS v1.4–v4.0'",
        [[B]],
    ).fetchall()
    assert rows == [(1, 0, 1)]


def test_a_skipped_account_alone_is_outside_the_scope_and_evaluates_nothing(run):
    found = outcomes(run, [D])
    assert {v for v in found.values()} == {("not evaluated", 0, 0, 0)}


def test_root_controls_are_not_evaluated_in_an_account_without_its_root_row(
    migrated_template, tmp_path, catalogue
):
    path = tmp_path / "keyaudit.duckdb"
    shutil.copyfile(migrated_template, path)
    history = History(duckdb.connect(str(path)))
    history.run("r1", AS_OF, accounts={A: "partial"})
    frame = pd.DataFrame(
        [r for r in REPORT if r["account_id"] == A and r["user"] != "<root_account>"]
    )
    frame.insert(0, "run_id", "r1")
    frame.insert(2, "line_number", range(2, len(frame) + 2))
    insert_frame(history.con, "credential_report", frame)
    build_marts(history.con, "r1")
    evaluate(history.con, "r1", AS_OF, catalogue)
    record_run_rules(history.con, "r1", catalogue)
    found = outcomes(history)
    for rule in ("ROOT_ACCESS_KEY_PRESENT", "ROOT_MFA_DISABLED", "ROOT_USED_RECENTLY"):
        assert {v for (f, c, r), v in found.items() if r == rule} == {("not evaluated", 0, 1, 0)}
    assert found[("CIS v1.4–v4.0", "1.13", "MULTIPLE_ACTIVE_KEYS")][0] == "fail"


# --------------------------------------------------------------------------- per kind, not summed


def populations(
    run: History, framework: str, control_id: str, accounts: list[str] | None = None
) -> dict[str, tuple[Any, ...]]:
    """kind -> (population, evaluated, failing, waived, passing) of one control."""
    rows = run.con.execute(
        "select kind, population, evaluated, failing, waived, passing "
        "from control_populations_for(?) where run_id = 'r1' and framework = ? and control_id = ?",
        [accounts, framework, control_id],
    ).fetchall()
    return {kind: tuple(rest) for kind, *rest in rows}


def test_a_control_over_several_kinds_counts_each_kind_apart(run):
    # SOC 2 CC6.1: key rules (rotation, unused), user rules (console MFA, unused password, two
    # keys) and root rules; A and B assessed. Keys: alice, svc-a x2, carol; IAM users: alice,
    # bob, svc-a, svc-b, carol; root users: A, B. Never 4 + 5 + 2 = 11 "resources".
    found = populations(run, "SOC 2", "CC6.1")
    assert found == {
        # alice (rotation) and svc-a's first key (unused; its rotation finding is waived, its
        # unused one is not): a resource fails when any of its findings is not waived
        "key": ("active IAM-user access keys", 4, 2, 0, 2),
        # bob (console without MFA) and svc-a (two active keys)
        "user": ("IAM users", 5, 2, 0, 3),
        # B's root user: a key and no MFA, two findings, one root user
        "root user": ("root users of assessed accounts", 2, 1, 0, 1),
    }


def test_two_root_rules_count_each_root_user_once(run):
    # PCI DSS 8.2.2: ROOT_ACCESS_KEY_PRESENT and ROOT_USED_RECENTLY over the same root users
    assert {r for f, c, r in results(run) if (f, c) == ("PCI DSS v4.0.1", "8.2.2")} == {
        "ROOT_ACCESS_KEY_PRESENT",
        "ROOT_USED_RECENTLY",
    }
    assert populations(run, "PCI DSS v4.0.1", "8.2.2") == {
        "root user": ("root users of assessed accounts", 2, 1, 0, 1)
    }


def test_a_narrower_population_is_named_and_counted_by_the_broader_one(run):
    # SOC 2 CC6.2: unused keys (active keys), keys made at setup (active keys of console users,
    # part of the active keys), unused passwords (console users)
    found = populations(run, "SOC 2", "CC6.2")
    assert found["key"][:2] == ("active IAM-user access keys", 4)
    assert found["user"][:2] == ("IAM users with a console password", 2)


@pytest.mark.slow  # a whole run again: make test-slow
def test_one_rule_per_kind_gives_the_rules_own_figures(run):
    # every control whose kind has one rule: the rule's evaluated, failing and waived
    rule_rows = run.rows(
        "select framework, control_id, population, evaluated, failing, waived "
        "from control_results where run_id = 'r1'"
    )
    kinds = dict(run.rows("select rule_id, kind from rule_population_kinds where run_id = 'r1'"))
    per_kind: dict[tuple[str, str, str], list[tuple[Any, ...]]] = {}
    for (f, c, r), values in results(run).items():
        per_kind.setdefault((f, c, kinds[r]), []).append(values)
    assert rule_rows
    for (framework, control_id, kind), values in per_kind.items():
        if len(values) == 1:
            evaluated, failing, waived, passing, population = values[0]
            found = populations(run, framework, control_id)[kind]
            assert found == (population, evaluated, failing, waived, passing), (
                framework,
                control_id,
            )


def test_a_slice_counts_each_kind_in_its_own_accounts(run):
    assert populations(run, "SOC 2", "CC6.1", [B]) == {
        "key": ("active IAM-user access keys", 1, 0, 0, 1),
        "user": ("IAM users", 1, 0, 0, 1),
        "root user": ("root users of assessed accounts", 1, 1, 0, 0),
    }
    assert populations(run, "SOC 2", "CC6.1", [C]) == {
        "key": ("active IAM-user access keys", 0, 0, 0, 0),
        "user": ("IAM users", 0, 0, 0, 0),
        "root user": ("root users of assessed accounts", 0, 0, 0, 0),
    }


def test_populations_that_overlap_are_counted_member_by_member(run):
    # no control of the catalogue joins two populations neither of which holds the other;
    # map two such rules to one control for this transaction: keys of console users (alice's)
    # and inactive keys (svc-b's) are two keys, each once
    run.con.execute("begin")
    try:
        for rule_id in ("ACCESS_KEY_CREATED_AT_SETUP", "INACTIVE_KEY_NOT_REMOVED"):
            run.con.execute(
                "update run_rules set controls = json_merge_patch(controls, ?) where rule_id = ?",
                ['{"soc2": ["CC9.9"]}', rule_id],
            )
        found = populations(run, "SOC 2", "CC9.9")
    finally:
        run.con.execute("rollback")
    words = (
        "active access keys of IAM users with a console password or inactive IAM-user access keys"
    )
    assert found == {"key": (words, 2, 1, 0, 1)}


def test_a_broader_population_holds_the_narrower_and_the_widest_ones_are_disjoint(run):
    """What control_populations_for relies on to add populations up instead of counting
    members one by one (rule_population_kinds.broader)."""
    members = "select population, subject from population_members where run_id = 'r1'"
    outside = run.rows(
        f"with m as ({members}), k as (select distinct population, kind, broader "
        "from rule_population_kinds) "
        "select narrow.population, narrow.subject from m as narrow "
        "inner join k on k.population = narrow.population and k.broader is not null "
        "anti join m as wide on wide.population = k.broader and wide.subject = narrow.subject"
    )
    assert outside == []
    shared = run.rows(
        f"with m as ({members}), k as (select distinct population, kind, broader "
        "from rule_population_kinds where broader is null) "
        "select a.subject from m as a inner join k as ka on ka.population = a.population "
        "inner join m as b on b.subject = a.subject and b.population > a.population "
        "inner join k as kb on kb.population = b.population and kb.kind = ka.kind"
    )
    assert shared == []
