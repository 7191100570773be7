"""Remediation commands are safe to paste: every value is shell-quoted, and a value the audit
does not know is said in words inside a shell comment, never left as a placeholder."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
from test_catalogue import copy_rule, refusal

from keyaudit.paths import SQL_DIR
from keyaudit.rules.catalogue import load_catalogue
from keyaudit.rules.commands import PLACEHOLDERS, audit_role, fill_command, placeholders_in

HOSTILE_USER = "x$(touch pwned)`id`"
ROTATE = "aws iam update-access-key --user-name <USER> --access-key-id <KEY_ID> --status Inactive"
ASSUME = (
    "aws sts assume-role --role-arn arn:aws:iam::<ACCOUNT_ID>:role/<ROLE> "
    "--role-session-name keyaudit-check"
)


def bash_words(command: str, cwd: Path) -> list[str]:
    """The arguments bash would pass for `command`, expanded by bash itself but never run."""
    script = "set -- " + command + '\nfor a in "$@"; do printf "%s\\0" "$a"; done'
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        cwd=cwd,
        capture_output=True,
        check=True,
        timeout=10,
        env={"PATH": "/usr/bin:/bin"},
    )
    return done.stdout.decode().split("\0")[:-1]


def test_a_hostile_user_name_is_one_literal_argument(tmp_path: Path):
    command = fill_command(ROTATE, user_name=HOSTILE_USER, access_key_id="AKIAHOSTILE000000001")
    assert command is not None
    expected = [
        "aws", "iam", "update-access-key", "--user-name", HOSTILE_USER,
        "--access-key-id", "AKIAHOSTILE000000001", "--status", "Inactive",
    ]  # fmt: skip
    assert shlex.split(command) == expected
    assert bash_words(command, tmp_path) == expected
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    "key_id", ["AKIA'; touch pwned; '", "$(touch pwned)", "a b\nc", "-x", "--status Active"]
)
def test_a_hostile_key_id_is_one_literal_argument(key_id: str, tmp_path: Path):
    command = fill_command(ROTATE, user_name="alice", access_key_id=key_id)
    assert command is not None
    assert shlex.split(command)[6] == key_id
    assert bash_words(command, tmp_path)[6] == key_id
    assert not (tmp_path / "pwned").exists()


def test_the_account_and_the_audit_role_fill_the_role_arn():
    assert fill_command(ASSUME, account_id="012345678901", role="KeyAuditReader") == (
        "aws sts assume-role --role-arn arn:aws:iam::012345678901:role/KeyAuditReader "
        "--role-session-name keyaudit-check"
    )


def test_an_unknown_value_is_said_in_words_in_a_comment_that_runs_nothing(tmp_path: Path):
    command = fill_command(ASSUME, account_id="012345678901")
    assert command == (
        "# fill in the audit role's name first, then run: aws sts assume-role --role-arn "
        "arn:aws:iam::012345678901:role/ROLE --role-session-name keyaudit-check"
    )
    assert shlex.split(command, comments=True) == []
    assert bash_words(command, tmp_path) == []


def test_a_value_with_a_line_break_cannot_escape_the_comment(tmp_path: Path):
    command = fill_command(ROTATE, user_name="x\ntouch pwned")  # the key id is not known
    assert command is not None
    assert all(line.startswith("# ") for line in command.splitlines())
    assert bash_words(command, tmp_path) == []
    assert not (tmp_path / "pwned").exists()


def test_the_root_user_is_never_put_in_for_a_user_name():
    command = fill_command(ROTATE, user_name="<root_account>", access_key_id="AKIAROOT")
    assert command is not None and command.startswith("# fill in the IAM user's name first")
    assert "<" not in command


def test_a_rule_without_a_template_has_no_command():
    assert fill_command(None, user_name="bob") is None
    assert fill_command("", user_name="bob") is None


def test_audit_role_is_read_from_the_recorded_configuration():
    assert audit_role('{"aws": {"role_name": "KeyAuditReader"}}') == "KeyAuditReader"
    assert audit_role({"aws": {"role_name": "OrganizationAccountAccessRole"}}) == (
        "OrganizationAccountAccessRole"
    )
    assert audit_role('{"report": {}}') is None
    assert audit_role(None) is None


def test_every_catalogue_command_uses_only_placeholders_keyaudit_fills():
    for rule in load_catalogue(folder=SQL_DIR / "rules"):
        assert set(placeholders_in(rule.command)) <= set(PLACEHOLDERS), rule.rule_id


def test_a_command_with_an_unknown_placeholder_is_refused(tmp_path: Path):
    copy_rule(
        tmp_path, command="aws iam delete-access-key --access-key-id <KEY> --user-name <USER>"
    )
    assert refusal(tmp_path) == (
        "ACCESS_KEY_UNUSED.yml: command uses <KEY>, which keyaudit cannot fill in; use "
        "<ACCOUNT_ID>, <ROLE>, <USER>, <KEY_ID>, <UNUSED_KEY_ID>, <ROOT_KEY_ID>, <CREDENTIAL_ID> or a literal value"
    )
