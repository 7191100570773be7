"""E-mail: build a message (HTML and text, attachments) and send it over SMTP with TLS.

STARTTLS on the submission port or implicit TLS (SMTPS); certificates are verified. The login
comes from the environment variables the configuration names, never from a file.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from keyaudit.config.delivery import EmailDelivery
from keyaudit.model import KeyauditError


class MailError(KeyauditError):
    """An e-mail could not be sent; `transient` says whether another attempt may succeed."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Attachment:
    filename: str
    path: Path
    maintype: str = "application"
    subtype: str = "pdf"


@dataclass(frozen=True)
class Mail:
    """One message to send: who, what, and the files to attach."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)

    def to_message(self, sender: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = ", ".join(self.to)
        message["Subject"] = self.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        for item in self.attachments:
            message.add_attachment(
                item.path.read_bytes(),
                maintype=item.maintype,
                subtype=item.subtype,
                filename=item.filename,
            )
        return message


def smtp_login(config: EmailDelivery, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The login from the environment variables named in the config; None when both are unset."""
    user, password = environ.get(config.username_env), environ.get(config.password_env)
    if not user and not password:
        return None
    if not (user and password):
        present, missing = (
            (config.username_env, config.password_env)
            if user
            else (config.password_env, config.username_env)
        )
        raise MailError(
            f"{present} is set but {missing} is not — set both (the SMTP login) or neither",
            transient=False,
        )
    return user, password


def _is_transient_code(code: int) -> bool:
    return 400 <= code < 500  # 4xx: try again later; 5xx: the server will keep refusing


class SmtpTransport:
    """Sends each message over its own TLS connection, so a failed one never poisons the next."""

    def __init__(
        self,
        config: EmailDelivery,
        login: tuple[str, str] | None,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self._login = login
        self._context = ssl_context or ssl.create_default_context()

    @property
    def where(self) -> str:
        return f"{self.config.smtp_host}:{self.config.port} ({self.config.security})"

    def send(self, message: EmailMessage) -> None:
        try:
            self._send(message)
        except MailError:
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise MailError(
                "every recipient was refused: "
                + ", ".join(
                    f"{rcpt} ({code} {text.decode(errors='replace')})"
                    for rcpt, (code, text) in exc.recipients.items()
                ),
                transient=all(_is_transient_code(c) for c in codes),
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(
                f"{self.where} refused the login ({exc.smtp_code}) — check "
                f"{self.config.username_env} and {self.config.password_env}",
                transient=False,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise MailError(
                f"{self.where} answered {exc.smtp_code} "
                f"{exc.smtp_error.decode(errors='replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}",
                transient=_is_transient_code(exc.smtp_code),
            ) from exc
        except ssl.SSLError as exc:  # before OSError: a bad certificate does not heal by retrying
            raise MailError(
                f"TLS with {self.where} failed: {exc} — check the server certificate",
                transient=False,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(
                f"cannot reach {self.where}: {type(exc).__name__}: {exc}", transient=True
            ) from exc

    def _send(self, message: EmailMessage) -> None:
        cfg = self.config
        smtp: smtplib.SMTP
        if cfg.security == "smtps":
            smtp = smtplib.SMTP_SSL(
                cfg.smtp_host, cfg.port, timeout=cfg.timeout_seconds, context=self._context
            )
        else:
            smtp = smtplib.SMTP(cfg.smtp_host, cfg.port, timeout=cfg.timeout_seconds)
        with smtp:
            smtp.ehlo()
            if cfg.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise MailError(
                        f'{self.where} does not offer STARTTLS — use security = "smtps" '
                        "or a server that encrypts; keyaudit never sends reports in clear text",
                        transient=False,
                    )
                smtp.starttls(context=self._context)
                smtp.ehlo()
            if self._login:
                if not smtp.has_extn("auth"):
                    raise MailError(
                        f"{self.where} offers no login (AUTH) — unset {cfg.username_env} and "
                        f"{cfg.password_env} to send without one",
                        transient=False,
                    )
                smtp.login(*self._login)
            refused = smtp.send_message(message)
        if refused:
            raise MailError(
                "some recipients were refused: "
                + ", ".join(f"{rcpt} ({code})" for rcpt, (code, _) in refused.items()),
                transient=False,
            )
