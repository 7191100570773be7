"""Counts read as words wherever a run is told: "1 account", "2 open findings", "1 waived finding
is not counted" — in the e-mail subject and texts and the Prefect artifact, never "account(s)"."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from keyaudit.config.delivery import DeliveryConfig, EmailDelivery, S3Delivery
from keyaudit.delivery.messages import Links, _subject, summary_mail
from tests.flows.test_artifacts import SEV, digest, result


def plan(tmp_path: Path, **changes) -> SimpleNamespace:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    owner = SimpleNamespace(
        recipients=("pay@example.com",),
        account_ids=("111122223333",),
        key_account_ids=(),
        via="owner",
    )
    return SimpleNamespace(
        digest=digest(**changes),
        run_id="20261201T060000Z-abc123",
        pdf=pdf,
        slices=[SimpleNamespace(owner=owner, findings_total=1)],
        notes=[],
    )


def config() -> DeliveryConfig:
    email = EmailDelivery(
        smtp_host="smtp.example.com", sender="keyaudit@example.com", compliance=["grc@example.com"]
    )
    return DeliveryConfig(email=email)


def test_the_subject_counts_one_finding_and_one_account_in_the_singular():
    one = digest(open_total=1, in_scope=1, assessed=1, not_assessed=0, is_complete=True)
    assert "1 open finding (" in _subject("[keyaudit]", one)
    assert "1 of 1 account assessed" in _subject("[keyaudit]", one)
    assert "2 of 3 accounts assessed" in _subject("[keyaudit]", digest())


def test_the_summary_mail_says_one_account_and_one_waived_finding(tmp_path: Path):
    mail = summary_mail(
        plan(tmp_path, waived_total=1, in_scope=1, not_assessed=1),
        config(),
        Links(S3Delivery(), None, {}),
    )
    for body in (mail.text, mail.html):
        assert "(s)" not in body
        assert "1 waived finding is not counted as open." in body
        assert "pay@example.com: 1 account, 1 open finding" in body
        assert "1 of 1 account in scope could not be assessed" in body


def test_the_artifact_says_waived_findings_in_the_plural_and_one_in_the_singular(tmp_path: Path):
    from keyaudit.flows.artifacts import run_markdown

    assert "1 waived finding is not counted as open." in run_markdown(
        digest(waived_total=1), result(tmp_path)
    )
    assert "3 waived findings are not counted as open." in run_markdown(
        digest(waived_total=3, open_by_severity=SEV), result(tmp_path)
    )
