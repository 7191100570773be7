"""Per-owner delivery by key owner, against a real SMTP server on loopback (issue 22.2): a person
named by a user tag or a key description gets the findings of their keys and nothing else, the
account's owner gets the rest of the account, and the compliance summary says who got what."""

from __future__ import annotations

import csv
import io
import json
import logging
import re

import pytest

from keyaudit.delivery.dispatch import DeliveryPlan, prepare_delivery, send_delivery
from keyaudit.delivery.mail import SmtpTransport
from keyaudit.report import FILE_NAMES, build_report_context, render_html, write_report
from keyaudit.rules.catalogue import load_catalogue
from keyaudit.sources.demo.personas import expected_key_owner
from keyaudit.warehouse.db import connect
from tests.delivery.delivery_helpers import COMPLIANCE, email_config
from tests.delivery.smtp_server import PASSWORD, USER
from tests.runs import DemoRun, copy_run

PDF_ROWS = 50  # tests/runs.py's pdf_detail_limit: an owner of several accounts gets some cut

pytestmark = [
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated"),
    pytest.mark.slow,  # a demo run, per-owner PDFs and a real SMTP server
]


@pytest.fixture(scope="module")
def prepared(
    demo_run: DemoRun, tmp_path_factory: pytest.TempPathFactory
) -> tuple[DemoRun, DeliveryPlan]:
    run = copy_run(demo_run, tmp_path_factory.mktemp("owner-email"))
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


@pytest.fixture
def sent(prepared, smtp, sleeps):
    """Every message of the demo's delivery, as the server received them."""
    _, plan = prepared
    config = email_config(smtp.port).delivery
    transport = SmtpTransport(config.email, (USER, PASSWORD), ssl_context=smtp.client_context)
    report = send_delivery(plan, config, transport=transport, sleep=sleeps.append)
    assert report.ok, report.problem()
    return smtp.recorder


def key_owners(run: DemoRun) -> dict[str, set[str]]:
    """Owner address → the access key ids a user tag or a key description gives them."""
    found: dict[str, set[str]] = {}
    active = {a.account_id for a in run.org.accounts if a.state == "ACTIVE"}
    accounts = active - {run.org.missing_role_account_id}
    for user in run.org.users:
        for key in user.keys:
            owner, _ = expected_key_owner(user, key)
            if owner and user.account_id in accounts:
                found.setdefault(owner, set()).add(key.access_key_id)
    return found


def test_a_key_owner_gets_only_the_findings_of_their_keys_with_them_attached_as_csv(prepared, sent):
    run, plan = prepared
    owners = key_owners(run)
    with_findings = [s for s in plan.slices if s.owner.recipients[0] in owners]
    assert with_findings  # the demo has keys owned by user tag and by description with findings
    for piece in with_findings:
        (address,) = piece.owner.recipients
        (received,) = sent.to(address)
        assert "— your access keys:" in received.message["Subject"]
        text = received.message.get_body(("plain",)).get_content()
        assert "access keys in the accounts below name you as their owner" in text
        (part,) = list(received.message.iter_attachments())
        assert part.get_filename().endswith(".csv")
        assert part.get_content_type() == "text/csv"
        content = part.get_payload(decode=True).decode("utf-8")
        rows = list(csv.DictReader(io.StringIO(content)))
        assert rows and {r["access_key_id"] for r in rows} <= owners[address]
        assert {r["owner"] for r in rows} == {address}
        assert {r["owner_source"] for r in rows} <= {"user_tag", "key_description"}
        assert piece.owner.account_ids == ()  # no account names them: no account report
        assert not (piece.folder / "report.pdf").exists()


def test_the_account_owner_gets_the_rest_of_the_account_but_not_keys_others_own(prepared, sent):
    run, plan = prepared
    owned_keys = set().union(*key_owners(run).values())
    account_slices = [s for s in plan.slices if s.owner.account_ids and s.owner.via == "owner"]
    assert account_slices
    for piece in account_slices:
        records = json.loads((piece.folder / "findings.json").read_text())["findings"]
        assert records
        assert not {r["access_key_id"] for r in records} & owned_keys
        assert {r["owner"] for r in records} == set(piece.owner.recipients)
        (received,) = sent.to(piece.owner.recipients[0])
        text = received.message.get_body(("plain",)).get_content()
        assert not [k for k in owned_keys if k in text.split("The PDF report")[0]]
        (part,) = list(received.message.iter_attachments())
        assert part.get_filename().endswith(".pdf")


def test_the_compliance_summary_says_which_owner_got_keys_in_other_accounts(prepared, sent):
    _, plan = prepared
    (received,) = sent.to(COMPLIANCE)
    text = received.message.get_body(("plain",)).get_content()
    some = next(s for s in plan.slices if s.owner.key_account_ids and not s.owner.account_ids)
    count = len(some.owner.key_account_ids)
    assert (
        f"  {some.owner.recipients[0]}: 0 accounts, keys in {count} other "
        f"account{'s' if count > 1 else ''}, "
    ) in text
    assert "note: user " in text and "'platform team' is not an e-mail address" in text


def test_an_owners_pdf_links_only_to_sections_it_has(prepared, tmp_path, caplog):
    """An owner's PDF has sections only for the accounts its row budget reaches (50 rows here, as
    the demo run's configuration): the summary names the others as text, never as a link
    WeasyPrint cannot resolve ("No anchor #account-… for internal URI reference")."""
    run, plan = prepared
    account_slices = [s for s in plan.slices if s.owner.account_ids]
    assert account_slices
    left_out = 0
    con = connect(run.warehouse, read_only=True)
    try:
        for piece in account_slices:
            folder = tmp_path / piece.owner.slug
            with caplog.at_level(logging.WARNING, logger="weasyprint"):
                written = write_report(
                    con,
                    run.run_id,
                    folder,
                    rules=load_catalogue(),
                    account_ids=piece.owner.account_ids,
                    formats="pdf",
                    names=FILE_NAMES,
                    pdf_detail_limit=PDF_ROWS,
                )
            assert written.pdf_pages
            html = render_html(
                build_report_context(
                    con,
                    run.run_id,
                    rules=load_catalogue(),
                    account_ids=piece.owner.account_ids,
                    pdf_detail_limit=PDF_ROWS,
                ),
                for_pdf=True,
            )
            ids = set(re.findall(r'id="(account-[0-9]+)"', html))
            left_out += len(
                set(piece.owner.account_ids) - {i.removeprefix("account-") for i in ids}
            )
            assert set(re.findall(r'href="#(account-[0-9]+)"', html)) <= ids
    finally:
        con.close()
    assert left_out, "every owner's PDF had a section for each of its accounts: nothing to show"
    anchors = [r.getMessage() for r in caplog.records if "anchor" in r.getMessage()]
    assert anchors == []
