"""The `[delivery]` section of keyaudit.toml: where a finished run's report goes.

The run folder is always written; S3 and e-mail are off until a bucket or an SMTP host is set.
No secret lives here: SMTP credentials are read from the environment variables this section
names, and S3 uses the standard AWS configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator

from keyaudit.model import check_address

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def _split(value: Any) -> Any:
    """A comma-separated string (from a KEYAUDIT_* variable) is a list."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


MAX_RETENTION_DAYS = 36500  # 100 years: a bound of keyaudit's own against a typo of a few zeros


@dataclass(frozen=True)
class Retention:
    """S3 Object Lock for a run's delivered objects: `mode` until the run's as-of + `days`.

    The date is anchored to the run's as-of, not to the moment of upload, so that an auditor
    re-computes it from the report alone (as-of + retention_days, UTC) and every delivery of
    the run, a resend with `keyaudit deliver` included, writes the same date on every object.
    """

    mode: Literal["governance", "compliance"]
    days: int

    def __str__(self) -> str:
        return f"{self.s3_mode} retention of {self.days} days"

    @property
    def s3_mode(self) -> str:
        """The value of PutObject's ObjectLockMode (x-amz-object-lock-mode)."""
        return self.mode.upper()

    def until(self, as_of: datetime | str) -> datetime:
        """The retain-until date of a run with this as-of, in UTC."""
        moment = datetime.fromisoformat(as_of) if isinstance(as_of, str) else as_of
        if moment.tzinfo is None:
            raise ValueError(f"as-of {as_of!r} has no time zone")  # never guess a zone
        return (moment + timedelta(days=self.days)).astimezone(UTC)

    @classmethod
    def from_section(cls, s3: Any) -> Retention | None:
        """The retention a stored `[delivery.s3]` section (a run's recorded configuration)
        asked for; None when it asked for none or predates retention."""
        if not isinstance(s3, dict) or not s3.get("bucket"):
            return None
        days, mode = s3.get("retention_days"), s3.get("retention_mode") or "governance"
        if not isinstance(days, int) or isinstance(days, bool) or days <= 0:
            return None
        return cls("compliance" if str(mode).lower() == "compliance" else "governance", days)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class S3Delivery(_Section):
    """Upload the run folder to `s3://<bucket>/<prefix>/<yyyy>/<mm>/<run_id>/…`."""

    bucket: str = Field("", pattern=r"^$|^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    prefix: str = Field("keyaudit", pattern=r"^[\w!\-.*'()/]*$", max_length=200)
    region: str | None = None
    sse: Literal["AES256", "aws:kms"] = "AES256"
    kms_key_id: str | None = Field(None, min_length=1, max_length=2048)
    # 0: e-mails link to the object in the S3 console (readers need AWS access); > 0: a
    # pre-signed URL valid this long, which anyone holding the e-mail can open.
    link_expiry_seconds: int = Field(0, ge=0, le=604800)
    # S3 Object Lock on every delivered object: 0 = none; n = locked until the run's as-of + n
    # days. The bucket must have Object Lock enabled (checked before anything is uploaded).
    retention_days: int = Field(0, ge=0, le=MAX_RETENTION_DAYS)
    retention_mode: Literal["governance", "compliance"] = "governance"

    @field_validator("retention_days", mode="before")
    @classmethod
    def _whole_days(cls, value: Any) -> Any:
        # `true` or 1.5 would pass as 1 day otherwise; a KEYAUDIT_* variable's "30" stays allowed
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("must be a whole number of days (0 = no retention)")
        return value

    @field_validator("retention_mode", mode="before")
    @classmethod
    def _mode_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @property
    def retention(self) -> Retention | None:
        """The Object Lock this section asks for, or None (no bucket, or retention_days 0)."""
        if not (self.bucket and self.retention_days):
            return None
        return Retention(self.retention_mode, self.retention_days)

    @field_validator("kms_key_id")
    @classmethod
    def _kms_needs_kms(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and info.data.get("sse") != "aws:kms":
            raise ValueError('a KMS key needs sse = "aws:kms"')
        return value


class EmailDelivery(_Section):
    """Send the compliance list a summary with the PDF, and each account owner their slice."""

    smtp_host: str = Field("", pattern=r"^[A-Za-z0-9.:\[\]-]*$", max_length=253)
    smtp_port: int | None = Field(None, ge=1, le=65535)  # default: 587 starttls, 465 smtps
    security: Literal["starttls", "smtps"] = "starttls"
    # CA bundle that signed the server's certificate, for a server with a private CA; default:
    # the system's trusted CAs. Certificates are always verified.
    ca_file: Path | None = None
    # Names of the environment variables holding the SMTP login, never the values. Both unset:
    # the server is used without authentication.
    username_env: str = "SMTP_USERNAME"
    password_env: str = "SMTP_PASSWORD"  # noqa: S105 — the name of a variable, not a password
    sender: str = Field("", validate_default=True)
    compliance: list[str] = Field(default_factory=list, validate_default=True)
    owners: bool = True
    owner_tag: str = Field("owner-email", min_length=1, max_length=128)
    ou_owners: dict[str, str] = Field(default_factory=dict)
    attachment_max_bytes: int = Field(10 * 2**20, ge=0, le=50 * 2**20)
    timeout_seconds: float = Field(30.0, gt=0, le=600)
    subject_prefix: str = Field("[keyaudit]", max_length=60, pattern=r"^[^\r\n]*$")

    @property
    def enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def port(self) -> int:
        return self.smtp_port or (465 if self.security == "smtps" else 587)

    @field_validator("username_env", "password_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError("must be an environment variable name like SMTP_PASSWORD")
        if value.startswith("KEYAUDIT_"):
            # KEYAUDIT_* variables are read as configuration keys, which would put the secret
            # into the configuration stored with every run.
            raise ValueError("must not start with KEYAUDIT_ (those variables are configuration)")
        return value

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str, info: ValidationInfo) -> str:
        if value:
            return check_address(value)
        if info.data.get("smtp_host"):
            raise ValueError("is needed when delivery.email.smtp_host is set")
        return value

    @field_validator("compliance", mode="before")
    @classmethod
    def _split_compliance(cls, value: Any) -> Any:
        return _split(value)

    @field_validator("compliance")
    @classmethod
    def _compliance(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if not value and info.data.get("smtp_host"):
            raise ValueError("must name at least one address when delivery.email.smtp_host is set")
        return [check_address(v) for v in value]

    @field_validator("ou_owners")
    @classmethod
    def _ou_owners(cls, value: dict[str, str]) -> dict[str, str]:
        for ou, address in value.items():
            if not (ou == "Root" or ou.startswith("Root/")):
                raise ValueError(f"{ou!r} is not an OU path like Root/Workloads/Prod")
            check_address(address)
        return value


class DeliveryConfig(_Section):
    """Retries shared by every target, then the targets."""

    attempts: int = Field(4, ge=1, le=10)  # per file and per message, the first included
    backoff_seconds: float = Field(5.0, ge=0, le=600)  # first wait; doubles, jittered
    s3: S3Delivery = Field(default_factory=S3Delivery)
    email: EmailDelivery = Field(default_factory=EmailDelivery)


def redacted_url(url: str) -> str:
    """`url` as it may be shown: scheme and host only, since the path or query of a webhook
    URL often is its token (https://hooks.example.com/…)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an unparsable URL)"
    if not parts.scheme or not host:
        return "(not a URL)"
    return f"{parts.scheme}://{host}{port}/…"


class TicketsConfig(_Section):
    """`[tickets]`: the webhook that hears of each new and resolved finding (off when empty).

    The URL is a SecretStr: it often carries a token, and the configuration is stored with
    every run (warehouse, evidence), where it shows as stars."""

    webhook_url: SecretStr = Field(SecretStr(""), validate_default=True)
    # CA bundle that signed the receiver's certificate, for a private CA; default: the system's
    # trusted CAs. Certificates are always verified.
    ca_file: Path | None = None
    timeout_seconds: float = Field(10.0, gt=0, le=120)

    @field_validator("webhook_url")
    @classmethod
    def _https(cls, value: SecretStr) -> SecretStr:
        from urllib.parse import urlsplit

        url = value.get_secret_value()
        if not url:
            return value
        try:
            parts = urlsplit(url)
            host = parts.hostname
            parts.port  # noqa: B018 (raises on a port that is not a number)
        except ValueError:
            raise ValueError("is not a URL; use https://host/path") from None
        if parts.scheme != "https" or not host:
            raise ValueError(
                "must be an https:// URL (findings are not sent in clear); for a receiver "
                "with a private CA set [tickets] ca_file"
            )
        if parts.username or parts.password:
            raise ValueError("must not carry a user or password; put the token in the path")
        return value

    @property
    def url(self) -> str:
        return self.webhook_url.get_secret_value()

    @field_validator("ca_file")
    @classmethod
    def _ca_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError("is not a file; point it at the PEM bundle of the receiver's CA")
        return value
