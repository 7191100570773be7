"""The markdown and table artifacts, built from a digest and a result without Prefect."""

from __future__ import annotations

from keyaudit.flows.artifacts import account_rows, run_markdown
from keyaudit.outcome import AuditResult
from keyaudit.report.digest import AccountLine, RunDigest
from keyaudit.warehouse.load import RunSummary

SEV = {"critical": 1, "high": 2, "medium": 3, "low": 4}


def digest(**changes) -> RunDigest:
    values = dict(
        run_id="20261201T060000Z-abc123",
        as_of="2026-12-01T06:00:00+00:00",
        title="AWS access key audit",
        organization_name=None,
        in_scope=3,
        assessed=2,
        partial=0,
        not_assessed=1,
        skipped=0,
        is_complete=False,
        open_by_severity=SEV,
        open_total=10,
        waived_total=0,
        new=None,
        resolved=None,
        accounts=(
            AccountLine("111122223333", "pay|prod *live*", "Root/Prod", "assessed", {}, 10, SEV),
            AccountLine(
                "444455556666",
                "logs",
                "Root",
                "not_assessed",
                {},
                None,
                dict.fromkeys(SEV, 0),
                "AccessDenied on sts:AssumeRole",
            ),
        ),
    )
    values.update(changes)
    return RunDigest(**values)


def result(tmp_path) -> AuditResult:
    html = tmp_path / "report.html"
    return AuditResult(
        summary=RunSummary(digest().run_id, digest().as_of, 3, 2, 0, 1, 0, SEV, {}),
        min_coverage=0.95,
        html=str(html),
        pdf=str(tmp_path / "report.pdf"),
        outputs={"csv": str(tmp_path / "findings.csv")},
        report_dir=str(tmp_path),
        warehouse="/w.duckdb",
        evidence="/e",
        delivery={
            "results": [
                {"target": "folder", "name": "run folder", "ok": True, "detail": str(tmp_path)},
                {"target": "email", "name": "a@x.io", "ok": False, "detail": "550 refused"},
            ],
            "notes": [],
            "s3_location": None,
        },
        coverage_problem="coverage 66.7% is below 95%",
    )


def test_markdown_tells_coverage_severities_files_delivery_and_problems(tmp_path):
    text = run_markdown(digest(), result(tmp_path))
    assert (
        "Run `20261201T060000Z-abc123` · as of 2026-12-01T06:00:00+00:00 · **INCOMPLETE**" in text
    )
    assert "| 3 | 2 | 0 | 1 | 0 | 66.7% | 95% |" in text
    assert "| critical | 1 |" in text and "| **total** | **10** |" in text
    assert "No earlier run over the same scope" in text
    assert f"- HTML report: [report.html]({(tmp_path / 'report.html').as_uri()})" in text
    assert "- CSV export: [findings.csv]" in text
    assert "- FAILED email a@x.io: 550 refused" in text
    assert "## Problems\n\n- coverage 66.7% is below 95%" in text


def test_markdown_shows_control_characters_and_bidi_marks_as_escapes(tmp_path):
    text = run_markdown(digest(title="audit\x1b[31mred\u202e\u2028x"), result(tmp_path))
    assert not {"\x1b", "\u202e", "\u2028"} & set(text)
    assert text.startswith("# audit\\\\x1b\\[31mred\\\\u202e x — 2026-12\n")


def test_markdown_shows_new_and_resolved_against_the_previous_run(tmp_path):
    text = run_markdown(
        digest(
            new=3,
            resolved=2,
            new_by_severity={"high": 3},
            resolved_by_severity={"low": 2},
            previous_run_id="20261101T060000Z-000001",
        ),
        result(tmp_path),
    )
    assert "| severity | open | new | resolved |" in text
    assert "| high | 2 | 3 | 0 |" in text and "| low | 4 | 0 | 2 |" in text
    assert "| **total** | **10** | **3** | **2** |" in text
    assert "New and resolved since run `20261101T060000Z-000001`." in text


def test_account_table_has_one_row_per_account_and_unknown_is_not_zero():
    rows = account_rows(digest())
    assert [r["account"] for r in rows] == ["111122223333", "444455556666"]
    assert rows[0]["open"] == 10 and rows[0]["critical"] == 1
    assert rows[1]["open"] is None and rows[1]["error"] == "AccessDenied on sts:AssumeRole"


def test_delivery_lines_say_how_long_s3_keeps_the_objects_or_why_nothing_went():
    from keyaudit.flows.artifacts import delivery_lines

    locked = {
        "results": [{"target": "s3", "name": "report.pdf", "ok": True, "detail": "s3://b/k"}],
        "notes": [],
        "s3_location": "s3://b/keyaudit/2026/12/r/",
        "s3_retention": "COMPLIANCE until 2027-12-01T06:00:00+00:00",
    }
    assert delivery_lines(locked) == [
        "S3 objects: 1 of 1 delivered to s3://b/keyaudit/2026/12/r/, locked COMPLIANCE until "
        "2027-12-01T06:00:00+00:00"
    ]
    refused = {
        "results": [{"target": "s3", "name": "bucket b", "ok": False, "detail": "no Object Lock"}],
        "notes": [],
        "s3_location": None,
        "s3_retention": None,
    }
    assert delivery_lines(refused) == [
        "S3 objects: 0 of 1 delivered",
        "FAILED s3 bucket b: no Object Lock",
    ]
