"""Helpers of the delivery tests: the configuration that mails through the loopback server."""

from __future__ import annotations

from typing import Any

from keyaudit.config import Config

COMPLIANCE = "grc@example.com"
SENDER = "keyaudit@example.com"


def email_config(port: int = 25, **email: Any) -> Config:
    """A configuration that mails the compliance list and the owners through 127.0.0.1:port."""
    delivery = email.pop("delivery", {})
    return Config.model_validate(
        {
            "delivery": {
                "backoff_seconds": 2,
                **delivery,
                "email": {
                    "smtp_host": "127.0.0.1",
                    "smtp_port": port,
                    "sender": SENDER,
                    "compliance": [COMPLIANCE],
                    **email,
                },
            }
        }
    )
