"""The report's key facts agree with the keys mart the rules read, whichever way last use was
collected: with `collection.last_used = "report"` GetAccessKeyLastUsed is not called, so last
use comes from the credential report — and the report must not call those keys "never used"."""

from __future__ import annotations

import csv

import duckdb
import pytest

from keyaudit.config import load_config
from tests.runs import make_demo_run

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["api", "report"])
def run(request, tmp_path_factory):
    if request.param == load_config(environ={}).collection.last_used:  # the default: shared run
        return request.getfixturevalue("demo_run")
    config = load_config(environ={"KEYAUDIT_COLLECTION__LAST_USED": request.param})
    return make_demo_run(tmp_path_factory.mktemp(f"last-used-{request.param}"), config=config)


def test_exported_last_use_of_every_key_finding_is_the_keys_mart_last_use(run):
    with (run.report_dir / "findings.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # an SSH key, service-specific credential or certificate has no access key id to compare
    exported = [row for row in rows if row["access_key_id"]]
    assert {row["credential_kind"] for row in exported} == {"access_key"}
    assert all(row["access_key_id"] == row["credential_id"] for row in exported)
    others = [row for row in rows if row["credential_kind"] not in ("access_key", "")]
    assert others, "the demo has SSH key, service-specific credential and certificate findings"
    assert not any(row["access_key_id"] for row in others)
    con = duckdb.connect(str(run.warehouse), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        mart = dict(
            con.execute(
                "select access_key_id, strftime(last_used_at, '%Y-%m-%dT%H:%M:%SZ') from keys "
                "where run_id = ? and access_key_id is not null",
                [run.run_id],
            ).fetchall()
        )
    finally:
        con.close()
    assert len(exported) > 50
    assert {r["access_key_id"]: r["key_last_used_at"] or None for r in exported} == {
        r["access_key_id"]: mart[r["access_key_id"]] for r in exported
    }
    assert any(r["key_last_used_at"] for r in exported)  # used keys are not "never used"
