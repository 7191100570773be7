"""The report states how long its delivered copies are kept: the S3 Object Lock the run was
configured with (mode and retain-until date, re-computable as as-of + days), or that there is
none. The report is rendered before delivery, so it states the policy, not an outcome."""

from __future__ import annotations

import json

import pytest
from report_rows import RULES, RUN_ID
from test_report_html import parse, words

from keyaudit.report import build_report_context, render_html


def retention_line(con, s3: dict | None) -> str:
    config = {"report": {"title": "AWS access key audit"}}
    if s3 is not None:
        config["delivery"] = {"s3": s3}
    con.execute("update runs set config_json = ? where run_id = ?", [json.dumps(config), RUN_ID])
    html = render_html(build_report_context(con, RUN_ID, rules=RULES))
    return words(parse(html).by_id["evidence-retention"])


def test_compliance_retention_is_stated_with_its_date_and_how_it_is_computed(report_db):
    line = retention_line(
        report_db,
        {"bucket": "acme-audit", "retention_days": 365, "retention_mode": "compliance"},
    )
    assert line == (
        "Delivered copies: every file of this run that keyaudit delivers to s3://acme-audit/ is "
        "written with S3 Object Lock in COMPLIANCE mode until 2027-12-01T06:00:00Z (the run's "
        "as-of 2026-12-01T06:00:00Z + 365 days, UTC): no one, the AWS account's root user "
        "included, can change or delete them before that date. This is the retention the run "
        "was configured with; a bucket without Object Lock receives nothing."
    )


def test_governance_retention_names_who_can_still_remove_the_copies(report_db):
    line = retention_line(report_db, {"bucket": "acme-audit", "retention_days": 1})
    assert "in GOVERNANCE mode until 2026-12-02T06:00:00Z" in line
    assert "+ 1 day, UTC" in line
    assert "except by someone allowed s3:BypassGovernanceRetention" in line


@pytest.mark.slow  # a whole run again: make test-slow
def test_without_retention_the_report_says_the_copies_can_be_changed(report_db):
    expected = (
        "No retention: the delivered copies can be changed or deleted ([delivery.s3] "
        "retention_days was not set for this run)."
    )
    assert retention_line(report_db, None) == expected
    assert retention_line(report_db, {"bucket": "acme-audit", "retention_days": 0}) == expected
    # retention without a bucket delivers nothing to lock
    assert retention_line(report_db, {"bucket": "", "retention_days": 30}) == expected
