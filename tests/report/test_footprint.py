"""The long-term key footprint in the report: the share of accounts free of IAM-user keys on the
scope page, never counting an account not assessed, and the trend chart that says fewer is
better, in the HTML, in a per-owner slice and (once) in the PDF."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from report_rows import NOT_ASSESSED, OTHER, RULES, RUN_ID

from keyaudit.report import build_report_context, render_html
from keyaudit.report.chart import FootprintPoint, footprint_svg
from keyaudit.report.footprint import share
from keyaudit.report.render import render_pdf


def text_of(html: str, element_id: str) -> str:
    """The text of the element with `element_id` (no nesting of its own tag), tags removed."""
    found = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.DOTALL)
    assert found, f"no element {element_id}"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(2)).split()).replace(" ;", ";")


def test_the_scope_page_gives_the_share_of_accounts_free_of_user_keys(shared_html):
    # in scope: ASSESSED (4 active user keys), OTHER (none) and NOT_ASSESSED (unknown)
    assert text_of(shared_html, "footprint-share").startswith(
        "1 of 3 accounts (33%) has no active IAM-user access keys; "
        "the 1 not assessed is never counted as free."
    )


def test_an_account_not_assessed_is_never_counted_free(shared_db):
    context = build_report_context(shared_db, RUN_ID, rules=RULES, account_ids=[NOT_ASSESSED])
    assert context.history.footprint["share"] == {
        "free": 0,
        "accounts": 1,
        "percent": 0,
        "not_assessed": 1,
        "free_with_root_key": 0,
    }
    html = render_html(context)
    assert text_of(html, "footprint-share").startswith(
        "0 of 1 account (0%) have no active IAM-user access keys; the 1 not assessed"
    )
    assert "No account was assessed among these accounts" in text_of(html, "footprint-lead")


def test_a_slice_counts_only_its_accounts(shared_db):
    context = build_report_context(shared_db, RUN_ID, rules=RULES, account_ids=[OTHER])
    current = context.history.footprint["current"]
    assert (current["accounts"], current["free"], current["active_keys"]) == (1, 1, 0)
    assert text_of(render_html(context), "footprint-share").startswith(
        "1 of 1 account (100%) has no active IAM-user access keys."
    )


def test_the_summary_figures_equal_the_key_footprint_view(shared_db, shared_context):
    active, old = shared_db.execute(
        "select sum(count_active_keys), sum(count_active_keys_older_than_365_days) "
        "from key_footprint where run_id = ?",
        [RUN_ID],
    ).fetchone()
    current = shared_context.history.footprint["current"]
    assert (current["active_keys"], current["old_keys"]) == (active, old) == (4, 1)
    # ASSESSED's users' permissions were not read: its keys are in no admin count
    assert (current["admin_keys"], current["admin_unknown_accounts"]) == (0, 1)
    assert [r["run_id"] for r in shared_context.history.footprint["runs"]] == [
        r["run_id"] for r in shared_context.history.trend["runs"]
    ]


def test_the_summary_shows_the_trend_chart_and_says_fewer_is_better(shared_html):
    chart = re.search(
        r'<figure class="chart" id="footprint-chart">(.*?)</figure>', shared_html, re.S
    )
    assert chart and "<svg" in chart.group(1)
    assert "fewer is better" in chart.group(1)  # in the chart itself, as text
    caption = re.search(r"<figcaption>(.*?)</figcaption>", chart.group(1), re.S)
    assert caption and caption.group(1).startswith("<strong>Fewer is better.</strong>")
    lead = text_of(shared_html, "footprint-lead")
    assert lead.startswith("4 active IAM-user access keys held by 3 of 4 IAM users")


def test_the_footprint_chart_shares_no_id_with_the_findings_trend(shared_html):
    ids = re.findall(r'\bid="([^"]+)"', shared_html)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []


def test_the_chart_draws_runs_whose_counts_are_unknown_and_says_fewer_is_better():
    svg = footprint_svg(
        [
            FootprintPoint("a", {"active": 3, "old": 1, "admin": None}),
            FootprintPoint("b", {"active": None, "old": None, "admin": None}),
            FootprintPoint("c", {"active": 2, "old": 0, "admin": 0}, is_current=True),
        ]
    )
    assert svg.startswith("<svg") and "fewer is better" in svg
    assert not re.search(r'\bid="(?!footprint-)', svg)  # every id its own


@pytest.mark.parametrize(
    ("free", "accounts", "percent"), [(199, 200, 99), (1, 300, 1), (0, 5, 0), (5, 5, 100)]
)
def test_the_share_is_never_rounded_to_all_or_none(free, accounts, percent):
    run = {"free": free, "accounts": accounts, "not_assessed": 0, "free_with_root_key": 0}
    assert share(run)["percent"] == percent


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
@pytest.mark.slow  # a whole run again: make test-slow
def test_the_pdf_carries_the_share_and_the_chart_says_fewer_is_better(shared_context, tmp_path):
    path = tmp_path / "report.pdf"
    render_pdf(render_html(shared_context, for_pdf=True), path, Path(tmp_path))
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "1 of 3 accounts (33%) has no active IAM-user access keys" in text
    assert "↓ fewer is better" in text and "Long-term key footprint" in text


def test_other_credentials_not_listed_are_unknown_never_zero(shared_html):
    # the given run lists no SSH keys or service-specific credentials: unknown, not none
    assert text_of(shared_html, "footprint-other-credentials").replace(" ,", ",") == (
        "Other long-term credentials of IAM users, active: SSH public keys unknown, "
        "service-specific credentials unknown, 0 signing certificates (SSH keys and "
        "service-specific credentials not listed in 2 accounts). No AWS API reports when these "
        "were last used; their rules judge age and expiry."
    )
