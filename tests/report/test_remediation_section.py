"""The deactivation plan in the report and in the run's plan files: each planned key with the
day it is deactivated and its warning days; hostile names escaped in HTML and neutralised in
the CSV (keyaudit.report.remediation)."""

from __future__ import annotations

import csv
import json
from typing import Any

from keyaudit.report import build_report_context, remediation
from keyaudit.report.remediation import PLAN_FORMAT, plan_rows, write_plan_files
from keyaudit.report.render import render_html
from tests.report.report_rows import AS_OF, FORMULA_USER, HOSTILE, RULES, RUN_ID


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


def test_the_report_lists_the_first_keys_to_go_and_counts_the_rest(shared_db, monkeypatch):
    """A 1,000-account plan has ~150,000 keys: the section fetches only what the report shows
    (HTML_PLAN_LIMIT, the PDF fewer), earliest deactivation first, and names the files with all."""
    every = plan_rows(shared_db, RUN_ID)
    assert len(every) >= 2, "the given run plans more than one key"
    monkeypatch.setattr(remediation, "HTML_PLAN_LIMIT", len(every) - 1)
    monkeypatch.setattr(remediation, "PDF_PLAN_LIMIT", 1)
    context = build_report_context(shared_db, RUN_ID, rules=RULES)
    section = context.remediation
    assert [k["access_key_id"] for k in section["planned"]] == [
        k["access_key_id"] for k in every[:-1]
    ]
    assert section["planned_total"] == len(every)
    html, pdf_html = render_html(context), render_html(context, for_pdf=True)
    assert every[-1]["access_key_id"] not in _table(html)
    assert "1 more planned key: remediation-plan.csv and remediation-plan.json list all" in html
    assert _table(pdf_html).count("<tr>") == 1 + 1  # the header and the first key
    assert (
        f"{len(every) - 1} more planned keys: report.html lists the first {len(every) - 1}, "
        f"remediation-plan.csv all {len(every)}."
    ) in pdf_html


def test_the_plan_files_carry_every_key_whatever_the_report_shows(report_db, tmp_path, monkeypatch):
    monkeypatch.setattr(remediation, "HTML_PLAN_LIMIT", 1)
    _, json_path = write_plan_files(report_db, RUN_ID, tmp_path)
    keys = json.loads(json_path.read_text())["keys"]
    assert [k["access_key_id"] for k in keys] == [
        k["access_key_id"] for k in plan_rows(report_db, RUN_ID)
    ]
    assert len(keys) >= 2
    assert not any("planned_total" in k for k in keys)  # the report's count, not the plan's


def _table(html: str) -> str:
    return html.split('id="remediation-table"', 1)[1].split("</table>", 1)[0]
