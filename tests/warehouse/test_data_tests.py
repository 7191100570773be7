"""Data tests, dbt-style: every model of sql/staging, sql/marts and sql/views declares in its
folder's schema.yml the keys that must be unique, the columns that must be filled and the
values a column may take, and every declaration holds on two warehouses: the demo's (the
session's demo run, tests/conftest.py) and the report tests' two runs (tests/report/report_rows:
waivers that cover nothing, resolved and new findings). A model without a declaration, a
declaration that does not hold, or a model with no rows in either warehouse (its checks could
not fail) fails here by model and column."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from keyaudit.paths import SQL_DIR
from keyaudit.warehouse.db import connect
from tests.report.report_rows import make_warehouse
from tests.runs import DemoRun
from tests.warehouse.data_tests import (
    MODEL_FOLDERS,
    NotNull,
    declarations,
    failures,
    models,
)


@pytest.fixture(scope="module")
def demo_warehouse(demo_run: DemoRun):
    con = connect(demo_run.warehouse, read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def two_run_warehouse(tmp_path_factory: pytest.TempPathFactory):
    con = make_warehouse(tmp_path_factory.mktemp("data-tests") / "two-runs.duckdb")
    yield con
    con.close()


@pytest.fixture(scope="module")
def demo_checked(demo_warehouse) -> tuple[list[str], dict[str, int]]:
    counts: dict[str, int] = {}
    return failures(demo_warehouse, declarations(), counts), counts


@pytest.fixture(scope="module")
def two_runs_checked(two_run_warehouse) -> tuple[list[str], dict[str, int]]:
    counts: dict[str, int] = {}
    return failures(two_run_warehouse, declarations(), counts), counts


def test_every_declaration_holds_on_the_demo_warehouse(demo_checked):
    broken, _ = demo_checked
    assert broken == [], "\n".join(broken)


def test_every_declaration_holds_on_two_runs_with_waivers_and_resolved_findings(two_runs_checked):
    broken, _ = two_runs_checked
    assert broken == [], "\n".join(broken)


def test_every_model_has_rows_to_check_in_one_of_the_warehouses(demo_checked, two_runs_checked):
    (_, demo), (_, two_runs) = demo_checked, two_runs_checked
    assert set(demo) == set(two_runs) == set(models())
    assert sorted(m for m in models() if demo[m] == 0 and two_runs[m] == 0) == []


def test_a_column_null_by_definition_is_checked_where_it_must_be_filled(two_run_warehouse):
    """A waiver that covers nothing has no finding, so no rule: every other row has one."""
    declared = declarations()["waiver_matches"]
    everywhere = replace(declared, unique=(), not_null=(NotNull("rule_id"),), accepted_values={})
    where_covered = replace(everywhere, not_null=(NotNull("rule_id", "finding_id is not null"),))
    wrong_condition = replace(everywhere, not_null=(NotNull("rule_id", "finding_id is null"),))
    assert failures(two_run_warehouse, {"waiver_matches": where_covered}) == []
    assert [f.split(": [")[0] for f in failures(two_run_warehouse, {"w": everywhere})] == [
        "waiver_matches: not_null (rule_id)"
    ]
    assert [f.split(": [")[0] for f in failures(two_run_warehouse, {"w": wrong_condition})] == [
        "waiver_matches: not_null (rule_id where finding_id is null)"
    ]


def test_every_model_has_a_declaration_with_a_unique_key():
    declared = declarations()
    assert sorted(set(models()) - set(declared)) == [], "models without an entry in schema.yml"
    assert sorted(set(declared) - set(models())) == [], "schema.yml entries without a model"
    assert [name for name, d in declared.items() if not d.unique] == [], "models without a key"


def test_a_new_view_without_a_declaration_is_found(tmp_path: Path):
    for folder in MODEL_FOLDERS:
        shutil.copytree(SQL_DIR / folder, tmp_path / folder)
    (tmp_path / "views" / "keys_by_region.sql").write_text(
        "select run_id, last_used_region, count(*) as count_keys from keys group by all\n"
    )
    assert set(models(tmp_path)) - set(declarations(tmp_path)) == {"keys_by_region"}


def test_a_declaration_that_does_not_hold_fails_by_model_and_column(demo_warehouse):
    declared = declarations()
    broken = {
        # a key that is not one: a run has many keys
        "keys": replace(declared["keys"], unique=(("run_id",),), not_null=(), accepted_values={}),
        # a column that is not always filled: findings about an account name no user
        "findings_open": replace(
            declared["findings_open"],
            unique=(),
            not_null=(NotNull("user_name"),),
            accepted_values={},
        ),
        # values narrower than the data: the demo has findings of every headline severity
        "finding_lifecycle": replace(
            declared["finding_lifecycle"],
            unique=(),
            not_null=(),
            accepted_values={"severity": ["critical"]},
        ),
    }
    found = failures(demo_warehouse, broken)
    assert [line.split(":")[0] for line in found] == [
        "keys",
        "findings_open",
        "finding_lifecycle",
    ]
    assert found[0].startswith("keys: unique (run_id): [(")
    assert found[1].startswith("findings_open: not_null (user_name): [(")
    assert found[2].startswith("finding_lifecycle: accepted_values (severity): [('")
    assert "'critical'" not in found[2]


@pytest.mark.parametrize("warehouse", ["demo_warehouse", "two_run_warehouse"])
def test_the_open_findings_are_the_findings_not_waived(warehouse, request):
    """sql/report/review_population.sql reads the run's findings not waived instead of the
    findings_open view (whose lifecycle columns cost a window over every run's findings): the two
    must be the same rows in every run."""
    con = request.getfixturevalue(warehouse)
    view = set(con.execute("select run_id, finding_id from findings_open").fetchall())
    table = set(con.execute("select run_id, finding_id from findings where not waived").fetchall())
    assert view == table
    assert view, "the warehouse has open findings to compare"
