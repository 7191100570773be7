"""The report's remediation commands: filled in with the account and the audit role where the
report knows them, and never an <ACCOUNT_ID> or <ROLE> placeholder a reader could paste."""

from __future__ import annotations

from dataclasses import replace

from report_rows import NOT_ASSESSED, RULES, RUN_ID

from keyaudit.report import build_report_context, render_html
from keyaudit.report.accounts import section_groups

ASSUME = (
    "aws sts assume-role --role-arn arn:aws:iam::<ACCOUNT_ID>:role/<ROLE> "
    "--role-session-name keyaudit-check"
)
RULES_WITH_ASSUME = [
    replace(r, command=ASSUME) if r.rule_id == "ACCOUNT_NOT_ASSESSED" else r for r in RULES
]


def test_an_account_section_fills_the_command_with_its_account_and_the_audit_role():
    counts = [
        {"rule_id": "ACCOUNT_NOT_ASSESSED", "severity": "high", "count_open": 1, "count_waived": 0}
    ]
    rules = {"ACCOUNT_NOT_ASSESSED": {"title": "Not assessed", "command": ASSUME}}
    (group,) = section_groups(counts, [], rules, account_id=NOT_ASSESSED, role="KeyAuditReader")
    assert group["command"] == (
        f"aws sts assume-role --role-arn arn:aws:iam::{NOT_ASSESSED}:role/KeyAuditReader "
        "--role-session-name keyaudit-check"
    )


def test_the_report_shows_no_account_or_role_placeholder(shared_db):
    html = render_html(build_report_context(shared_db, RUN_ID, rules=RULES_WITH_ASSUME))
    assert "&lt;ACCOUNT_ID&gt;" not in html and "&lt;ROLE&gt;" not in html
    assert "<ACCOUNT_ID>" not in html and "<ROLE>" not in html
    assert f"arn:aws:iam::{NOT_ASSESSED}:role/" in html  # the not-assessed account's section


def test_the_report_fills_in_the_role_the_run_recorded(shared_db):
    shared_db.execute(
        "update runs set config_json = ? where run_id = ?",
        ['{"aws": {"role_name": "KeyAuditReader"}}', RUN_ID],
    )
    try:
        html = render_html(build_report_context(shared_db, RUN_ID, rules=RULES_WITH_ASSUME))
    finally:
        shared_db.execute(
            "update runs set config_json = ? where run_id = ?",
            ['{"report": {"title": "AWS access key audit"}}', RUN_ID],
        )
    assert f"arn:aws:iam::{NOT_ASSESSED}:role/KeyAuditReader" in html
    assert "fill in the audit role" not in html
