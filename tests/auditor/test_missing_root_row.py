"""A credential report without its <root_account> row: every report AWS writes has one, so the
account is partial and its root controls are not evaluated — never passed."""

from __future__ import annotations

from pathlib import Path

from tests.auditor.given import HEADER, A, B, alice, audit_files, bob, ci_deploy, folder_of, report


def without_root(account: str) -> str:
    return "\n".join([HEADER, alice(account), bob(account), ci_deploy(account)]) + "\n"


def test_a_report_without_its_root_row_leaves_the_account_partial_with_a_note(tmp_path: Path):
    folder = folder_of(tmp_path, {f"{A}.csv": without_root(A), f"{B}.csv": report(B)})
    run = audit_files(folder, tmp_path)

    status, error = run.account(A)
    assert status == "partial"
    assert error == (
        f"account {A}: the credential report has no <root_account> row, which every report AWS "
        "writes has: the root rules (root access key, root MFA, root use) are not evaluated in "
        "this account — collect the report again, or supply the complete file"
    )
    assert run.account(B) == ("assessed", None)
    assert [account for account, _ in run.notes("partial")] == [A]


def test_root_controls_of_an_account_without_its_root_row_are_not_evaluated(tmp_path: Path):
    run = audit_files(folder_of(tmp_path, {f"{A}.csv": without_root(A)}), tmp_path)
    results = run.rows(
        "select distinct rule_id, result, accounts_evaluated from control_results "
        "where run_id = ? and rule_id like 'ROOT_%' order by 1",
        run.run_id,
    )
    assert results == [
        ("ROOT_ACCESS_KEY_PRESENT", "not evaluated", 0),
        ("ROOT_MFA_DISABLED", "not evaluated", 0),
        ("ROOT_USED_RECENTLY", "not evaluated", 0),
    ]
    # the rest of the report is judged: bob has no MFA
    assert run.rows(
        "select distinct result from control_results where run_id = ? "
        "and rule_id = 'CONSOLE_USER_WITHOUT_MFA'",
        run.run_id,
    ) == [("fail",)]


def test_root_controls_still_pass_where_the_root_row_is_present(tmp_path: Path):
    run = audit_files(folder_of(tmp_path, {f"{A}.csv": report(A)}), tmp_path)
    results = run.rows(
        "select distinct rule_id, result from control_results "
        "where run_id = ? and rule_id like 'ROOT_%' order by 1",
        run.run_id,
    )
    assert {result for _, result in results} == {"pass"}
