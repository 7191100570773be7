"""The catalogue is validated on load, with the file and what is allowed named; and a meta-test
walks it: every rule has SQL, metadata, tests and a control mapping."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from keyaudit.frameworks import BASIS, BY_KEY, FRAMEWORKS, RULE_CHECKS, TITLES
from keyaudit.paths import SQL_DIR
from keyaudit.rules.catalogue import INTERNAL_CONTROLS, CatalogueError, Controls, load_catalogue
from keyaudit.rules.doc import REGENERATE_CONTROLS, controls_markdown

RULES_DIR = SQL_DIR / "rules"
TESTS_DIR = Path(__file__).parent
CATALOGUE = sorted(path.stem for path in RULES_DIR.glob("*.yml"))


def copy_rule(folder: Path, rule_id: str = "ACCESS_KEY_UNUSED", **changes: object) -> Path:
    """A copy of a real rule in `folder`, its YAML changed (None deletes a key)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(RULES_DIR / f"{rule_id}.sql", folder / f"{rule_id}.sql")
    meta = yaml.safe_load((RULES_DIR / f"{rule_id}.yml").read_text())
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    path = folder / f"{rule_id}.yml"
    path.write_text(yaml.safe_dump(meta, sort_keys=False))
    return path


def refusal(folder: Path | list[Path]) -> str:
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(folder=folder)
    return str(refused.value)


# --- validation -------------------------------------------------------------------------


def test_unknown_severity_is_refused_with_the_allowed_values(tmp_path):
    copy_rule(tmp_path, severity="urgent")
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.yml: severity = 'urgent' is not allowed; "
        "use one of 'critical', 'high', 'medium', 'low' or 'info'"
    )


def test_missing_severity_is_refused_with_the_required_keys(tmp_path):
    copy_rule(tmp_path, severity=None)
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.yml: severity is missing; every rule needs id, title, severity, "
        "scope, rationale, remediation, command"
    )


def test_rule_without_any_control_mapping_is_refused(tmp_path):
    copy_rule(tmp_path, controls={})
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.yml: controls maps the rule to nothing; give at least one of "
        "cis_v1_4_to_v4_0, cis_v5_0, cis_v6_0, security_hub, aws_config, nist_800_53_r5, "
        "pci_dss_v4_0_1, soc2, iso_27001_2022, cis_controls_v8_1, or keyaudit's own "
        "control (keyaudit: one of KA-1, KA-2, KA-3)"
    )


def test_internal_rule_maps_to_a_keyaudit_control(tmp_path):
    copy_rule(tmp_path, controls={"keyaudit": "KA-3"})
    (rule,) = load_catalogue(folder=tmp_path)
    assert rule.controls.labels() == ["keyaudit KA-3"]


def test_unknown_keyaudit_control_is_refused_with_the_known_ones(tmp_path):
    copy_rule(tmp_path, controls={"keyaudit": "KA-99"})
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.yml: controls.keyaudit = 'KA-99' is not allowed; "
        "use one of 'KA-1', 'KA-2' or 'KA-3'"
    )


def test_unknown_control_key_is_refused_with_the_allowed_keys(tmp_path):
    copy_rule(tmp_path, controls={"cis_v7_0": "3.1"})
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.yml: unknown key 'controls.cis_v7_0'; allowed keys: "
        "cis_v1_4_to_v4_0, cis_v5_0, cis_v6_0, security_hub, aws_config, nist_800_53_r5, "
        "pci_dss_v4_0_1, soc2, iso_27001_2022, cis_controls_v8_1, keyaudit"
    )


@pytest.mark.parametrize(
    ("framework", "wrong", "example"),
    [
        ("nist_800_53_r5", "AC2(3)", "AC-2(3)"),
        ("pci_dss_v4_0_1", "Req 8.2.6", "8.2.6"),
        ("soc2", "CC 6.1", "CC6.1"),
        ("iso_27001_2022", "5.17", "A.5.17"),
        ("cis_controls_v8_1", "Safeguard 5", "5.3"),
    ],
)
def test_a_control_id_spelt_unlike_its_framework_is_refused_with_an_example(
    tmp_path, framework, wrong, example
):
    copy_rule(tmp_path, controls={"cis_v5_0": "1.11", framework: [wrong]})
    name = BY_KEY[framework].name
    assert refusal(tmp_path) == (
        f"ACCESS_KEY_UNUSED.yml: controls.{framework}: {wrong!r} is not a {name} control id; "
        f"write it like {example}"
    )


def test_a_control_listed_twice_is_refused(tmp_path):
    copy_rule(tmp_path, controls={"pci_dss_v4_0_1": ["8.2.6", "8.2.6"]})
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.yml: controls.pci_dss_v4_0_1: lists a PCI DSS v4.0.1 control twice"
    )


def test_a_rule_may_map_to_a_new_framework_alone(tmp_path):
    copy_rule(tmp_path, controls={"iso_27001_2022": ["A.5.18"]})
    (rule,) = load_catalogue(folder=tmp_path)
    assert rule.controls.labels() == ["ISO/IEC 27001:2022 A.5.18"]


def test_labels_keep_the_cis_form_and_name_every_other_framework():
    rule = next(r for r in load_catalogue() if r.rule_id == "ACCESS_KEY_UNUSED")
    assert rule.controls.labels()[:4] == [
        "CIS 1.12 (v1.4–v4.0)", "CIS 1.11 (v5.0)", "CIS 2.11 (v6.0)", "Security Hub IAM.22",
    ]  # fmt: skip
    assert "NIST SP 800-53 Rev. 5 AC-2(3)" in rule.controls.labels()
    assert "PCI DSS v4.0.1 8.2.6" in rule.controls.labels()
    assert "CIS Controls v8.1 5.3" in rule.controls.labels()


@pytest.mark.parametrize("framework", sorted(BASIS))
def test_every_mapping_to_a_cited_framework_states_its_basis(framework):
    used = {c for rule in load_catalogue() for c in getattr(rule.controls, framework)}
    assert used, f"no rule maps to {framework}"
    assert used <= set(BASIS[framework]), (
        f"{framework}: no basis for {used - set(BASIS[framework])}"
    )


def test_prowler_checks_are_matched_to_rules_of_the_catalogue():
    assert set(RULE_CHECKS) <= set(CATALOGUE)


def test_every_mapped_control_has_a_short_title_of_its_own():
    """A requirement is shown by its number and a title in keyaudit's words, never the
    standard's text: a new mapping needs a title in TITLES, a few words long."""
    mapped = {pair for rule in load_catalogue() for pair in rule.controls.pairs()}
    missing = sorted(pair for pair in mapped if pair[1] not in TITLES.get(pair[0], {}))
    assert missing == [], "add these controls to TITLES in keyaudit/frameworks.py"
    for key, titles in TITLES.items():
        assert key in BY_KEY
        for control_id, title in titles.items():
            assert re.fullmatch(BY_KEY[key].pattern, control_id), (key, control_id)
            assert 10 <= len(title) <= 70 and not title.endswith("."), (key, control_id)


def test_every_framework_cites_where_its_mappings_come_from():
    for framework in FRAMEWORKS:
        assert framework.source and framework.origin, framework.key
    for key in BASIS:  # the crosswalks read: file and commit
        source = BY_KEY[key].source
        assert "http" in source, key
    for key in ("nist_800_53_r5", "pci_dss_v4_0_1", "soc2", "iso_27001_2022"):
        assert re.search(
            r"prowler/compliance/aws/\S+\.json at commit [0-9a-f]{40}", BY_KEY[key].source
        )


def test_the_control_view_names_frameworks_as_the_registry_does():
    sql = (SQL_DIR / "views" / "control_rules.sql").read_text(encoding="utf-8")
    mappings = sql[sql.index("mappings as (") : sql.index("final as (")]
    named = dict(
        re.findall(
            r"select\s+run_id,\s+rule_id,\s+'([^']+)'(?: as framework)?,.*?'(\w+)'",
            mappings,
            re.DOTALL,  # the SQL lint wraps a long branch over lines
        )
    )
    assert named == {f.short: f.key for f in FRAMEWORKS}


def test_the_report_takes_framework_names_from_the_registry():
    from keyaudit.report import controls, exports

    assert {f.key: f.name for f in FRAMEWORKS} == controls.FRAMEWORKS
    assert {f.key: f.short for f in FRAMEWORKS} == controls.SHORT
    assert {f.key: f.ocsf for f in FRAMEWORKS} == exports.STANDARDS
    assert set(Controls.model_fields) == set(BY_KEY)


def test_docs_controls_md_is_generated_from_the_current_catalogue():
    docs = SQL_DIR.parent / "docs" / "controls.md"
    assert docs.read_text(encoding="utf-8") == controls_markdown(load_catalogue()), (
        f"docs/controls.md is stale — regenerate it with: {REGENERATE_CONTROLS}"
    )


def test_docs_controls_md_cites_each_framework_and_each_basis():
    text = controls_markdown(load_catalogue())
    for framework in FRAMEWORKS:
        assert f"## {framework.name}" in text
        assert framework.source in text
    for rule in load_catalogue():
        for key, control_id in rule.controls.pairs():
            if key in BASIS:
                assert BASIS[key][control_id] in text


def test_cis_number_that_is_not_a_section_number_is_refused(tmp_path):
    copy_rule(tmp_path, controls={"cis_v5_0": "one point eleven"})
    assert refusal(tmp_path).startswith(
        "ACCESS_KEY_UNUSED.yml: controls.cis_v5_0 = 'one point eleven' is invalid: "
        "String should match pattern"
    )


def test_parameter_used_in_sql_but_not_declared_is_refused(tmp_path):
    copy_rule(tmp_path, parameters={})
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.sql: uses $max_unused_days, not declared under parameters in "
        "ACCESS_KEY_UNUSED.yml; declare it there or use one of $as_of, $run_id"
    )


def test_parameter_declared_but_not_used_in_sql_is_refused(tmp_path):
    meta = yaml.safe_load((RULES_DIR / "ACCESS_KEY_UNUSED.yml").read_text())
    extra = {"grace_days": {"default": 3, "description": "never read by the SQL"}}
    copy_rule(tmp_path, parameters={**meta["parameters"], **extra})
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.yml: declares parameter grace_days but ACCESS_KEY_UNUSED.sql never "
        "uses $grace_days — use it in the SQL or remove it from parameters"
    )


def test_parameter_mentioned_only_in_a_sql_comment_does_not_count_as_used(tmp_path):
    copy_rule(tmp_path)
    sql = tmp_path / "ACCESS_KEY_UNUSED.sql"
    sql.write_text(sql.read_text().replace("$max_unused_days", "45") + "\n-- $max_unused_days\n")
    assert "never uses $max_unused_days" in refusal(tmp_path)


def test_parameter_default_outside_its_range_is_refused(tmp_path):
    copy_rule(
        tmp_path,
        parameters={"max_unused_days": {"default": 0, "minimum": 1, "description": "idle days"}},
    )
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.yml: parameters.max_unused_days = {'default': 0, 'minimum': 1, "
        "'description': 'idle days'} is invalid: Value error, default 0 is outside "
        "minimum..maximum (1..3650)"
    )


def test_parameter_named_like_a_builtin_is_refused(tmp_path):
    copy_rule(tmp_path)
    text = (tmp_path / "ACCESS_KEY_UNUSED.yml").read_text()
    text = text.replace(
        "parameters:\n", "parameters:\n  as_of:\n    default: 1\n    description: clash\n"
    )
    (tmp_path / "ACCESS_KEY_UNUSED.yml").write_text(text)
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.yml: parameters.as_of is reserved; keyaudit binds $as_of, $run_id "
        "itself — choose another name"
    )


def test_duplicate_rule_id_across_folders_is_refused(tmp_path):
    first = copy_rule(tmp_path / "builtin")
    second = copy_rule(tmp_path / "site")
    assert refusal([tmp_path / "builtin", tmp_path / "site"]) == (
        f"duplicate rule id ACCESS_KEY_UNUSED: {first} and {second} — a rule id must be unique "
        "across the catalogue; rename one (id and files)"
    )


def test_id_that_differs_from_the_file_name_is_refused(tmp_path):
    copy_rule(tmp_path, id="KEY_UNUSED")
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.yml: id 'KEY_UNUSED' must equal the file name 'ACCESS_KEY_UNUSED' — "
        "rename the file to KEY_UNUSED.yml (and its SQL) or set id: ACCESS_KEY_UNUSED"
    )


def test_unknown_top_level_key_is_refused_with_the_allowed_keys(tmp_path):
    copy_rule(tmp_path, threshold=90)
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.yml: unknown key 'threshold'; allowed keys: id, title, severity, "
        "scope, rationale, remediation, command, controls, parameters"
    )


def test_rule_without_sql_is_refused(tmp_path):
    copy_rule(tmp_path)
    (tmp_path / "ACCESS_KEY_UNUSED.sql").unlink()
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.yml: no ACCESS_KEY_UNUSED.sql beside it — every rule needs SQL"
    )


def test_sql_without_metadata_is_refused(tmp_path):
    copy_rule(tmp_path)
    (tmp_path / "ACCESS_KEY_UNUSED.yml").unlink()
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.sql: no ACCESS_KEY_UNUSED.yml beside it — every rule needs metadata"
    )


def test_metadata_with_yaml_extension_is_refused_not_ignored(tmp_path):
    copy_rule(tmp_path).rename(tmp_path / "ACCESS_KEY_UNUSED.yaml")
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.yaml: rule metadata files end in .yml — rename it to "
        "ACCESS_KEY_UNUSED.yml"
    )


def test_metadata_that_is_not_a_mapping_is_refused(tmp_path):
    copy_rule(tmp_path)
    (tmp_path / "ACCESS_KEY_UNUSED.yml").write_text("- just\n- a list\n")
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.yml: expected a YAML mapping of rule metadata (id, title, severity, "
        "...), found list"
    )


def test_missing_rule_folder_is_refused(tmp_path):
    assert refusal(tmp_path / "nope") == (
        f"rule folder {tmp_path / 'nope'} does not exist — check the path"
    )


# --- the catalogue itself ---------------------------------------------------------------


def test_catalogue_has_the_design_rules_the_privilege_rules_and_the_other_credential_rules():
    assert CATALOGUE == [
        "ACCESS_KEY_CREATED_AT_SETUP",
        "ACCESS_KEY_NEVER_USED",
        "ACCESS_KEY_NOT_ROTATED",
        "ACCESS_KEY_ON_PRIVILEGED_USER",
        "ACCESS_KEY_QUARANTINED",
        "ACCESS_KEY_UNUSED",
        "ACCOUNT_NOT_ASSESSED",
        "BEDROCK_API_KEY_WITHOUT_EXPIRY",
        "CONSOLE_USER_WITHOUT_MFA",
        "INACTIVE_KEY_NOT_REMOVED",
        "MULTIPLE_ACTIVE_KEYS",
        "PASSWORD_UNUSED",
        "ROOT_ACCESS_KEY_PRESENT",
        "ROOT_MFA_DISABLED",
        "ROOT_USED_RECENTLY",
        "SERVICE_CREDENTIAL_NOT_ROTATED",
        "SIGNING_CERTIFICATE_NOT_ROTATED",
        "SSH_PUBLIC_KEY_NOT_ROTATED",
    ]


@pytest.mark.parametrize("rule_id", CATALOGUE)
def test_every_rule_has_sql_metadata_tests_and_a_mapping(rule_id):
    assert (RULES_DIR / f"{rule_id}.sql").is_file()
    assert (RULES_DIR / f"{rule_id}.yml").is_file()
    rule = next(r for r in load_catalogue() if r.rule_id == rule_id)
    assert rule.controls.labels(), f"{rule_id} maps to no control"
    mentions = [
        path.name
        for path in TESTS_DIR.glob("test_*.py")
        if path.name != Path(__file__).name and re.search(rf'"{rule_id}"', path.read_text())
    ]
    assert mentions, f"no test under tests/rules/ mentions {rule_id}"


@pytest.mark.parametrize("rule_id", CATALOGUE)
def test_every_rule_follows_the_sql_conventions(rule_id):
    sql = (RULES_DIR / f"{rule_id}.sql").read_text()
    assert sql.startswith("-- "), "a comment says what the rule finds"
    assert sql.rstrip().endswith("select * from final")
    assert "$run_id" in sql
    assert "now()" not in sql.lower() and "current_" not in sql.lower()


@pytest.mark.parametrize("rule_id", CATALOGUE)
def test_every_key_threshold_is_strict_and_in_seconds(rule_id):
    # "Over N days" means the interval as_of - t is strictly greater than N days.
    sql = (RULES_DIR / f"{rule_id}.sql").read_text()
    for comparison in re.findall(r"epoch\(\$as_of\) - epoch\(\w+\) ([<>]=?)", sql):
        assert comparison in (">", "<="), comparison


def test_internal_control_ids_match_the_allowed_values():
    allowed = Controls.model_fields["keyaudit"].annotation
    assert set(re.findall(r"KA-[0-9]+", str(allowed))) == set(INTERNAL_CONTROLS)
