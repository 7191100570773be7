"""The HTML report's findings explorer in a real headless browser: Debian's chromium driven by
Playwright, offline (file:// page, no network). `make test-deps` (a step of `make test`) installs
chromium: scripts/system-deps.sh test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from report_rows import ASSESSED, HOSTILE, OTHER, RULES, RUN_ID, count, open_copy

from keyaudit.report import write_report

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="/usr/bin/chromium is missing: run `make test-deps` (under CI this test must run)",
)
# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = [pytestmark, pytest.mark.slow]


@pytest.fixture(scope="module")
def report(big_warehouse_file, tmp_path_factory) -> Iterator[tuple[Path, int, int]]:
    """A report with 241 findings (more than two pages of 100) and its counts by severity."""
    folder = tmp_path_factory.mktemp("browser")
    con = open_copy(big_warehouse_file, folder)
    try:
        files = write_report(con, RUN_ID, folder / "out", rules=RULES, formats="html")
        total = count(con, "select count(*) from findings where run_id = ?", RUN_ID)
        critical = count(
            con, "select count(*) from findings where run_id = ? and severity = 'critical'", RUN_ID
        )
    finally:
        con.close()
    assert files.html is not None
    yield files.html, total, critical


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, report):
    context = browser.new_context()
    # Nothing may leave the page: any request other than the file itself fails the test.
    requests: list[str] = []
    context.route("**/*", lambda route: (requests.append(route.request.url), route.continue_()))
    page = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(report[0].as_uri())
    page.wait_for_selector("#fx-body tr")
    yield page
    assert errors == []
    assert dialogs == []  # hostile names never ran as script
    assert [url for url in requests if not url.startswith("file://")] == []
    context.close()


def rows(page) -> int:
    return page.locator("#fx-body tr").count()


def test_explorer_shows_the_first_page_and_the_total(page, report):
    _, total, _ = report
    assert rows(page) == 100
    assert page.locator("#fx-count").inner_text() == (
        f"Showing 1–100 of {total} matching findings ({total} in all)."
    )
    assert page.locator("#fx-page").inner_text() == "Page 1 of 3"


def test_severity_filter_shows_only_that_severity(page, report):
    _, total, critical = report
    page.select_option("#fx-severity", "critical")
    assert page.locator("#fx-count").inner_text() == (
        f"Showing 1–{critical} of {critical} matching findings ({total} in all)."
    )
    badges = page.locator("#fx-body tr td:first-child").all_inner_texts()
    assert {b.strip().lower() for b in badges} == {"critical"}


def test_sorting_by_age_puts_the_oldest_key_first_then_reverses(page):
    page.click("th[data-sort=age_days] button")
    assert page.get_attribute("th[data-sort=age_days]", "aria-sort") == "descending"
    first = page.locator("#fx-body tr").first.locator("td").nth(5).inner_text()
    assert first == "689"  # the root key
    page.click("th[data-sort=age_days] button")
    assert page.get_attribute("th[data-sort=age_days]", "aria-sort") == "ascending"
    ages = page.locator("#fx-body tr td:nth-child(6)").all_inner_texts()
    assert ages[0] == "—"  # findings without a key sort before every age


def test_sorting_by_user_orders_the_rows(page):
    page.click("th[data-sort=user_name] button")
    users = [u for u in page.locator("#fx-body tr td:nth-child(4)").all_inner_texts() if u != "—"]
    assert users == sorted(users, key=str.lower)


def test_search_finds_a_key_and_shows_hostile_text_as_text(page):
    page.fill("#fx-search", "AKIAALICE")
    page.wait_for_function("document.querySelectorAll('#fx-body tr').length === 1")
    row = page.locator("#fx-body tr").first
    assert "<img src=x onerror=alert(2)>" in row.inner_text()
    assert HOSTILE in row.inner_text()  # the account's name, as text
    assert page.locator("#fx-body img").count() == 0


def test_status_filter_and_pages(page, report):
    _, total, _ = report
    page.select_option("#fx-status", "waived")
    assert rows(page) == 1
    page.select_option("#fx-status", "")
    page.click("#fx-next")
    assert page.locator("#fx-page").inner_text() == "Page 2 of 3"
    page.click("#fx-next")
    assert rows(page) == total - 200
    assert page.is_disabled("#fx-next")


def test_account_link_filters_the_explorer(page, report):
    _, total, _ = report
    expected = total - 2  # every finding but OTHER's and the not assessed account's
    page.click(f'a[data-fx-account="{ASSESSED}"]')
    assert page.input_value("#fx-account") == ASSESSED
    assert page.input_value("#fx-rule") != ""
    page.select_option("#fx-rule", "")
    assert (
        page.locator("#fx-count")
        .inner_text()
        .endswith(f"of {expected} matching findings ({total} in all).")
    )
    page.click("#fx-reset")
    assert page.input_value("#fx-account") == ""
    assert rows(page) == 100


def test_new_filter_uses_the_lifecycle(page):
    page.select_option("#fx-status", "new")
    texts = page.locator("#fx-body tr td:last-child").all_inner_texts()
    assert texts and all("new" in t for t in texts)


def test_other_account_is_one_option_among_the_accounts(page):
    options = page.locator("#fx-account option").all_inner_texts()
    assert any(o.startswith(OTHER) for o in options)


@pytest.fixture(scope="module")
def packed_report(warehouse_file, tmp_path_factory) -> Path:
    """A report whose explorer data is deflated, as a large organization's is."""
    folder = tmp_path_factory.mktemp("packed")
    con = open_copy(warehouse_file, folder)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("keyaudit.report.records.EXPLORER_INLINE_LIMIT", 100)
            files = write_report(con, RUN_ID, folder / "out", rules=RULES, formats="html")
    finally:
        con.close()
    assert files.html is not None
    assert 'data-encoding="deflate-base64"' in files.html.read_text(encoding="utf-8")
    return files.html


def test_deflated_findings_are_unpacked_in_the_browser(browser, packed_report, warehouse_file):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(packed_report.as_uri())
    page.wait_for_selector("#fx-body tr")
    assert (
        page.locator("#fx-count").inner_text()
        == "Showing 1–11 of 11 matching findings (11 in all)."
    )
    page.select_option("#fx-severity", "critical")
    assert rows(page) == 1
    assert errors == []
    page.close()
