"""The HTML report: figures equal the warehouse's, every finding is in its explorer data,
hostile values are escaped, the page is self-contained, and the PDF variant is bounded."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest
from report_rows import (
    ASSESSED,
    FAILURE,
    HOSTILE,
    LONG_NAME,
    OTHER,
    RULES,
    RUN_ID,
    count,
    open_copy,
)

from keyaudit.paths import TEMPLATES_DIR
from keyaudit.report import ReportContext, build_report_context, render_html


class _Parsed(HTMLParser):
    """The text of every element with an id, the script elements and their contents."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, str] = {}
        self.scripts: list[dict[str, str | None]] = []
        self._open: list[tuple[str, str | None]] = []
        self._script: dict[str, str | None] | None = None

    def _boundary(self) -> None:
        for _, element_id in self._open:
            if element_id:
                self.by_id[element_id] += " "

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "th", "tr", "p", "li", "div", "br"):
            self._boundary()
        attributes = dict(attrs)
        if tag == "script":
            self._script = {"type": attributes.get("type"), "id": attributes.get("id"), "text": ""}
            self.scripts.append(self._script)
        if tag in ("br", "col", "meta", "wbr", "input"):
            return
        element_id = attributes.get("id")
        self._open.append((tag, element_id))
        if element_id:
            self.by_id[element_id] = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th", "tr", "p", "li", "div"):
            self._boundary()
        if tag == "script":
            self._script = None
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self._script is not None:
            self._script["text"] = (self._script["text"] or "") + data
            return
        for _, element_id in self._open:
            if element_id:
                self.by_id[element_id] += data


def parse(html: str) -> _Parsed:
    parser = _Parsed()
    parser.feed(html)
    return parser


def number(parsed: _Parsed, element_id: str) -> int:
    return int(parsed.by_id[element_id].strip().replace(",", ""))


def words(text: str) -> str:
    return " ".join(text.split())


def explorer_data(html: str) -> dict:
    (data,) = [s for s in parse(html).scripts if s["id"] == "fx-data"]
    return json.loads(data["text"])


def test_coverage_numbers_equal_the_warehouse(shared_db, shared_html):
    statuses = dict(
        shared_db.execute(
            "select status, count(*) from accounts where run_id = ? group by 1", [RUN_ID]
        ).fetchall()
    )
    parsed = parse(shared_html)
    assert number(parsed, "cov-in-scope") == statuses["assessed"] + statuses["not_assessed"]
    assert number(parsed, "cov-assessed") == statuses["assessed"]
    assert number(parsed, "cov-not-assessed") == statuses["not_assessed"]
    assert number(parsed, "cov-skipped") == statuses["skipped"]


def test_severity_counts_equal_the_warehouse(shared_db, shared_html):
    rows = shared_db.execute(
        "select severity, count(*) filter (where not waived), count(*) filter (where waived) "
        "from findings where run_id = ? group by 1",
        [RUN_ID],
    ).fetchall()
    parsed = parse(shared_html)
    for severity, open_count, waived_count in rows:
        assert number(parsed, f"sev-open-{severity}") == open_count
        assert number(parsed, f"sev-waived-{severity}") == waived_count
    assert number(parsed, "total-open") == sum(r[1] for r in rows)
    assert number(parsed, "total-waived") == sum(r[2] for r in rows)
    assert number(parsed, "total-new") == count(
        shared_db, "select count(*) from findings_new where run_id = ?", RUN_ID
    )
    assert number(parsed, "total-resolved") == count(
        shared_db, "select count(*) from findings_resolved where run_id = ?", RUN_ID
    )


def test_every_finding_is_in_the_explorer_data(shared_db, shared_html):
    data = explorer_data(shared_html)
    ids = sorted(row[data["columns"].index("finding_id")] for row in data["rows"])
    expected = [
        r[0]
        for r in shared_db.execute(
            "select finding_id from findings where run_id = ? order by 1", [RUN_ID]
        ).fetchall()
    ]
    assert ids == expected
    assert number(parse(shared_html), "fx-total") == len(expected)
    assert [ASSESSED, HOSTILE] in data["accounts"]
    assert ["ACCESS_KEY_NOT_ROTATED", "Active access key not rotated within the limit"] in data[
        "rules"
    ]
    assert data["severities"][:5] == ["critical", "high", "medium", "low", "info"]


def explorer_rows(data: dict) -> list[dict]:
    """The explorer's rows with their indexes resolved, as explorer.js reads them."""
    out = []
    for row in data["rows"]:
        record = dict(zip(data["columns"], row, strict=True))
        record["severity"] = data["severities"][record["severity"]]
        record["rule"] = data["rules"][record["rule"]][0]
        record["account"] = data["accounts"][record["account"]][0]
        out.append(record)
    return out


def test_explorer_rows_carry_key_age_and_last_use(shared_html):
    rows = explorer_rows(explorer_data(shared_html))
    alice = next(r for r in rows if r["key"] == "AKIAALICE00000000001")
    assert (alice["severity"], alice["rule"], alice["account"]) == (
        "high",
        "ACCESS_KEY_NOT_ROTATED",
        ASSESSED,
    )
    assert (alice["age_days"], alice["last_used"], alice["is_new"], alice["waived"]) == (
        212,
        "2026-11-28",
        0,
        0,
    )
    dave = next(r for r in rows if r["user_name"] == "dave")
    assert (dave["key"], dave["is_new"]) == ("slot 2", 1)
    carol = next(r for r in rows if r["user_name"] == "carol")
    assert (carol["waived"], carol["waiver_id"]) == (1, "W-7")


def test_explorer_rows_show_key_facts_as_the_account_tables_do(shared_context, shared_html):
    explorer = {r["finding_id"]: r for r in explorer_rows(explorer_data(shared_html))}
    tables = {
        row["finding_id"]: row
        for s in shared_context.account_detail.account_sections
        for row in s["rows"]
    }
    assert set(tables) <= set(explorer)
    assert [
        (i, explorer[i]["age_days"], explorer[i]["last_used"])
        for i in sorted(tables)
        if (explorer[i]["age_days"], explorer[i]["last_used"])
        != (tables[i]["age_days"], tables[i]["last_used"])
    ] == []
    # a user or account finding names no key: no age, no last use (not "never")
    for finding_id in ("f-alice-mfa", "f-bob-multi", "f-na"):
        assert (explorer[finding_id]["key"], explorer[finding_id]["last_used"]) == (None, None)
    # the root key is known from its credential-report slot, as the keys mart has it
    assert (explorer["f-root"]["key"], explorer["f-root"]["last_used"]) == ("slot 1", "2026-11-24")


@pytest.mark.slow  # renders a large report: make test-slow
def test_a_large_explorer_payload_is_deflated(shared_db, monkeypatch):
    import base64
    import zlib

    monkeypatch.setattr("keyaudit.report.records.EXPLORER_INLINE_LIMIT", 100)
    html = render_html(build_report_context(shared_db, RUN_ID, rules=RULES))
    (data,) = [s for s in parse(html).scripts if s["id"] == "fx-data"]
    assert data["type"] == "application/octet-stream"
    assert 'data-encoding="deflate-base64"' in html
    unpacked = json.loads(zlib.decompress(base64.b64decode(data["text"])))
    assert len(unpacked["rows"]) == count(
        shared_db, "select count(*) from findings where run_id = ?", RUN_ID
    )


def test_account_sections_show_owner_tags_and_rows(shared_html):
    section = words(parse(shared_html).by_id[f"account-{ASSESSED}"])
    assert "Owner not tagged" in section  # tagged owner and team, not owner-email
    assert "cost-center=CC-1" in section
    assert "alice AKIAALICE00000000001 212 2026-11-28 s3, eu-west-1 " in section
    assert (
        "Remediation: # fill in the IAM user's name and the access key id first, then run: "
        "aws iam update-access-key --user-name USER --access-key-id KEY_ID --status Inactive"
    ) in section


def test_hostile_values_are_escaped_everywhere(shared_html):
    assert "<script>alert" not in shared_html
    assert "<img src=x" not in shared_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;" in shared_html
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in shared_html  # in the JSON
    scripts = parse(shared_html).scripts
    assert [(s["type"], s["id"]) for s in scripts] == [
        ("application/json", "fx-data"),
        (None, None),
    ]


def test_hostile_account_name_reads_back_as_its_text(shared_html):
    row = parse(shared_html).by_id[f"account-row-{ASSESSED}"]
    assert row.count(HOSTILE) == 2  # name and OU path


def test_long_names_and_errors_are_kept_whole_in_the_html(shared_html):
    assert LONG_NAME in shared_html
    assert parse(shared_html).by_id["not-assessed-table"].count(FAILURE) == 1


def test_incomplete_banner_names_the_count(shared_html):
    banner = words(parse(shared_html).by_id["banner-incomplete"])
    assert banner.startswith("INCOMPLETE: 1 account could not be assessed.")


def test_cover_and_scope_name_the_run(shared_html):
    parsed = parse(shared_html)
    assert parsed.by_id["cover-run-id"] == RUN_ID
    assert (
        parsed.by_id["scope-caller"].strip()
        == "arn:aws:sts::999988887777:assumed-role/KeyAuditRunner/keyaudit"
    )
    assert words(parsed.by_id["scope-period"]).startswith(
        "2026-11-01 06:00 UTC (previous run 20261101T060000Z-r0) to 2026-12-01 06:00 UTC"
    )
    assert "ACCESS_KEY_NOT_ROTATED: max_key_age_days = 90" in words(
        parsed.by_id["thresholds-list"]
    ).replace("\u202f", " ")


def test_waivers_section_lists_each_status(shared_html):
    parsed = parse(shared_html)
    assert "W-7" in parsed.by_id["waivers-active-table"]
    assert "RISK-7" in parsed.by_id["waivers-active-table"]
    assert "W-8" in parsed.by_id["waivers-expired-table"]
    assert HOSTILE in parsed.by_id["waivers-unused-table"]


def test_waivers_section_lists_reopened_waivers_and_those_that_need_review(shared_context):
    waivers = shared_context.waivers
    due = {**waivers["active"][0], "needs_review": True, "days_left": 14}
    reopened = {
        "waiver_id": "W-7",
        "rule_id": "ACCESS_KEY_NOT_ROTATED",
        "account_id": ASSESSED,
        "user_name": "carol",
        "access_key_id": "AKIANEWKEY0000000002",
        "key_slot": 2,
        "key_created_on": "2026-10-01",
        "granted_on": "2026-09-30",
    }
    context = replace(
        shared_context,
        waivers={**waivers, "active": [due], "needs_review": [due], "reopenings": [reopened]},
    )
    parsed = parse(render_html(context))
    assert words(parsed.by_id["waivers-needs-review-list"]) == (
        f"Waiver W-7 for ACCESS_KEY_NOT_ROTATED on account {ASSESSED}, user carol expires on "
        "2027-03-31 (14 days left): review it."
    )
    assert "needs review" in parsed.by_id["waivers-active-table"]
    assert (
        "new key AKIANEWKEY0000000002 created 2026-10-01, after the waiver was granted on "
        "2026-09-30" in words(parsed.by_id["waivers-reopened-table"])
    )


def test_evidence_appendix_is_a_sha256sum_list(shared_db, shared_html):
    """Every evidence file, then the run manifest: the lines of SHA256SUMS, as verify counts."""
    listing = parse(shared_html).by_id["evidence-list"].strip().splitlines()
    expected = shared_db.execute(
        "select sha256 || '  ' || path from evidence where run_id = ? order by account_id nulls first, path",
        [RUN_ID],
    ).fetchall()
    (manifest,) = shared_db.execute(
        "select manifest_sha256 from runs where run_id = ?", [RUN_ID]
    ).fetchone()
    assert listing == [r[0] for r in expected] + [f"{manifest}  manifest.json"]
    assert parse(shared_html).by_id["evidence-count"] == str(len(expected) + 1)


def test_complete_run_has_no_incomplete_banner(report_db):
    report_db.execute("delete from accounts where status = 'not_assessed'")
    report_db.execute("delete from findings where rule_id = 'ACCOUNT_NOT_ASSESSED'")
    report_db.execute("update runs set accounts_in_scope = 2, accounts_not_assessed = 0")
    html = render_html(build_report_context(report_db, RUN_ID, rules=RULES, with_explorer=False))
    assert "INCOMPLETE" not in html
    assert "All 2 accounts in scope were assessed." in words(html)


def test_partially_assessed_accounts_are_never_called_clean(report_db):
    report_db.execute("delete from accounts where status = 'not_assessed'")
    report_db.execute("delete from findings")
    report_db.execute(f"update accounts set status = 'partial' where account_id = '{ASSESSED}'")
    report_db.execute("update runs set accounts_in_scope = 2, accounts_not_assessed = 0")
    text = words(
        render_html(build_report_context(report_db, RUN_ID, rules=RULES, with_explorer=False))
    )
    assert "All 2 accounts in scope were assessed, 1 of them partially." in text
    assert (
        "No open findings in the 2 assessed accounts (1 of them partially: the rules their "
        "evidence lacks were not evaluated there)."
    ) in text


def test_html_is_self_contained(shared_html):
    assert "<style>" in shared_html
    assert "@page" in shared_html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", shared_html)
    assert "@import" not in shared_html
    assert not re.search(r"url\((?!#)", shared_html)  # only the chart's own patterns and clips


def test_explorer_script_has_no_template_delimiters():
    script = (TEMPLATES_DIR / "explorer.js").read_text(encoding="utf-8")
    for delimiter in ("{{", "{%", "{#"):
        assert delimiter not in script
    assert "innerHTML" not in script


def test_a_template_using_a_missing_key_fails_loudly(shared_context, monkeypatch):
    given = ReportContext.template_names
    monkeypatch.setattr(
        ReportContext,
        "template_names",
        lambda self: {k: v for k, v in given(self).items() if k != "coverage"},
    )
    with pytest.raises(jinja2.UndefinedError, match="coverage"):
        render_html(shared_context)


def test_rendering_is_deterministic(shared_db, shared_html):
    again = render_html(build_report_context(shared_db, RUN_ID, rules=RULES))
    assert again == shared_html


def test_paper_size_is_set_in_the_page_rule(shared_context):
    assert "size: A4;" in render_html(shared_context, for_pdf=True)
    letter = replace(shared_context, paper={"name": "Letter", "css": "letter"})
    assert "size: letter;" in render_html(letter, for_pdf=True)


def test_missing_templates_folder_is_a_clear_error(shared_context, monkeypatch, tmp_path):
    monkeypatch.setattr("keyaudit.report.render.TEMPLATES_DIR", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"report templates not found: .*nowhere"):
        render_html(shared_context)


def test_slice_report_says_which_accounts(shared_db):
    html = render_html(build_report_context(shared_db, RUN_ID, rules=RULES, account_ids=[OTHER]))
    banner = words(parse(html).by_id["banner-slice"])
    assert banner.startswith(f"This report covers 1 selected account of the run: {OTHER}.")
    assert len(explorer_data(html)["rows"]) == 1
    assert f"account-{ASSESSED}" not in html


# --- the PDF variant: detail bounded, left-out rows counted --------------------------------------


@pytest.fixture(scope="module")
def big(big_warehouse_file, tmp_path_factory: pytest.TempPathFactory):
    """240 findings in one account: more than any limit below."""
    con = open_copy(big_warehouse_file, tmp_path_factory.mktemp("big"))
    yield con
    con.close()


def test_pdf_variant_caps_rows_per_account_and_says_where_the_rest_are(big):
    ctx = build_report_context(
        big, RUN_ID, rules=RULES, pdf_rows_per_account=7, pdf_detail_limit=100, with_explorer=False
    )
    html = render_html(ctx, for_pdf=True)
    assert (
        html.count('<tr class="finding') == 7 + 1 + 1
    )  # 7 of ASSESSED, 1 of OTHER and NOT_ASSESSED
    section = words(parse(html).by_id[f"account-{ASSESSED}"])
    assert "of this rule not listed here: see report.html or findings.csv." in section
    total = count(
        big, "select count(*) from findings where run_id = ? and account_id = ?", RUN_ID, ASSESSED
    )
    omitted = sum(
        int(m) for m in re.findall(r"([\d,]+) findings? of this rule not listed here", section)
    )
    assert omitted == total - 7
    assert "<script" not in html


def test_pdf_variant_leaves_out_whole_accounts_past_its_budget(big):
    ctx = build_report_context(
        big, RUN_ID, rules=RULES, pdf_rows_per_account=50, pdf_detail_limit=20, with_explorer=False
    )
    html = render_html(ctx, for_pdf=True)
    assert html.count('<tr class="finding') == 19  # the first section's heading costs one row
    sentence = words(parse(html).by_id["accounts-left-out"])
    assert sentence == (
        "This PDF has sections for 1 of the 3 accounts with findings. The 2 accounts left out "
        "(2 findings) are counted in the table above; their findings are in report.html "
        "(Accounts and All findings) and findings.csv."
    )


def test_html_keeps_every_finding_past_its_inline_limit(big):
    ctx = build_report_context(big, RUN_ID, rules=RULES)
    html = render_html(ctx)
    total = count(big, "select count(*) from findings where run_id = ?", RUN_ID)
    assert len(explorer_data(html)["rows"]) == total
    assert html.count('<tr class="finding') == 50 + 2  # 50 of ASSESSED, 1 of OTHER and NA
    assert 'data-fx-account="012345678901"' in html


def test_no_detail_at_all_when_the_limit_is_zero(big):
    ctx = build_report_context(big, RUN_ID, rules=RULES, pdf_detail_limit=0, with_explorer=False)
    html = render_html(ctx, for_pdf=True)
    assert '<tr class="finding' not in html
    assert "This PDF has sections for 0 of the 3 accounts with findings." in words(html)


@pytest.mark.slow  # renders the demo report twice: make test-slow
def test_written_html_is_byte_identical_across_renders(shared_db, tmp_path: Path):
    from keyaudit.report import write_report

    first = write_report(shared_db, RUN_ID, tmp_path / "a", rules=RULES, formats="html")
    second = write_report(shared_db, RUN_ID, tmp_path / "b", rules=RULES, formats=["html"])
    assert first.html.read_bytes() == second.html.read_bytes()
