"""The HTML report: figures equal the warehouse's, hostile values escaped, self-contained."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import jinja2
import pytest
from report_rows import (
    FAILURE,
    GENERATED_AT,
    HOSTILE,
    LONG_NAME,
    RULES,
    RUN_ID,
)

from keyaudit.report import build_report_context, render_html


class _Texts(HTMLParser):
    """The text of every element with an id, and every script element seen."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, str] = {}
        self.scripts = 0
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
        if tag in ("br", "col", "meta", "wbr"):
            return
        element_id = dict(attrs).get("id")
        self._open.append((tag, element_id))
        if element_id:
            self.by_id[element_id] = ""

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, element_id in self._open:
            if element_id:
                self.by_id[element_id] += data


def texts(html: str) -> _Texts:
    parser = _Texts()
    parser.feed(html)
    return parser


def number(parsed: _Texts, element_id: str) -> int:
    return int(parsed.by_id[element_id].strip().replace(",", ""))


@pytest.fixture
def html(report_db) -> str:
    ctx = build_report_context(report_db, RUN_ID, rules=RULES, generated_at=GENERATED_AT)
    return render_html(ctx)


def test_coverage_numbers_equal_the_warehouse(report_db, html):
    statuses = dict(
        report_db.execute(
            "select status, count(*) from accounts where run_id = ? group by 1", [RUN_ID]
        ).fetchall()
    )
    parsed = texts(html)
    assert number(parsed, "cov-in-scope") == statuses["assessed"] + statuses["not_assessed"]
    assert number(parsed, "cov-assessed") == statuses["assessed"]
    assert number(parsed, "cov-not-assessed") == statuses["not_assessed"]
    assert number(parsed, "cov-skipped") == statuses["skipped"]


def test_severity_counts_equal_the_warehouse(report_db, html):
    rows = report_db.execute(
        "select severity, count(*) filter (where not waived), count(*) filter (where waived) "
        "from findings where run_id = ? group by 1",
        [RUN_ID],
    ).fetchall()
    parsed = texts(html)
    for severity, open_count, waived_count in rows:
        assert number(parsed, f"sev-open-{severity}") == open_count
        assert number(parsed, f"sev-waived-{severity}") == waived_count
    assert number(parsed, "total-open") == sum(r[1] for r in rows)
    assert number(parsed, "total-waived") == sum(r[2] for r in rows)


def test_every_finding_is_a_row_of_the_findings_table(report_db, html):
    (count,) = report_db.execute(
        "select count(*) from findings where run_id = ?", [RUN_ID]
    ).fetchone()
    table = html[html.index('id="findings-table"') :]
    table = table[: table.index("</table>")]
    assert table.count('<tr class="finding') == count
    assert number(texts(html), "findings-total") == count


def test_html_carries_every_finding_whatever_the_pdf_limit(report_db):
    ctx = build_report_context(
        report_db, RUN_ID, rules=RULES, generated_at=GENERATED_AT, pdf_detail_limit=3
    )
    html = render_html(ctx)
    assert html.count('<tr class="finding') == 10
    assert "left out" not in html


def test_pdf_variant_caps_the_rows_and_says_how_many_were_left_out(report_db):
    ctx = build_report_context(
        report_db, RUN_ID, rules=RULES, generated_at=GENERATED_AT, pdf_detail_limit=3
    )
    html = render_html(ctx, for_pdf=True)
    assert html.count('<tr class="finding') == 3
    sentence = " ".join(texts(html).by_id["findings-left-out"].split())
    assert sentence == (
        "This PDF lists the first 3 of 10 findings; "
        "7 rows were left out (3 high, 3 medium, 1 low). "
        "The HTML report (report.html) has all of them."
    )


def test_hostile_values_are_escaped(html):
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;" in html
    assert texts(html).scripts == 0


def test_hostile_account_name_reads_back_as_its_text(html):
    assert texts(html).by_id["account-012345678901"].count(HOSTILE) == 2  # name and OU path


def test_long_names_and_errors_are_kept_whole_in_the_html(html):
    assert LONG_NAME in html
    assert texts(html).by_id["not-assessed-table"].count(FAILURE) == 1


def test_incomplete_banner_names_the_count(html):
    banner = " ".join(texts(html).by_id["banner-incomplete"].split())
    assert banner.startswith("INCOMPLETE: 1 account could not be assessed.")


def test_complete_run_has_no_incomplete_banner(report_db):
    report_db.execute("delete from accounts where status = 'not_assessed'")
    report_db.execute("delete from findings where rule_id = 'ACCOUNT_NOT_ASSESSED'")
    report_db.execute("update runs set accounts_in_scope = 1, accounts_not_assessed = 0")
    html = render_html(
        build_report_context(report_db, RUN_ID, rules=RULES, generated_at=GENERATED_AT)
    )
    assert "INCOMPLETE" not in html
    assert "All 1 account in scope were assessed." in " ".join(html.split())


def test_html_is_self_contained(html):
    assert "<style>" in html
    assert "@page" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "@import" not in html
    assert "url(" not in html


def test_a_template_using_a_missing_key_fails_loudly(report_db):
    ctx = build_report_context(report_db, RUN_ID, rules=RULES, generated_at=GENERATED_AT)
    del ctx["coverage"]
    with pytest.raises(jinja2.UndefinedError, match="coverage"):
        render_html(ctx)


def test_rendering_is_deterministic(report_db):
    ctx = build_report_context(report_db, RUN_ID, rules=RULES, generated_at=GENERATED_AT)
    assert render_html(ctx) == render_html(ctx)


def test_missing_templates_folder_is_a_clear_error(report_db, monkeypatch, tmp_path):
    monkeypatch.setattr("keyaudit.report.render.TEMPLATES_DIR", tmp_path / "nowhere")
    ctx = build_report_context(report_db, RUN_ID, rules=RULES, generated_at=GENERATED_AT)
    with pytest.raises(FileNotFoundError, match=r"report templates not found: .*nowhere"):
        render_html(ctx)
