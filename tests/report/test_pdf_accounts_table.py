"""The PDF's Accounts table at any organization size: every account while they fit, past
PDF_ACCOUNTS_LIMIT the accounts with the most open findings and one line totalling the others,
so the PDF's counts still cover every account (keyaudit.report.accounts.accounts_table_for_pdf)."""

from __future__ import annotations

import re

from keyaudit.report import render
from keyaudit.report.accounts import accounts_table_for_pdf
from keyaudit.report.render import render_html


def _account(account_id: str, open_by: tuple[int, int, int, int], status="assessed", waived=0):
    assessed = status in ("assessed", "partial")
    return {
        "account_id": account_id,
        "status": status,
        "is_assessed": assessed,
        "open_findings": sum(open_by) if assessed else None,
        "open_by_severity": dict(zip(("critical", "high", "medium", "low"), open_by, strict=True))
        | {"other": 0},
        "waived_findings": waived,
    }


def test_every_account_is_listed_by_id_while_they_fit():
    accounts = [_account("111111111111", (0, 0, 1, 0)), _account("222222222222", (3, 0, 0, 0))]
    table = accounts_table_for_pdf(accounts, list(reversed(accounts)), limit=2)
    assert table == {"rows": accounts, "capped": False, "rest": None}


def test_past_the_limit_the_worst_are_listed_and_the_others_totalled():
    worst = _account("333333333333", (5, 1, 0, 0))
    second = _account("111111111111", (1, 2, 0, 0), waived=4)
    clean = _account("222222222222", (0, 0, 0, 0), waived=1)
    down = _account("444444444444", (0, 0, 0, 0), status="not_assessed")
    idle = _account("555555555555", (0, 0, 0, 0), status="skipped")
    small = _account("666666666666", (0, 0, 2, 3), status="partial")
    by_id = [second, clean, worst, down, idle, small]
    ranked = [worst, second, small, clean, down, idle]
    table = accounts_table_for_pdf(by_id, ranked, limit=2)
    assert table["capped"] is True
    assert [a["account_id"] for a in table["rows"]] == ["333333333333", "111111111111"]
    assert table["rest"] == {
        "count": 4,
        "assessed": 2,  # a partial account is assessed
        "not_assessed": 1,
        "skipped": 1,
        "open_findings": 5,  # never a count for the account whose keys were not read
        "open_by_severity": {"critical": 0, "high": 0, "medium": 2, "low": 3},
        "waived_findings": 1,
    }


def test_the_pdf_says_it_lists_the_worst_and_totals_the_rest(shared_context, monkeypatch):
    accounts = shared_context.summary.accounts
    assert len(accounts) >= 3, "the given run has several accounts"
    monkeypatch.setattr(render, "PDF_ACCOUNTS_LIMIT", 1)
    pdf_html = render_html(shared_context, for_pdf=True)
    table = pdf_html.split('id="accounts-table"', 1)[1].split("</table>", 1)[0]
    worst = shared_context.account_detail.ranked_accounts[0]
    body_rows = re.findall(r"<tr[ >].*?</tr>", table.split("<tbody>", 1)[1], re.S)
    assert len(body_rows) == 2 and worst["account_id"] in body_rows[0]
    assert 'id="accounts-rest"' in body_rows[1]
    assert f"{len(accounts) - 1:,} other accounts:" in body_rows[1]
    others = [a for a in accounts if a["account_id"] != worst["account_id"] and a["is_assessed"]]
    assert f"<strong>{sum(a['open_findings'] for a in others):,}</strong>" in body_rows[1]
    assert 'id="accounts-capped"' in pdf_html
    assert "with the most open findings" in pdf_html


def test_the_html_lists_every_account_whatever_the_pdf_limit(shared_context, monkeypatch):
    monkeypatch.setattr(render, "PDF_ACCOUNTS_LIMIT", 1)
    html = render_html(shared_context)
    for account in shared_context.summary.accounts:
        assert f'id="account-row-{account["account_id"]}"' in html
    assert 'id="accounts-rest"' not in html
