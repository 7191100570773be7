"""Configuration layers and the one-line errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from keyaudit.config import ConfigError, load_config


def test_defaults_need_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.aws.role_name == "OrganizationAccountAccessRole"
    assert config.collection.concurrency == 8
    assert config.paths.warehouse == Path("data/keyaudit.duckdb")


def test_environment_overrides_file_and_flags_override_environment(tmp_path: Path):
    file = tmp_path / "keyaudit.toml"
    file.write_text('[collection]\nconcurrency = 4\n[aws]\nrole_name = "AuditRole"\n')
    config = load_config(file, environ={"KEYAUDIT_COLLECTION__CONCURRENCY": "16"})
    assert (config.collection.concurrency, config.aws.role_name) == (16, "AuditRole")
    config = load_config(
        file,
        environ={"KEYAUDIT_COLLECTION__CONCURRENCY": "16"},
        overrides={"collection": {"concurrency": 2}},
    )
    assert config.collection.concurrency == 2


def test_account_lists_from_environment_are_comma_separated(tmp_path: Path):
    config = load_config(
        None,
        environ={"KEYAUDIT_DISCOVERY__EXCLUDE_ACCOUNTS": "012345678901, 111122223333"},
    )
    assert config.discovery.exclude_accounts == ["012345678901", "111122223333"]


def test_bad_value_names_key_value_and_allowed_values(tmp_path: Path):
    file = tmp_path / "keyaudit.toml"
    file.write_text('[discovery]\nmode = "everything"\n')
    with pytest.raises(ConfigError) as error:
        load_config(file, environ={})
    assert str(error.value) == (
        f"{file}: discovery.mode = 'everything' is not allowed; "
        "use one of 'auto', 'organization', 'accounts' or 'caller'"
    )


def test_numeric_account_id_is_refused_with_the_fix(tmp_path: Path):
    file = tmp_path / "keyaudit.toml"
    file.write_text("[discovery]\naccounts = [12345678901]\n")
    with pytest.raises(ConfigError, match=r"discovery.accounts.0 = 12345678901 is invalid"):
        load_config(file, environ={})


def test_unknown_key_is_refused(tmp_path: Path):
    file = tmp_path / "keyaudit.toml"
    file.write_text("[collection]\nconcurency = 4\n")
    with pytest.raises(ConfigError, match=r"unknown key 'collection.concurency'"):
        load_config(file, environ={})


def test_out_of_range_environment_value_is_refused():
    with pytest.raises(
        ConfigError, match=r"KEYAUDIT_\* environment: collection.concurrency = '0' is invalid"
    ):
        load_config(environ={"KEYAUDIT_COLLECTION__CONCURRENCY": "0"})


def test_explicit_missing_file_is_an_error(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"does not exist — copy keyaudit\.example\.toml"):
        load_config(tmp_path / "nope.toml", environ={})


def test_invalid_toml_names_the_file(tmp_path: Path):
    file = tmp_path / "keyaudit.toml"
    file.write_text("[collection\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(file, environ={})


def _undocumented(model: BaseModel, path: str, text: str) -> list[str]:
    """Keys of `model` (a section at `path`) that the example file neither sets nor shows."""
    missing = []
    for key in type(model).model_fields:
        value = getattr(model, key)
        if isinstance(value, BaseModel):  # a nested table: [section.key]
            if f"[{path}.{key}]" not in text:
                missing.append(f"[{path}.{key}]")
            missing += _undocumented(value, f"{path}.{key}", text)
        elif isinstance(value, dict):  # a free-form table, shown as [section.key]
            if f"[{path}.{key}]" not in text:
                missing.append(f"[{path}.{key}]")
        elif f"{key} =" not in text:
            missing.append(f"{path}.{key}")
    return missing


def test_example_config_is_valid_and_documents_every_key():
    example = Path(__file__).resolve().parents[1] / "keyaudit.example.toml"
    config = load_config(example, environ={})
    text = example.read_text()
    missing = []
    for section, model in config:
        if section == "rules":  # one table per rule, documented in sql/rules/*.yml
            continue
        if isinstance(model, BaseModel):
            missing += _undocumented(model, section, text)
        elif f"{section} =" not in text:
            missing.append(section)
    assert missing == [], f"keyaudit.example.toml does not document {', '.join(missing)}"


def test_config_digest_changes_with_a_value():
    a = load_config(environ={})
    b = load_config(environ={"KEYAUDIT_COLLECTION__CONCURRENCY": "3"})
    assert a.digest() != b.digest()


def test_remediation_warn_days_from_environment_are_comma_separated_and_sorted():
    config = load_config(environ={"KEYAUDIT_REMEDIATION__WARN_DAYS": "1, 14,7"})
    assert config.remediation.warn_days == [14, 7, 1]
    assert config.remediation.lead_days == 14


@pytest.mark.parametrize("days", ["[]", "[0]", "[7, 7]", "[400]"])
def test_bad_warn_days_are_refused_in_one_line(tmp_path: Path, days: str):
    path = tmp_path / "keyaudit.toml"
    path.write_text(f"[remediation]\nwarn_days = {days}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert message.startswith(f"{path}: remediation.warn_days = ")
    assert message.endswith("give distinct whole days between 1 and 365, e.g. [14, 7, 1]")
    assert "\n" not in message


def test_the_remediation_role_must_not_be_the_audit_role(tmp_path: Path):
    path = tmp_path / "keyaudit.toml"
    path.write_text('[aws]\nrole_name = "Auditor"\n[remediation]\nrole_name = "Auditor"\n')
    with pytest.raises(ConfigError, match="is the audit role"):
        load_config(path, environ={})


def test_deactivate_after_days_out_of_range_is_refused():
    with pytest.raises(ConfigError, match=r"remediation.deactivate_after_days = '0' is invalid"):
        load_config(environ={"KEYAUDIT_REMEDIATION__DEACTIVATE_AFTER_DAYS": "0"})
