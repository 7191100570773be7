"""The deactivation plan in the report and in the run's plan files: each planned key with the
day it is deactivated and its warning days; hostile names escaped in HTML and neutralised in
the CSV (keyaudit.report.remediation)."""

from __future__ import annotations

import csv
import json
from typing import Any

from keyaudit.report.remediation import PLAN_FORMAT, write_plan_files
from tests.report.report_rows import AS_OF, FORMULA_USER, HOSTILE, RUN_ID


def test_the_report_lists_each_planned_key_with_its_deactivation_day(shared_context, shared_html):
    section = shared_context.remediation
    assert section["plan_id"] == f"plan-{RUN_ID}"
    assert section["planned"], "the given run has active keys with open findings"
    assert 'id="remediation-table"' in shared_html
    for key in section["planned"]:
        assert key["access_key_id"] in shared_html
        assert f"<strong>{key['deactivate_on']}</strong>" in shared_html
        assert key["deactivate_on"] >= AS_OF.date().isoformat()
    assert HOSTILE not in shared_html  # escaped like every other name


def test_the_plan_files_carry_what_the_approver_signs_off(report_db, tmp_path):
    report_db.execute(  # a user name a spreadsheet would run as a formula
        "update remediation_plan set user_name = ? where access_key_id = 'AKIAALICE00000000001'",
        [FORMULA_USER],
    )
    csv_path, json_path = write_plan_files(report_db, RUN_ID, tmp_path)
    document: dict[str, Any] = json.loads(json_path.read_text())
    assert (document["format"], document["plan_id"], document["run_id"]) == (
        PLAN_FORMAT,
        f"plan-{RUN_ID}",
        RUN_ID,
    )
    assert document["as_of"] == AS_OF.isoformat()
    for key in document["keys"]:
        assert set(key) >= {
            "account_id",
            "user_name",
            "access_key_id",
            "finding_ids",
            "deactivate_on",
            "warn_on",
            "key_status",
            "key_last_used_at",
        }
        assert key["key_status"] == "Active"
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert [r["access_key_id"] for r in rows] == [k["access_key_id"] for k in document["keys"]]
    assert {r["user_name"] for r in rows} == {"'" + FORMULA_USER, "bob"}
    assert FORMULA_USER in {k["user_name"] for k in document["keys"]}  # the JSON keeps it as is
    assert oct(json_path.stat().st_mode & 0o777) == "0o600"
