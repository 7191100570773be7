"""`keyaudit rules` lists the catalogue with the values in force, and docs/rules.md is the
catalogue's current documentation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.paths import SQL_DIR
from keyaudit.rules.catalogue import load_catalogue
from keyaudit.rules.doc import REGENERATE, markdown

runner = CliRunner()
DOCS = SQL_DIR.parent / "docs" / "rules.md"


@pytest.fixture(autouse=True)
def no_local_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./keyaudit.toml of the developer's


def rules_json(*args: str, env: dict[str, str] | None = None) -> dict[str, dict]:
    result = runner.invoke(app, ["rules", "--format", "json", *args], env=env)
    assert result.exit_code == 0, result.output
    return {rule["id"]: rule for rule in json.loads(result.stdout)}


def test_rules_table_lists_every_rule_with_severity_controls_and_parameters():
    result = runner.invoke(app, ["rules"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["rule", "severity", "scope", "controls", "parameters"]
    assert len(lines) == 2 + 18
    assert [line.split()[0] for line in lines[2:]] == [r.rule_id for r in load_catalogue()]
    assert lines[lines.index(next(x for x in lines if x.startswith("ACCESS_KEY_NOT_ROTATED")))].split() == [
        "ACCESS_KEY_NOT_ROTATED", "high", "key", "CIS", "1.14/1.13/2.13,", "IAM.3", "max_key_age_days=90",
    ]  # fmt: skip


def test_rules_json_gives_values_defaults_and_mappings():
    rules = rules_json()
    assert len(rules) == 18
    rotated = rules["ACCESS_KEY_NOT_ROTATED"]
    assert rotated["severity"] == "high"
    assert rotated["controls"] == {
        "cis_v1_4_to_v4_0": "1.14",
        "cis_v5_0": "1.13",
        "cis_v6_0": "2.13",
        "security_hub": ["IAM.3"],
        "aws_config": ["access-keys-rotated"],
        "nist_800_53_r5": ["AC-2(1)", "IA-5"],
        "pci_dss_v4_0_1": ["8.3.9", "8.6.3"],
        "soc2": ["CC6.1"],
        "iso_27001_2022": ["A.5.15", "A.5.17"],
    }
    assert rotated["parameters"]["max_key_age_days"] == {
        "value": 90,
        "default": 90,
        "minimum": 1,
        "maximum": 3650,
        "description": "A key older than this many days (strictly) is not rotated.",
    }
    assert rules["ACCOUNT_NOT_ASSESSED"]["controls"] == {"keyaudit": "KA-1"}


def test_rules_show_keyaudit_toml_overrides_beside_their_defaults(tmp_path: Path):
    config = tmp_path / "site.toml"
    config.write_text(
        '[rules.ACCESS_KEY_NOT_ROTATED]\nmax_key_age_days = 60\nseverity = "critical"\n'
        "[rules.INACTIVE_KEY_NOT_REMOVED]\nenabled = false\n"
    )
    rules = rules_json("--config", str(config))
    rotated = rules["ACCESS_KEY_NOT_ROTATED"]
    assert (rotated["severity"], rotated["default_severity"]) == ("critical", "high")
    assert rotated["parameters"]["max_key_age_days"]["value"] == 60
    assert rules["INACTIVE_KEY_NOT_REMOVED"]["enabled"] is False
    table = runner.invoke(app, ["rules", "--config", str(config)]).stdout
    assert "critical (default high)" in table
    assert "max_key_age_days=60 (default 90)" in table
    assert "disabled (low)" in table


def test_rules_honour_environment_overrides_unless_defaults_are_asked_for():
    env = {"KEYAUDIT_RULES__PASSWORD_UNUSED__MAX_UNUSED_DAYS": "30"}
    assert rules_json(env=env)["PASSWORD_UNUSED"]["parameters"]["max_unused_days"]["value"] == 30
    shipped = rules_json("--defaults", env=env)
    assert shipped["PASSWORD_UNUSED"]["parameters"]["max_unused_days"]["value"] == 45


def test_rules_refuse_an_override_for_an_unknown_rule_in_one_line(tmp_path: Path):
    config = tmp_path / "site.toml"
    config.write_text("[rules.KEY_TOO_OLD]\nmax_key_age_days = 60\n")
    result = runner.invoke(app, ["rules", "--config", str(config)])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "keyaudit: error: rules.KEY_TOO_OLD: no such rule — known rules: ACCESS_KEY_CREATED_AT_SETUP, "
    )
    assert len(result.stderr.strip().splitlines()) == 1


def test_rules_refuse_an_out_of_range_threshold(tmp_path: Path):
    config = tmp_path / "site.toml"
    config.write_text("[rules.ROOT_USED_RECENTLY]\nrecent_use_days = 0\n")
    result = runner.invoke(app, ["rules", "--config", str(config)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "keyaudit: error: rules.ROOT_USED_RECENTLY.recent_use_days = 0 is out of range; allowed 1..3650"
    )


def test_rules_command_has_help_with_an_example():
    result = runner.invoke(app, ["rules", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_docs_rules_md_is_generated_from_the_current_catalogue():
    assert DOCS.read_text(encoding="utf-8") == markdown(load_catalogue()), (
        f"docs/rules.md is stale — regenerate it with: {REGENERATE}"
    )


def test_markdown_format_prints_the_docs_page():
    result = runner.invoke(app, ["rules", "--defaults", "--format", "markdown"])
    assert result.stdout == markdown(load_catalogue())
    for rule in load_catalogue():
        assert f"## {rule.rule_id}" in result.stdout
        assert rule.command in result.stdout
