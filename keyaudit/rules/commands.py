"""A rule's remediation command filled in for one finding, safe to paste into a shell.

A rule's YAML gives its AWS CLI command with placeholders (`<USER>`, `<KEY_ID>`, ...). Every
output that shows a command (CSV, JSON, OCSF, e-mail, report) fills it here, so each value is
shell-quoted the same way: a user named x$(touch pwned) stays one literal argument. A value the
audit does not know is never left as a placeholder a user could paste: the text becomes a shell
comment that says, in words, what to fill in.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from keyaudit.model import ROOT_USER

# Each placeholder a command may use, and what it stands for in words.
PLACEHOLDERS = {
    "ACCOUNT_ID": "the account id",
    "ROLE": "the audit role's name",
    "USER": "the IAM user's name",
    "KEY_ID": "the access key id",
    "UNUSED_KEY_ID": "the id of the key the workload does not use (compare their last use)",
    "ROOT_KEY_ID": "the root access key id (on the root user's Security credentials page)",
    "CREDENTIAL_ID": "the credential's id (aws iam list-ssh-public-keys, "
    "list-service-specific-credentials or list-signing-certificates shows it)",
}
PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]*)>")


def placeholders_in(template: str) -> list[str]:
    """The placeholder names a command template uses, in order of first use."""
    return list(_parsed(template)[1])


def template_parts(template: str | None) -> tuple[list[str], list[str]] | None:
    """A template cut at its placeholders and its placeholder names in order of first use (lists,
    for SQL that fills it: sql/report/export_macros.sql), or None for no template."""
    if not template:
        return None
    parts, names = _parsed(template)
    return list(parts), list(names)


@lru_cache(maxsize=256)
def _parsed(template: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A template cut at its placeholders (text, name, text, name, …, text) and its placeholder
    names in order of first use: parsed once per rule, not once per finding (an export fills
    the same few templates hundreds of thousands of times)."""
    parts = tuple(PLACEHOLDER.split(template))
    return parts, tuple(dict.fromkeys(parts[1::2]))


def audit_role(config_json: Any) -> str | None:
    """The role a run assumed in member accounts (aws.role_name of its recorded configuration)."""
    config = json.loads(config_json) if isinstance(config_json, str) else config_json
    aws = config.get("aws") if isinstance(config, Mapping) else None
    role = aws.get("role_name") if isinstance(aws, Mapping) else None
    return role if isinstance(role, str) and role else None


def fill_command(
    template: str | None,
    *,
    account_id: str | None = None,
    role: str | None = None,
    user_name: str | None = None,
    access_key_id: str | None = None,
    credential_id: str | None = None,
) -> str | None:
    """`template` with every known value shell-quoted in place of its placeholder
    (`credential_id`: the SSH key, service-specific credential or certificate a finding names).

    When a value is unknown, the result is a shell comment naming it in words, with the
    placeholder written as a bare word (`# fill in the access key id: aws iam ... KEY_ID`)."""
    if not template:
        return None
    values = {
        "ACCOUNT_ID": account_id,
        "ROLE": role,
        "USER": user_name if user_name != ROOT_USER else None,
        "KEY_ID": access_key_id,
        "ROOT_KEY_ID": access_key_id if user_name == ROOT_USER else None,
        "CREDENTIAL_ID": credential_id,
    }
    parts, names = _parsed(template)
    missing = [name for name in names if not values.get(name)]
    filled = list(parts)
    for i in range(1, len(filled), 2):  # the placeholders' places: each value quoted, or its name
        known = values.get(filled[i])
        if known:
            filled[i] = shlex.quote(known)
    command = "".join(filled)
    if not missing:
        return command
    words = " and ".join(PLACEHOLDERS.get(name, name) for name in missing)
    text = f"fill in {words} first, then run: {command}"
    # A comment on every line: pasted as it is, nothing runs.
    return "\n".join(f"# {line}" for line in text.splitlines())
