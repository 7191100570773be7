"""The e-mails of a delivery: the compliance summary and one message per account owner.

Python decides every figure and line; the templates (reports/templates/email_*.j2) only render,
HTML autoescaped, with a plain-text alternative. Every value either prints has its control
characters, line separators and bidi marks written as visible escapes (textsafe.template_value):
a user name holding a newline cannot add a line to the message. A PDF over the size limit is not
attached: the message links to its S3 object instead, or names where it lies when it was not
uploaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import jinja2

from keyaudit.config.delivery import DeliveryConfig, EmailDelivery, S3Delivery
from keyaudit.delivery.mail import Attachment, Mail
from keyaudit.model import HEADLINE_SEVERITIES
from keyaudit.paths import TEMPLATES_DIR
from keyaudit.report.digest import AccountLine, RunDigest
from keyaudit.report.methodology import waiver_scope
from keyaudit.textsafe import template_value
from keyaudit.words import counted, plural

if TYPE_CHECKING:
    from keyaudit.delivery.plan import DeliveryPlan, OwnerSlice

TOP_ACCOUNTS = 10


def s3_key(prefix: str, as_of: str, run_id: str, relative: str) -> str:
    """<prefix>/<yyyy>/<mm>/<run_id>/<relative>: objects sort by the audited month."""
    from datetime import datetime

    month = datetime.fromisoformat(as_of).strftime("%Y/%m")
    return "/".join(p for p in (prefix.strip("/"), month, run_id, relative) if p)


class Links:
    """Where a file too large to attach can be read instead: its S3 object, if uploaded."""

    def __init__(self, cfg: S3Delivery, client: Any, uploaded: Mapping[Path, str]) -> None:
        self.cfg, self.client, self.uploaded = cfg, client, uploaded

    def for_file(self, path: Path) -> tuple[str, str] | None:
        key = self.uploaded.get(path)
        if key is None:
            return None
        label = f"s3://{self.cfg.bucket}/{key}"
        if self.cfg.link_expiry_seconds and self.client is not None:
            url = self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.cfg.bucket, "Key": key},
                ExpiresIn=self.cfg.link_expiry_seconds,
            )
            return url, label
        region = self.cfg.region or "us-east-1"
        url = (
            f"https://{region}.console.aws.amazon.com/s3/object/{self.cfg.bucket}"
            f"?region={region}&prefix={quote(key, safe='')}"
        )
        return url, label


# What an e-mail attaches: the PDF report, or an owner's findings as CSV.
_MIME_TYPES = {".pdf": ("application", "pdf"), ".csv": ("text", "csv")}


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{max(1, round(n / 1024))} KB"


def _attachment(
    path: Path, filename: str, cfg: EmailDelivery, links: Links, what: str = "The PDF report"
) -> tuple[dict[str, Any], tuple[Attachment, ...]]:
    size = path.stat().st_size
    info: dict[str, Any] = {
        "what": what,
        "filename": filename,
        "size": _size(size),
        "attached": size <= cfg.attachment_max_bytes,
        "link": None,
        "link_label": None,
        "local_path": str(path.resolve()),
    }
    if info["attached"]:
        maintype, subtype = _MIME_TYPES.get(path.suffix, ("application", "octet-stream"))
        return info, (Attachment(filename, path, maintype, subtype),)
    link = links.for_file(path)
    if link:
        info["link"], info["link_label"] = link
    return info, ()


@lru_cache(maxsize=2)
def _templates(folder: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=True, default=False
        ),
        undefined=jinja2.StrictUndefined,
        finalize=template_value,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["plural"] = plural  # "account"|plural(n)
    env.filters["counted"] = counted  # n|counted("account") -> "1 account", "2 accounts"
    return env


def _render(name: str, context: Mapping[str, Any]) -> tuple[str, str]:
    env = _templates(TEMPLATES_DIR)
    return (
        env.get_template(f"{name}.txt.j2").render(context),
        env.get_template(f"{name}.html.j2").render(context),
    )


def _percent(digest: RunDigest) -> str:
    return f"{digest.coverage * 100:.1f} %"


def _subject(
    prefix: str,
    digest: RunDigest,
    who: str | None = None,
    open_by_severity: Mapping[str, int] | None = None,
) -> str:
    """The subject line; `open_by_severity` counts an owner's own findings instead of the
    digest's accounts' (an account's owner does not get the keys others own there)."""
    whose = f" — {who}" if who else ""
    counts = open_by_severity if open_by_severity is not None else digest.open_by_severity
    total = sum(counts.values()) if open_by_severity is not None else digest.open_total
    worst = [f"{counts.get(s, 0)} {s}" for s in HEADLINE_SEVERITIES if counts.get(s, 0)][:2]
    text = (
        f"{prefix} {digest.title} {digest.period}{whose}: "
        f"{counted(total, 'open finding')} ({', '.join(worst) or 'none'}), "
        f"{digest.assessed} of {counted(digest.in_scope, 'account')} assessed"
    )
    if not digest.is_complete:
        text += " — INCOMPLETE"
    return " ".join(text.split())  # one line, whatever the title holds


def _account_row(a: AccountLine) -> dict[str, Any]:
    return {
        "account_id": a.account_id,
        "name": a.name,
        "ou_path": a.ou_path,
        "status": a.status.replace("_", " "),
        "open": "—" if a.open_findings is None else a.open_findings,
        "critical": a.open_by_severity["critical"],
        "high": a.open_by_severity["high"],
        "error": a.error,
    }


def _base_context(digest: RunDigest, subject: str, attachment: dict[str, Any]) -> dict[str, Any]:
    return {
        "subject": subject,
        "title": digest.title,
        "organization_name": digest.organization_name,
        "run_id": digest.run_id,
        "as_of": digest.as_of.replace("+00:00", "Z"),
        "period": digest.period,
        "is_complete": digest.is_complete,
        "attachment": attachment,
    }


def summary_mail(plan: DeliveryPlan, config: DeliveryConfig, links: Links) -> Mail:
    """The compliance list's message: the whole run in numbers, the full PDF attached."""
    digest, email = plan.digest, config.email
    subject = _subject(email.subject_prefix, digest)
    attachment, files = _attachment(plan.pdf, f"keyaudit-{plan.run_id}.pdf", email, links)
    assessed = [a for a in digest.accounts if a.open_findings]
    top = sorted(
        assessed,
        key=lambda a: (
            -a.open_by_severity["critical"],
            -a.open_by_severity["high"],
            -(a.open_findings or 0),
            a.account_id,
        ),
    )[:TOP_ACCOUNTS]
    context = {
        **_base_context(digest, subject, attachment),
        "coverage": {
            "in_scope": digest.in_scope,
            "assessed": digest.assessed,
            "partial": digest.partial,
            "not_assessed": digest.not_assessed,
            "skipped": digest.skipped,
            "percent": _percent(digest),
        },
        "has_changes": digest.new is not None,
        "previous_run_id": digest.previous_run_id,
        "severities": [
            {
                "severity": s,
                "open": digest.open_by_severity[s],
                "new": digest.new_by_severity.get(s, 0),
                "resolved": digest.resolved_by_severity.get(s, 0),
            }
            for s in HEADLINE_SEVERITIES
        ],
        "open_total": digest.open_total,
        "waived_total": digest.waived_total,
        "new": digest.new,
        "resolved": digest.resolved,
        "top_accounts": [_account_row(a) for a in top],
        "not_assessed": [
            _account_row(a)
            for a in digest.accounts
            if a.status not in ("assessed", "partial", "skipped")
        ],
        "owners": [
            {
                "recipients": ", ".join(s.owner.recipients),
                "accounts": len(s.owner.account_ids),
                "key_accounts": len(s.owner.key_account_ids),
                "open": s.findings_total,
                "unowned": s.owner.via == "compliance",
            }
            for s in plan.slices
        ],
        "owner_tag": email.owner_tag,
        "notes": list(plan.notes),
        "s3_location": (
            f"s3://{config.s3.bucket}/"
            + s3_key(config.s3.prefix, digest.as_of, plan.run_id, "")
            + "/"
            if links.uploaded
            else None
        ),
    }
    text, html = _render("email_summary", context)
    return Mail(tuple(email.compliance), subject, text, html, files)


def owner_mail(plan: DeliveryPlan, piece: OwnerSlice, config: DeliveryConfig, links: Links) -> Mail:
    """One owner's message: their accounts, open findings with the command to fix each."""
    email, digest, owner = config.email, piece.digest, piece.owner
    unowned = owner.via == "compliance"
    if unowned:
        who = "accounts and keys without an owner"
    else:
        who = "your accounts" if owner.account_ids else "your access keys"
    subject = _subject(email.subject_prefix, digest, who, piece.open_by_severity)
    path = piece.attachment
    attachment, files = _attachment(
        path,
        f"keyaudit-{plan.run_id}-{owner.slug}{path.suffix}",
        email,
        links,
        "The PDF report" if piece.pdf else "Your findings (CSV)",
    )
    context = {
        **_base_context(digest, subject, attachment),
        "unowned": unowned,
        "owns_accounts": bool(owner.account_ids),
        "key_accounts": list(owner.key_account_ids),
        "owner_tag": email.owner_tag,
        "accounts": [_account_row(a) for a in digest.accounts],
        "findings": [
            {
                "severity": f["severity"],
                "rule_id": f["rule_id"],
                "account_id": f["account_id"],
                "user_name": f["user_name"],
                # the key, SSH key or other credential it names (an older export: its key id)
                "credential_id": f.get("credential_id", f["access_key_id"]),
                "reason": f["reason"],
                "command": f["remediation_command"],
            }
            for f in piece.findings
        ],
        "findings_total": piece.findings_total,
        "fix_first": [
            {
                "rank": k["fix_rank"],
                "account_id": k["account_id"],
                "user_name": k["user_name"],
                "key": k["key"],
                "severity": k["severity"],
                "why": k["why"],
            }
            for k in piece.fix_first
        ],
        "waivers_to_review": [
            {
                "waiver_id": w["waiver_id"],
                "rule_id": w["rule_id"],
                "scope": waiver_scope(w),
                "expires_on": w["expires_on"].isoformat(),
                "ticket": w["ticket"],
            }
            for w in piece.waivers_to_review
        ],
        "deactivations": [
            {
                "account_id": k["account_id"],
                "user_name": k["user_name"],
                "access_key_id": k["access_key_id"],
                "rule_ids": ", ".join(k["rule_ids"]),
                "deactivate_on": k["deactivate_on"],
                "warn_on": ", ".join(d for d in k["warn_on"] if d >= digest.as_of[:10]),
            }
            for k in piece.deactivations
        ],
    }
    text, html = _render("email_owner", context)
    return Mail(piece.owner.recipients, subject, text, html, files)
