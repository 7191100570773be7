"""`keyaudit remediate` against moto: a small simulated organization audited up to load, its plan
approved key by key, and the approved keys deactivated through the remediation role. Only
approved keys whose day has come change; a dry run changes nothing; a key rotated, deleted or
used after the plan is skipped with the reason; every action is recorded in the warehouse and
the run's evidence, `keyaudit verify` still passes, and the next run sees the key inactive."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from moto.iam.models import AccessKeyLastUsed, iam_backends

from keyaudit.config import Config
from keyaudit.integrity.verify import verify_run
from keyaudit.remediation.runner import Remediation, run_remediation
from keyaudit.report.remediation import plan_document
from keyaudit.sources.aws.session import AccountSessions, SessionSettings
from keyaudit.sources.demo import simulated_organization
from keyaudit.warehouse.db import connect
from tests.faults.fault_harness import AuditResult, VirtualTime, install_virtual_time, run_audit

# the organization is audited twice (two pipeline runs up to load): ≈ 40 s on 2 busy cores
pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
LATER = AS_OF + timedelta(days=90)  # every planned key is due
ROLE = "keyaudit-remediation"


@pytest.fixture(scope="module")
def org() -> Iterator[Any]:
    with simulated_organization(AS_OF, members=3, users_per_account=8) as org:
        yield org


def _audit(org: Any, folder: Path, run_id: str) -> AuditResult:
    with pytest.MonkeyPatch.context() as monkeypatch:
        vt = VirtualTime()
        install_virtual_time(monkeypatch, vt)
        return run_audit(org, folder, vt=vt, run_id=run_id)


@pytest.fixture(scope="module")
def audited(org: Any, tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    """The organization audited once (run r1), with the remediation role in every account."""
    result = _audit(org, tmp_path_factory.mktemp("r1"), "r1")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{org.management_account_id}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    for account in _assessed(result):
        _iam(org, account).create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    return result


def _assessed(result: AuditResult) -> list[str]:
    return [a for a, row in result.accounts.items() if row.status == "assessed"]


def _iam(org: Any, account_id: str) -> Any:
    sessions = AccountSessions(customizers=[org.customize])
    own = account_id == org.management_account_id
    return sessions.session_for(account_id, is_caller_account=own).client("iam")


@pytest.fixture
def run(audited: AuditResult, tmp_path: Path) -> AuditResult:
    """A private copy of run r1's warehouse and evidence, to act on."""
    shutil.copytree(audited.warehouse.parent, tmp_path, dirs_exist_ok=True)
    return AuditResult(
        run_id=audited.run_id,
        summary=audited.summary,
        accounts=audited.accounts,
        findings=audited.findings,
        outcomes=audited.outcomes,
        elapsed=audited.elapsed,
        evidence=tmp_path / "evidence" / audited.run_id,
        warehouse=tmp_path / audited.warehouse.name,
    )


def _config(run: AuditResult) -> Config:
    return Config.model_validate(
        {
            "paths": {
                "warehouse": str(run.warehouse),
                "evidence_dir": str(run.evidence.parent),
            }
        }
    )


def _plan(run: AuditResult) -> dict[str, Any]:
    con = connect(run.warehouse, read_only=True)
    try:
        return plan_document(con, run.run_id)
    finally:
        con.close()


_taken: set[str] = set()


def _pick(run: AuditResult, org: Any, n: int = 1, *, single: bool = False) -> list[dict]:
    """`n` planned keys no other test of this module acted on (they share the organization);
    `single`: of users who hold only that key (a rotation can add one)."""
    plan = _plan(run)
    users: dict[tuple[str, str], int] = {}
    for account_id, user_name, _ in _iam_keys(org, plan):
        users[(account_id, user_name)] = users.get((account_id, user_name), 0) + 1
    picked = [
        k
        for k in plan["keys"]
        if k["access_key_id"] not in _taken
        and (not single or users.get((k["account_id"], k["user_name"])) == 1)
    ][:n]
    assert len(picked) == n, "the demo plans too few keys for this module's tests"
    _taken.update(k["access_key_id"] for k in picked)
    return picked


def _iam_keys(org: Any, plan: dict[str, Any]) -> list[tuple[str, str, str]]:
    found = []
    for account_id in {k["account_id"] for k in plan["keys"]}:
        for user in iam_backends[account_id]["global"].users.values():
            found += [(account_id, user.name, k.access_key_id) for k in user.access_keys]
    return found


def _approve(run: AuditResult, folder: Path, keys: list[dict[str, Any]], **changes: Any) -> Path:
    document = {**_plan(run), "keys": keys}
    document["approval"] = {
        "approved_by": "Jane Doe <jane@example.com>",
        "approved_on": "2026-12-01",
    }
    document.update(changes)
    path = folder / "approved-plan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _remediate(
    org: Any, run: AuditResult, approved: Path, *, apply: bool, now: datetime = LATER
) -> Remediation:
    return run_remediation(
        _config(run),
        run.run_id,
        approved,
        apply=apply,
        now=lambda: now,
        audit_sessions=AccountSessions(customizers=[org.customize]),
        remediation_sessions=AccountSessions(
            settings=SessionSettings(role_name=ROLE), customizers=[org.customize]
        ),
    )


def _status(org: Any, key: dict[str, Any]) -> str:
    user = iam_backends[key["account_id"]]["global"].users[key["user_name"]]
    return next(k.status for k in user.access_keys if k.access_key_id == key["access_key_id"])


def test_the_run_plans_its_active_keys_with_open_findings(run):
    plan = _plan(run)
    assert plan["plan_id"] == "plan-r1" and plan["run_id"] == "r1"
    assert plan["keys"], "the demo has keys with open findings"
    for key in plan["keys"]:
        assert key["key_status"] == "Active"
        assert date.fromisoformat(key["deactivate_on"]) >= AS_OF.date() + timedelta(days=14)


def test_apply_deactivates_exactly_the_approved_keys(org, run, tmp_path):
    (approved_key,) = _pick(run, org)
    others = [k for k in _plan(run)["keys"] if k["access_key_id"] != approved_key["access_key_id"]]
    before = {k["access_key_id"]: _status(org, k) for k in others}
    done = _remediate(org, run, _approve(run, tmp_path, [approved_key]), apply=True)
    assert [(o.access_key_id, o.outcome) for o in done.outcomes] == [
        (approved_key["access_key_id"], "deactivated")
    ]
    assert _status(org, approved_key) == "Inactive"
    assert {k["access_key_id"]: _status(org, k) for k in others} == before


def test_a_dry_run_changes_and_records_nothing(org, run, tmp_path):
    (key,) = _pick(run, org)
    done = _remediate(org, run, _approve(run, tmp_path, [key]), apply=False)
    assert [o.outcome for o in done.outcomes] == ["would deactivate"]
    assert _status(org, key) == "Active"
    assert done.record_path is None
    assert not (run.evidence / "remediation").exists()
    con = connect(run.warehouse, read_only=True)
    assert con.execute("select count(*) from remediation_actions").fetchone() == (0,)
    con.close()


def test_a_key_before_its_day_is_not_touched(org, run, tmp_path):
    (key,) = _pick(run, org)
    done = _remediate(
        org, run, _approve(run, tmp_path, [key]), apply=True, now=AS_OF + timedelta(days=1)
    )
    assert [o.outcome for o in done.outcomes] == ["skipped"]
    assert done.outcomes[0].reason == f"not due: deactivated on {key['deactivate_on']}, not before"
    assert _status(org, key) == "Active"


def test_a_key_used_after_the_plan_is_skipped_with_the_reason(org, run, tmp_path):
    (key,) = _pick(run, org)
    user = iam_backends[key["account_id"]]["global"].users[key["user_name"]]
    used = datetime(2026, 12, 20, 9, 30)
    user.access_keys[0].last_used = AccessKeyLastUsed(used, "s3", "eu-west-1")
    done = _remediate(org, run, _approve(run, tmp_path, [key]), apply=True)
    assert done.outcomes[0].outcome == "skipped"
    assert (
        done.outcomes[0].reason
        == "changed: used again on 2026-12-20T09:30:00+00:00, after the plan's as-of"
    )
    assert _status(org, key) == "Active"


def test_a_rotated_key_is_skipped_with_the_reason(org, run, tmp_path):
    (key,) = _pick(run, org, single=True)
    new = _iam(org, key["account_id"]).create_access_key(UserName=key["user_name"])["AccessKey"]
    done = _remediate(org, run, _approve(run, tmp_path, [key]), apply=True)
    assert done.outcomes[0].outcome == "skipped"
    assert done.outcomes[0].reason.startswith(
        f"changed: rotated — {key['user_name']} has key {new['AccessKeyId']} created "
    )
    assert _status(org, key) == "Active"


def test_a_deleted_key_is_skipped_with_the_reason(org, run, tmp_path):
    (key,) = _pick(run, org)
    _iam(org, key["account_id"]).delete_access_key(
        UserName=key["user_name"], AccessKeyId=key["access_key_id"]
    )
    done = _remediate(org, run, _approve(run, tmp_path, [key]), apply=True)
    assert (done.outcomes[0].outcome, done.outcomes[0].reason) == (
        "skipped",
        "changed: the key no longer exists (deleted since the plan)",
    )


def test_actions_are_recorded_in_the_warehouse_and_the_evidence_and_verify_passes(
    org, run, tmp_path
):
    due, early = _pick(run, org, 2)
    early = {**early, "deactivate_on": "2027-12-31"}  # an approver may postpone a day
    done = _remediate(org, run, _approve(run, tmp_path, [due, early]), apply=True)
    assert done.record_path is not None and done.record_path.parent == run.evidence / "remediation"
    record = json.loads(done.record_path.read_text())
    assert record["approved_by"] == "Jane Doe <jane@example.com>"
    assert {a["access_key_id"]: a["outcome"] for a in record["actions"]} == {
        due["access_key_id"]: "deactivated",
        early["access_key_id"]: "skipped",
    }
    con = connect(run.warehouse, read_only=True)
    rows = con.execute(
        "select access_key_id, outcome, approved_by, record_path from remediation_actions"
    ).fetchall()
    assert sorted(rows) == sorted(
        [
            (
                due["access_key_id"],
                "deactivated",
                "Jane Doe <jane@example.com>",
                "remediation/" + done.record_path.name,
            ),
            (
                early["access_key_id"],
                "skipped",
                "Jane Doe <jane@example.com>",
                "remediation/" + done.record_path.name,
            ),
        ]
    )
    assert verify_run(con, run.evidence.parent, run.run_id).ok
    done.record_path.write_text("{}")
    found = verify_run(con, run.evidence.parent, run.run_id)
    con.close()
    assert [(d.kind, d.path) for d in found.differences] == [
        ("altered", "remediation/" + done.record_path.name)
    ]


def test_the_next_run_sees_the_key_inactive_and_plans_it_no_more(org, run, tmp_path):
    (key,) = _pick(run, org)
    _remediate(org, run, _approve(run, tmp_path, [key]), apply=True)
    after = _audit(org, tmp_path / "r2", "r2")
    con = connect(after.warehouse, read_only=True)
    status = con.execute(
        "select status from access_keys where run_id = 'r2' and access_key_id = ?",
        [key["access_key_id"]],
    ).fetchone()
    planned = con.execute(
        "select count(*) from remediation_plan where run_id = 'r2' and access_key_id = ?",
        [key["access_key_id"]],
    ).fetchone()
    con.close()
    assert status == ("Inactive",)
    assert planned == (0,)


def test_the_command_is_a_dry_run_unless_told_to_apply(org, run, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import keyaudit.cli.remediate as command
    from keyaudit.cli import app
    from tests.runs import write_config

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return LATER  # the command's clock, on a day every planned key is due

    monkeypatch.setattr(command, "datetime", Later)

    (key,) = _pick(run, org)
    approved = _approve(run, tmp_path, [key])
    config = write_config(
        tmp_path / "keyaudit.toml",
        {"paths": {"warehouse": str(run.warehouse), "evidence_dir": str(run.evidence.parent)}},
    )
    result = CliRunner().invoke(
        app,
        ["remediate", "--run", run.run_id, "--approved", str(approved), "--config", str(config)],
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == f"plan plan-{run.run_id} of run {run.run_id}, dry run: nothing changed (--apply acts)"
    )
    assert lines[1].startswith(
        f"  WOULD DEACTIVATE {key['account_id']} {key['user_name']} {key['access_key_id']}: due since "
    )
    assert _status(org, key) == "Active"
