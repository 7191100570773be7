"""Every OCSF event keyaudit exports validates against the official OCSF JSON schema of the
version it claims (the schema server's export, shipped offline by the ocsf-json-schema package),
and findings.json against the schema published in docs/findings.schema.json."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema
from report_rows import RULES, RUN_ID

from keyaudit.report import write_report
from keyaudit.report.exports import COLUMNS, OCSF_VERSION, _Lookup, ocsf_event, write_exports
from keyaudit.report.sections import Coverage, ReportSummary

FINDINGS_SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "findings.schema.json"


@cache
def _raw(version: str) -> dict[str, Any]:
    return get_ocsf_schema(version=version)


@cache
def _validator(version: str, class_uid: int, profiles: tuple[str, ...]) -> Draft202012Validator:
    ocsf = OcsfJsonSchemaEmbedded(_raw(version))
    name = ocsf.lookup_class_name_from_uid(class_uid=class_uid)
    return Draft202012Validator(ocsf.get_class_schema(class_name=name, profiles=list(profiles)))


def schema_errors(event: dict[str, Any]) -> list[str]:
    """What the official schema of the event's own version, class and profiles says is wrong."""
    meta = event["metadata"]
    validator = _validator(meta["version"], event["class_uid"], tuple(meta.get("profiles", ())))
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(event)]


def caption_errors(event: dict[str, Any]) -> list[str]:
    """Each enumerated id beside a caption the schema does not give it (99, Other, excepted)."""
    raw = _raw(event["metadata"]["version"])
    cls = next(c for c in raw["classes"].values() if c.get("uid") == event["class_uid"])
    objects = raw["objects"]
    pairs = [
        (event, cls["attributes"], "activity_id", "activity_name"),
        (event, cls["attributes"], "status_id", "status"),
        (event, cls["attributes"], "severity_id", "severity"),
        (event["compliance"], objects["compliance"]["attributes"], "status_id", "status"),
        (event["cloud"]["account"], objects["account"]["attributes"], "type_id", "type"),
        (
            event["finding_info"]["analytic"],
            objects["analytic"]["attributes"],
            "type_id",
            "type",
        ),
    ]
    errors = []
    for holder, attributes, id_name, caption_name in pairs:
        if id_name not in holder or holder[id_name] == 99:
            continue
        expected = attributes[id_name]["enum"][str(holder[id_name])]["caption"]
        if holder.get(caption_name) != expected:
            errors.append(
                f"{id_name} {holder[id_name]}: {holder.get(caption_name)!r} ≠ {expected!r}"
            )
    type_caption = cls["attributes"]["type_uid"]["enum"][str(event["type_uid"])]["caption"]
    if event["type_name"] != type_caption or event["class_name"] != cls["caption"]:
        errors.append(f"type_name {event['type_name']!r} or class_name {event['class_name']!r}")
    return errors


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def summary_of(**facts: Any) -> ReportSummary:
    """A report summary with the facts an export reads, the rest empty."""
    empty: dict[str, Any] = {
        "title": "t", "organization_name": None, "generated_at": None, "report_tool_version": "0.1.0",
        "run": {}, "slice": None, "coverage": None, "warnings": [], "severity_summary": [],
        "totals": {}, "rule_summary": [], "changes": {}, "accounts": [], "rules": {},
    }  # fmt: skip
    return ReportSummary(**(empty | facts))


def test_every_demo_ocsf_event_validates_against_the_official_schema_of_its_version(demo_run):
    events = _events(demo_run.report_dir / "findings.ocsf.jsonl")
    total = json.loads((demo_run.report_dir / "findings.json").read_text("utf-8"))["run"][
        "findings"
    ]
    assert len(events) == total > 100
    assert {e["metadata"]["version"] for e in events} == {OCSF_VERSION}
    problems = {
        e["finding_info"]["uid"]: schema_errors(e) + caption_errors(e)
        for e in events
        if schema_errors(e) or caption_errors(e)
    }
    assert problems == {}


def test_a_rule_mapped_only_to_keyaudit_controls_names_its_keyaudit_control(demo_run):
    events = _events(demo_run.report_dir / "findings.ocsf.jsonl")
    controls = {e["finding_info"]["analytic"]["uid"]: e["compliance"]["control"] for e in events}
    assert controls["INACTIVE_KEY_NOT_REMOVED"] == "KA-3"
    assert controls["ACCOUNT_NOT_ASSESSED"] == "KA-1"
    assert controls["ACCESS_KEY_NOT_ROTATED"] == "IAM.3"  # Security Hub's, when there is one
    assert all(isinstance(c, str) and c for c in controls.values())


def test_an_event_with_unknown_facts_and_no_control_mapping_leaves_them_out_and_validates():
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(
        run_id=RUN_ID,
        as_of="2026-12-01T06:00:00Z",
        finding_id="f-1",
        status="open",
        severity="medium",
        rule_id="CUSTOM_RULE",
        account_id="012345678901",
    )
    lookup = _Lookup(
        summary_of(
            run={"run_id": RUN_ID, "organization_id": None},
            accounts=[],
            rules={"CUSTOM_RULE": {"controls": {}}},
            report_tool_version="0.1.0",
        )
    )
    event = ocsf_event(row, lookup)
    assert event["compliance"]["control"] == "CUSTOM_RULE"
    assert "name" not in event["cloud"]["account"] and "desc" not in event["finding_info"]
    assert event["message"] == "CUSTOM_RULE"
    assert schema_errors(event) + caption_errors(event) == []


def test_the_given_runs_events_validate_waived_and_not_assessed_included(shared_db, tmp_path):
    files = write_report(shared_db, RUN_ID, tmp_path, rules=RULES, formats="ocsf")
    events = _events(files.ocsf)
    assert {e["status"] for e in events} == {"New", "Suppressed"}
    assert [schema_errors(e) + caption_errors(e) for e in events] == [[]] * len(events)


@pytest.fixture(scope="module")
def findings_schema() -> Draft202012Validator:
    schema = json.loads(FINDINGS_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_the_published_findings_schema_lists_exactly_the_export_columns(findings_schema):
    finding = findings_schema.schema["$defs"]["finding"]
    assert tuple(finding["properties"]) == COLUMNS
    assert tuple(finding["required"]) == COLUMNS
    assert finding["additionalProperties"] is False


def test_demo_findings_json_validates_against_the_published_schema(demo_run, findings_schema):
    data = json.loads((demo_run.report_dir / "findings.json").read_text(encoding="utf-8"))
    assert [e.message for e in findings_schema.iter_errors(data)] == []


def test_findings_json_with_history_waivers_and_a_slice_validates(
    shared_db, tmp_path, findings_schema
):
    files = write_report(shared_db, RUN_ID, tmp_path, rules=RULES, formats="json")
    data = json.loads(files.json.read_text(encoding="utf-8"), parse_constant=_refuse)
    assert any(f["waiver_id"] for f in data["findings"])
    assert any(f["days_open"] is not None for f in data["findings"])
    assert [e.message for e in findings_schema.iter_errors(data)] == []


def _refuse(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def test_a_number_json_cannot_carry_fails_the_export_instead_of_writing_nan(tmp_path):
    record = dict.fromkeys(
        ("user_name", "user_arn", "credential_kind", "credential_id", "credential_slot",
         "access_key_id", "key_slot", "key_created_at", "key_last_used_at", "key_last_used_service", "key_last_used_region", "reason",
         "waiver_id", "first_seen_as_of", "days_open", "is_new"),
    )  # fmt: skip
    record.update(
        finding_id="f-1", waived=False, severity="low", rule_id="R", account_id="012345678901"
    )
    record["key_age_days"] = float("nan")
    context = summary_of(
        run={"run_id": RUN_ID, "as_of_iso": "2026-12-01T06:00:00Z", "organization_id": None,
             "status": "finished", "tool_version": "0.1.0"},
        coverage=Coverage(in_scope=1, assessed=1, partial=0, not_assessed=0, skipped=0,
                          oldest_report_at=None, oldest_report_account_id=None,
                          incomplete_count=0, is_complete=True),
        totals={"total": 1},
    )  # fmt: skip
    path = tmp_path / "findings.json"
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        write_exports({"json": path}, [record], context)
    assert list(tmp_path.iterdir()) == []
