"""One framework's view (`keyaudit report --framework`), the frameworks of the summary's Controls
table (`[report] frameworks`, as the run recorded it), the methodology's list of every framework
and the OCSF export's compliance.standards."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from report_rows import ASSESSED, NOT_ASSESSED, RULES, RUN_ID, keep_as_loading_does
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.config import ConfigError, ReportConfig, load_config
from keyaudit.frameworks import FRAMEWORKS, UnknownFramework
from keyaudit.report import build_report_context, render_html, write_report

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

runner = CliRunner()
PCI = {"ACCESS_KEY_NOT_ROTATED": ["8.3.9", "8.6.3"], "ACCESS_KEY_UNUSED": ["8.2.6"]}


def map_to_pci(con: duckdb.DuckDBPyConnection) -> None:
    """As a run recorded (and loaded) with the new mappings would have them in run_rules."""
    for rule_id, ids in PCI.items():
        patch = json.dumps({"pci_dss_v4_0_1": ids})
        con.execute(
            "update run_rules set controls = json_merge_patch(controls, ?) where rule_id = ?",
            [patch, rule_id],
        )
    keep_as_loading_does(con)


def record_report_config(con: duckdb.DuckDBPyConnection, report: dict[str, Any]) -> None:
    con.execute(
        "update runs set config_json = ? where run_id = ?",
        [json.dumps({"report": report}), RUN_ID],
    )


@pytest.fixture
def pci_db(report_db: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    map_to_pci(report_db)
    return report_db


def cell_text(html: str, row_id: str) -> str:
    row = re.search(rf'<tr[^>]*id="{row_id}".*?</tr>', html, re.S)
    assert row, row_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(0))).strip()


def test_framework_view_lists_each_requirement_with_result_evidence_and_findings(pci_db):
    context = build_report_context(pci_db, RUN_ID, rules=RULES, framework="PCI DSS v4.0.1")
    view = context.compliance.framework_view
    assert [r["control_id"] for r in view["requirements"]] == ["8.2.6", "8.3.9", "8.6.3"]
    rotated = view["requirements"][1]
    (keys,) = rotated["populations"]
    assert (rotated["result"], keys["kind"], keys["evaluated"], keys["failing"]) == (
        "fail", "key", 4, 2,
    )  # fmt: skip
    assert keys["waived"] == 1
    assert (rotated["accounts_evaluated"], rotated["accounts_in_scope"]) == (2, 3)
    (findings,) = rotated["rule_findings"]
    assert (findings["rule_id"], findings["open"], findings["waived"]) == (
        "ACCESS_KEY_NOT_ROTATED", 2, 1,
    )  # fmt: skip
    assert [(a["account_id"], a["open"]) for a in findings["accounts"]] == [(ASSESSED, 2)]
    html = render_html(context)
    text = cell_text(html, "requirement-8-3-9")
    assert text.startswith(
        "8.3.9 Single-factor secrets changed at least every 90 days "
        "Prowler 8.3.9.1 lists iam_rotate_access_key_90_days fail"
    )
    evidence = "4 active IAM-user access keys evaluated: 2 fail, 1 waived 2 of 3 accounts evaluated"
    assert evidence in text
    assert "2 open, 1 waived" in text
    assert f'href="#account-{ASSESSED}"' in html
    assert 'href="#rule-ACCESS_KEY_NOT_ROTATED"' in html
    assert 'id="framework-source"' in html and "pci_4.0_aws.json at commit" in html


def test_framework_view_section_follows_the_summary_and_restricts_its_controls_table(pci_db):
    context = build_report_context(pci_db, RUN_ID, rules=RULES, framework="pci dss v4.0.1")
    assert [s["id"] for s in context.sections][:4] == [
        "scope",
        "completeness",
        "summary",
        "framework",
    ]
    assert {r["framework"] for r in context.compliance.controls["rows"]} == {"PCI DSS v4.0.1"}
    html = render_html(context)
    assert "<h2>PCI DSS v4.0.1 requirements</h2>" in html
    assert "Frameworks shown: PCI DSS v4.0.1 only" in html
    table = html[
        html.index('id="controls-table"') : html.index(
            "</table>", html.index('id="controls-table"')
        )
    ]
    assert "PCI DSS v4.0.1 8.3.9" in table and "CIS" not in table


def test_without_the_option_there_is_no_framework_section(pci_db):
    context = build_report_context(pci_db, RUN_ID, rules=RULES)
    assert context.compliance.framework_view is None
    assert "framework" not in [s["id"] for s in context.sections]
    assert 'id="framework-table"' not in render_html(context)


def test_a_requirement_without_assessed_evidence_is_not_evaluated_never_passed(pci_db):
    context = build_report_context(
        pci_db, RUN_ID, rules=RULES, framework="PCI DSS v4.0.1", account_ids=[NOT_ASSESSED]
    )
    results = {
        r["control_id"]: r["result"] for r in context.compliance.framework_view["requirements"]
    }
    assert results == dict.fromkeys(("8.2.6", "8.3.9", "8.6.3"), "not evaluated")
    html = render_html(context)
    row = re.search(r'<tr[^>]*id="requirement-8-2-6".*?</tr>', html, re.S).group(0)
    assert "result-not-evaluated" in row and "result-pass" not in row
    assert "no account assessed" in cell_text(html, "requirement-8-2-6")
    assert "nothing evaluated" in cell_text(html, "requirement-8-2-6")


def test_a_framework_the_run_did_not_map_says_so(report_db):
    context = build_report_context(report_db, RUN_ID, rules=RULES, framework="SOC 2")
    assert context.compliance.framework_view["requirements"] == []
    assert 'id="framework-none"' in render_html(context)


def test_an_unknown_framework_is_refused_naming_the_allowed_ones(report_db):
    with pytest.raises(
        UnknownFramework, match=r"unknown framework 'PCI'; use one of: .*PCI DSS v4\.0\.1"
    ):
        build_report_context(report_db, RUN_ID, rules=RULES, framework="PCI")


def test_cli_framework_option_renders_the_view(warehouse_file: Path, tmp_path: Path):
    result = runner.invoke(
        app,
        ["report", "--run", RUN_ID, "--db", str(warehouse_file), "--out", str(tmp_path),
         "--format", "html", "--framework", "NIST SP 800-53 Rev. 5"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report-nist-sp-800-53-rev-5.html").read_text(encoding="utf-8")
    assert "<h2>NIST SP 800-53 Rev. 5 requirements</h2>" in html
    assert not (tmp_path / "report.html").exists()  # a view never takes the run's names


def test_cli_unknown_framework_exits_2_with_one_line_listing_the_names(
    warehouse_file: Path, tmp_path: Path
):
    result = runner.invoke(
        app,
        ["report", "--run", RUN_ID, "--db", str(warehouse_file), "--out", str(tmp_path / "out"),
         "--framework", "PCI 4"],
    )  # fmt: skip
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("keyaudit: error: --framework: unknown framework 'PCI 4'; use one of: ")
    for framework in FRAMEWORKS:
        assert framework.name in line
    assert not (tmp_path / "out").exists()


def test_summary_shows_the_frameworks_the_run_recorded(pci_db):
    record_report_config(pci_db, {"frameworks": ["PCI DSS v4.0.1", "AWS Security Hub"]})
    context = build_report_context(pci_db, RUN_ID, rules=RULES)
    assert {r["framework"] for r in context.compliance.controls["rows"]} == {
        "PCI DSS v4.0.1",
        "Security Hub",
    }
    assert context.compliance.summary_frameworks == ["PCI DSS v4.0.1", "AWS Security Hub"]
    assert "Frameworks shown: PCI DSS v4.0.1, AWS Security Hub." in render_html(context)


def test_summary_defaults_to_cis_and_security_hub_without_the_new_frameworks(pci_db):
    context = build_report_context(pci_db, RUN_ID, rules=RULES)
    shown = {r["framework"] for r in context.compliance.controls["rows"]}
    assert shown == {"CIS v1.4–v4.0", "CIS v5.0", "Security Hub", "keyaudit"}
    assert "PCI DSS v4.0.1" in {r["framework"] for r in context.compliance.controls_all["rows"]}


def test_methodology_lists_every_framework_with_its_source(pci_db):
    html = render_html(build_report_context(pci_db, RUN_ID, rules=RULES))
    table = html[html.index('id="frameworks-table"') :]
    table = table[: table.index("</table>")]
    for framework in FRAMEWORKS:
        assert framework.name in table
    pci = re.search(r"<tr><td>PCI DSS v4\.0\.1</td>.*?</tr>", table)
    assert pci and '<td class="num">3</td><td>no</td>' in pci.group(0)


def test_ocsf_events_list_the_new_frameworks_in_compliance_standards(pci_db, tmp_path: Path):
    write_report(pci_db, RUN_ID, tmp_path, rules=RULES, formats="ocsf")
    lines = (tmp_path / "findings.ocsf.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    rotated = [e for e in events if e["finding_info"]["title"] == RULES[1].title]
    assert rotated
    for event in rotated:
        standards = event["compliance"]["standards"]
        assert "PCI DSS v4.0.1" in standards
        assert "CIS AWS Foundations Benchmark v1.4-v4.0" in standards
        assert "PCI DSS v4.0.1 8.3.9" in event["compliance"]["requirements"]


def test_config_frameworks_are_checked_against_the_registry(tmp_path: Path):
    path = tmp_path / "keyaudit.toml"
    path.write_text('[report]\nframeworks = ["pci dss v4.0.1", "SOC 2"]\n')
    assert load_config(path).report.frameworks == ["PCI DSS v4.0.1", "SOC 2"]
    path.write_text('[report]\nframeworks = ["SOC 3"]\n')
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    (line,) = str(refused.value).splitlines()
    assert "report.frameworks" in line and "unknown framework 'SOC 3'; use one of: " in line
    assert "ISO/IEC 27001:2022" in line


def test_config_frameworks_default_to_cis_and_security_hub():
    assert ReportConfig().frameworks[:4] == [
        "CIS AWS Foundations v1.4–v4.0", "CIS AWS Foundations v5.0", "CIS AWS Foundations v6.0",
        "AWS Security Hub",
    ]  # fmt: skip


def test_framework_view_renders_in_the_pdf(warehouse_file: Path, tmp_path: Path):
    result = runner.invoke(
        app,
        ["report", "--run", RUN_ID, "--db", str(warehouse_file), "--out", str(tmp_path),
         "--format", "pdf", "--framework", "CIS AWS Foundations v5.0"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    pdf = (tmp_path / "report-cis-aws-foundations-v5.0.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
