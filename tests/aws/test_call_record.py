"""The run's own record of its AWS calls (keyaudit.sources.aws.calls): every call counted once, per
account and for the run as a whole, kept in the evidence (collection.json, run.json) and the
warehouse (api_calls), and listed by the report's methodology exactly as recorded — never from a
list written by hand."""

from __future__ import annotations

import html as html_lib
import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import duckdb
import pytest

from keyaudit import pipeline
from keyaudit.config import Config
from keyaudit.evidence.run_record import with_api_calls
from keyaudit.model import add_calls
from keyaudit.report.methodology import provenance
from keyaudit.sources.aws.calls import CallRecord
from keyaudit.sources.demo import simulated_organization
from tests.runs import AS_OF, isolated, simulated_source, stub_pdf, write_config

RUN_ID = "20261201T060000Z-ca11ed"


class IndependentCount:
    """A second count of every call on every session of the run, kept by the test itself."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def customize(self, account_id: str, session: boto3.Session) -> None:
        def count(model: Any, **_: Any) -> None:
            with self._lock:
                self.calls[f"{model.service_model.signing_name}:{model.name}"] += 1

        session.events.register("before-parameter-build", count)


@dataclass
class Run:
    folder: Path
    org: Any
    counted: Counter[str]

    @property
    def evidence(self) -> Path:
        return self.folder / "evidence" / RUN_ID

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """`sql` on the run: its first `?` is the run id, the others `params`."""
        con = duckdb.connect(str(self.folder / "keyaudit.duckdb"), read_only=True)
        try:
            return con.execute(sql, [RUN_ID, *params]).fetchall()
        finally:
            con.close()

    def recorded(self) -> dict[str, int]:
        return {
            f"{service}:{operation}": int(calls)
            for service, operation, calls in self.rows(
                "select service, operation, sum(calls) from api_calls where run_id = ? group by all"
            )
        }


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """The demo organization audited with privilege collection on (the default), report included."""
    folder = tmp_path_factory.mktemp("calls")
    count = IndependentCount()
    with isolated(folder), stub_pdf(), simulated_organization(AS_OF, members=3) as org:
        request = pipeline.AuditRequest(
            source="demo",
            config_file=write_config(folder / "keyaudit.toml", Config(), data_dir=folder),
            as_of=AS_OF,
            out=folder / "reports" / RUN_ID,
            run_id=RUN_ID,
        )
        pipeline.run_audit(
            request, now=lambda: AS_OF, open_source=simulated_source(org, count.customize)
        )
        yield Run(folder, org, count.calls)


@pytest.mark.slow  # a whole run again: make test-slow
def test_every_call_the_run_made_is_recorded_once(run):
    assert run.recorded() == dict(run.counted)


@pytest.mark.slow  # a whole run again: make test-slow
def test_the_record_names_the_privilege_and_credential_calls(run):
    recorded = run.recorded()
    for call in (
        "iam:GetAccountAuthorizationDetails",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:GenerateCredentialReport",
        "iam:GetCredentialReport",
        "iam:ListUsers",
        "iam:ListAccessKeys",
        "iam:GetAccessKeyLastUsed",
        "iam:GetAccountSummary",
        "sts:AssumeRole",
        "sts:GetCallerIdentity",
        "organizations:ListAccounts",
        "organizations:ListPolicies",
    ):
        assert recorded.get(call, 0) > 0, call


@pytest.mark.slow  # a whole run again: make test-slow
def test_the_methodology_lists_exactly_the_recorded_calls(run):
    html = (run.folder / "reports" / RUN_ID / "report.html").read_text(encoding="utf-8")
    table = html[html.index('id="api-calls-table"') : html.index('id="frameworks"')]
    listed = {
        html_lib.unescape(name): int(calls.replace(",", ""))
        for name, calls in re.findall(
            r'<td class="mono">([^<]+)</td><td class="num">([^<]+)</td>', table
        )
    }
    assert listed == run.recorded()
    total = sum(listed.values())
    assert f"({total} calls;" in html[html.index('id="api-calls-intro"') :]


@pytest.mark.slow  # a whole run again: make test-slow
def test_each_account_keeps_its_own_calls_and_run_json_the_runs_own(run):
    management = run.org.management_account_id
    member = next(
        a.account_id
        for a in run.org.accounts
        if a.state == "ACTIVE" and a.account_id not in (management, run.org.missing_role_account_id)
    )
    outcome = json.loads((run.evidence / member / "collection.json").read_text())
    assert outcome["calls"]["sts:AssumeRole"] == 1  # the role it was reached through
    assert outcome["api_calls"] == sum(outcome["calls"].values())
    own = json.loads((run.evidence / management / "collection.json").read_text())["calls"]
    assert "sts:AssumeRole" not in own  # the caller's account: its own credentials
    meta = json.loads((run.evidence / "run.json").read_text())
    assert meta["api_calls"]["sts:GetCallerIdentity"] == 1
    assert {name.split(":")[0] for name in meta["api_calls"]} == {"organizations", "sts"}
    assert "sts:AssumeRole" not in meta["api_calls"]
    run_level = run.rows(
        "select service || ':' || operation, calls from api_calls "
        "where run_id = ? and account_id is null"
    )
    assert dict(run_level) == meta["api_calls"]


@pytest.mark.slow  # a whole run again: make test-slow
def test_an_account_whose_role_was_refused_made_that_one_call(run):
    missing = run.org.missing_role_account_id
    assert run.rows(
        "select service, operation, calls from api_calls where run_id = ? and account_id = ?",
        missing,
    ) == [("sts", "AssumeRole", 1)]


def test_assume_role_counts_for_the_account_it_opens_and_a_take_empties_it():
    record = CallRecord()
    session = boto3.Session(region_name="us-east-1")
    record.attach(session, None)
    params = {"RoleArn": "arn:aws:iam::111122223333:role/Audit", "RoleSessionName": "s"}
    sts = session.client("sts")
    model = sts.meta.service_model.operation_model("AssumeRole")
    session.events.emit(
        "before-parameter-build.sts.AssumeRole", model=model, params=params, context={}
    )
    who = sts.meta.service_model.operation_model("GetCallerIdentity")
    session.events.emit(
        "before-parameter-build.sts.GetCallerIdentity", model=who, params={}, context={}
    )
    assert record.take("111122223333") == {"sts:AssumeRole": 1}
    assert record.take("111122223333") == {}
    assert record.take(None) == {"sts:GetCallerIdentity": 1}


def test_a_resumed_run_adds_its_calls_to_those_recorded():
    meta = with_api_calls({"run_id": "r"}, {"sts:GetCallerIdentity": 1})
    meta = with_api_calls(meta, {"sts:GetCallerIdentity": 1, "organizations:ListRoots": 1})
    assert meta["api_calls"] == {"organizations:ListRoots": 1, "sts:GetCallerIdentity": 2}
    assert add_calls() == {}


@pytest.mark.parametrize("source", ["aws", "demo", "files"])
def test_the_methodology_text_names_no_api_by_hand(source):
    words = provenance(source, [], [])
    for text in (words["collected"], words["kept"]):
        assert not re.search(r"\b(Get|List|Generate|Describe|Assume)[A-Z]\w+", text), text


def test_a_run_that_made_no_session_records_no_call():
    from keyaudit.sources.provider import Source

    def never() -> Any:
        raise AssertionError("a files run makes no AWS session")

    assert Source("files", never, SimpleNamespace()).run_calls() == {}  # type: ignore[arg-type]
