"""Running the demo again into the same warehouse shows no made-up change (issue 20.7).

`keyaudit demo` builds its simulated organization at the warehouse's first demo run
(keyaudit.warehouse.demo_anchor) and lives the demo's own months from there
(keyaudit.sources.demo.changes): a key keeps one id and one creation time in every run. A run
minutes after another changes nothing; runs a month apart, and months apart, show exactly what
the simulation changed — the keys rotated and deleted, the keys that aged past a limit — and
nothing else. Runs go through the pipeline's own demo source, with the clock injected."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from keyaudit import pipeline
from keyaudit.cli import app
from keyaudit.config import Config
from keyaudit.model import KeyauditError
from keyaudit.sources.demo import ExpectedFinding, simulated_organization
from keyaudit.sources.demo.changes import add_months
from keyaudit.warehouse.demo_anchor import demo_anchor
from tests.runs import isolated, stub_pdf, write_config

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

T1 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
MINUTES_LATER = T1 + timedelta(minutes=7)
A_MONTH_LATER = add_months(T1, 1)
MONTHS_LATER = add_months(T1, 3) + timedelta(days=5, hours=3)
runner = CliRunner()


def identity(f: ExpectedFinding) -> tuple[Any, ...]:
    return (f.rule_id, f.account_id, f.user_name, f.access_key_id or f.key_slot)


@dataclass
class Warehouse:
    folder: Path
    runs: dict[datetime, str] = field(default_factory=dict)

    @property
    def db(self) -> Path:
        return self.folder / "keyaudit.duckdb"

    def run(self, as_of: datetime) -> str:
        run_id = f"{as_of:%Y%m%dT%H%M%SZ}-rerun"
        request = pipeline.AuditRequest(
            source="demo",
            config_file=self.folder / "keyaudit.toml",
            as_of=as_of,
            out=self.folder / "reports" / run_id,
            run_id=run_id,
        )
        pipeline.run_audit(request, now=lambda: as_of)
        self.runs[as_of] = run_id
        return run_id

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        con = duckdb.connect(str(self.db), read_only=True)
        try:
            return [tuple(r) for r in con.execute(sql, list(params)).fetchall()]
        finally:
            con.close()

    def found(self, view: str, as_of: datetime) -> set[tuple[Any, ...]]:
        rows = self.query(
            "select rule_id, account_id, user_name, coalesce(access_key_id, "
            f"cast(key_slot as varchar)) from {view} where run_id = ?",
            self.runs[as_of],
        )
        return {(r, a, u, int(k) if k and k.isdigit() else k) for r, a, u, k in rows}

    def changes_between(self, earlier: datetime, later: datetime) -> list[tuple[Any, ...]]:
        """The saved query changes_between_runs, as an auditor runs it."""
        result = runner.invoke(
            app,
            [
                "query", "--db", str(self.db), "--format", "json", "--file",
                "changes_between_runs", "--param", f"from_run={self.runs[earlier]}",
                "--param", f"to_run={self.runs[later]}",
            ],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        return [
            (
                r["change"],
                r["rule_id"],
                r["account_id"],
                r["user_name"],
                r["access_key_id"] or r["key_slot"],
            )
            for r in json.loads(result.stdout)
        ]


def truth(as_of: datetime) -> set[tuple[Any, ...]]:
    with simulated_organization(as_of, anchor=T1) as org:
        return {identity(f) for f in org.expected}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    folder = tmp_path_factory.mktemp("reruns")
    with isolated(folder), stub_pdf():
        write_config(folder / "keyaudit.toml", Config(), data_dir=folder)
        found = Warehouse(folder)
        for as_of in (T1, MINUTES_LATER, A_MONTH_LATER, MONTHS_LATER):
            found.run(as_of)
        yield found


def test_a_run_minutes_later_changes_nothing(warehouse):
    run = warehouse.runs[MINUTES_LATER]
    assert warehouse.query("select previous_run_id from previous_runs where run_id = ?", run) == [
        (warehouse.runs[T1],)
    ]
    assert warehouse.found("findings_new", MINUTES_LATER) == set()
    assert warehouse.found("findings_resolved", MINUTES_LATER) == set()
    same = "select finding_id from findings where run_id = ? order by 1"
    assert warehouse.query(same, run) == warehouse.query(same, warehouse.runs[T1])


def test_every_key_keeps_its_creation_time_in_every_run(warehouse):
    created = warehouse.query(
        "select access_key_id, count(distinct create_date), count(distinct run_id) "
        "from access_keys group by 1"
    )
    assert created and all(times == 1 for _, times, _ in created)
    assert max(runs for _, _, runs in created) == len(warehouse.runs)


@pytest.mark.parametrize(
    ("earlier", "later"), [(MINUTES_LATER, A_MONTH_LATER), (A_MONTH_LATER, MONTHS_LATER)]
)
def test_runs_apart_show_exactly_what_the_simulation_changed(warehouse, earlier, later):
    before, after = truth(earlier), truth(later)
    assert warehouse.found("findings", later) == after
    assert warehouse.found("findings_new", later) == after - before
    assert warehouse.found("findings_resolved", later) == before - after
    assert after - before and before - after  # the month did something
    changes = warehouse.changes_between(earlier, later)
    assert {row[1:] for row in changes if row[0] == "new"} == after - before
    assert {row[1:] for row in changes if row[0] == "resolved"} == before - after
    assert {row[0] for row in changes} == {"new", "resolved"}


def test_no_key_is_both_new_and_resolved_and_nothing_is_remediated_in_0_days(warehouse):
    for as_of in warehouse.runs:
        new = {k for *_, k in warehouse.found("findings_new", as_of) if isinstance(k, str)}
        gone = {k for *_, k in warehouse.found("findings_resolved", as_of) if isinstance(k, str)}
        assert not new & gone, as_of
    assert warehouse.query(
        "select count(*) from findings_resolved where days_to_remediate = 0"
    ) == [(0,)]


def test_a_demo_run_before_the_warehouses_first_is_refused_in_one_line(warehouse):
    with pytest.raises(KeyauditError) as caught:
        demo_anchor(warehouse.db, T1 - timedelta(days=1))
    assert str(caught.value) == (
        f"warehouse {warehouse.db} audits a simulated organization first audited as of "
        "2026-11-01T06:00:00+00:00; --as-of 2026-10-31T06:00:00+00:00 is earlier — give "
        "--as-of 2026-11-01T06:00:00+00:00 or later, or another --db for an earlier demo"
    )
    assert demo_anchor(warehouse.db, MONTHS_LATER) == T1
    assert demo_anchor(warehouse.folder / "new.duckdb", MONTHS_LATER) == MONTHS_LATER


def test_the_demo_command_refuses_it_before_making_anything(warehouse, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["demo", "--db", str(warehouse.db), "--as-of", "2026-10-31T06:00:00"]
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"keyaudit: error: warehouse {warehouse.db} audits a simulated organization first "
        "audited as of 2026-11-01T06:00:00+00:00; --as-of 2026-10-31T06:00:00+00:00 is earlier "
        "— give --as-of 2026-11-01T06:00:00+00:00 or later, or another --db for an earlier demo"
    ]
    assert list(tmp_path.iterdir()) == []
