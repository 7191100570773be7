"""Watching a run from the outside: every API call it makes (by the session that made it) and
every assumed-role secret it receives, so that tests can look for those secrets everywhere the
run left something. Used by the in-process demo run (tests/security) and by the Prefect flow
run (tests/flows/test_on_prefect.py: Prefect's own records)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

import keyaudit.sources.provider
from keyaudit.sources.aws.session import AccountSessions
from tests.faults.fault_harness import FaultInjector


class SecretWatch:
    """A call recorder and the secrets of every AssumeRole answer the caller's session got."""

    def __init__(self) -> None:
        self.recorder = FaultInjector()
        self.secrets: set[str] = set()

    def _keep_secrets(self, account_id: str, session: boto3.Session) -> None:
        def grab(parsed: dict[str, Any], **_: Any) -> None:
            creds = parsed.get("Credentials") or {}
            self.secrets.update(
                v for k, v in creds.items() if k in ("SecretAccessKey", "SessionToken")
            )

        if account_id == "base":
            session.events.register("after-call.sts.AssumeRole", grab)

    @contextmanager
    def on(self, monkey: pytest.MonkeyPatch) -> Iterator[SecretWatch]:
        """Every AccountSessions the run's source makes records calls and keeps secrets."""
        watch = self

        class Recording(AccountSessions):
            def __init__(self, base: Any = None, settings: Any = None, customizers: Any = ()):
                extra = [watch.recorder.customize, watch._keep_secrets]
                super().__init__(base, settings, [*customizers, *extra])

        monkey.setattr(keyaudit.sources.provider, "AccountSessions", Recording)
        yield self

    def leaked(self, text: str | bytes) -> list[str]:
        """The secrets found in `text`, shortened so that a failure does not print them."""
        found = [s for s in self.secrets if (s.encode() if isinstance(text, bytes) else s) in text]
        return [s[:6] + "…" for s in found]


class KeepLogs(logging.Handler):
    """Every log record of the run, as text with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text}")

    @contextmanager
    def on(
        self, names: Iterable[str] = ("", "keyaudit", "prefect", "botocore", "moto")
    ) -> Iterator[KeepLogs]:
        """Everything the run's own loggers say, and what the libraries say at INFO."""
        loggers = [logging.getLogger(n) for n in names]
        saved = [(lg, lg.level) for lg in loggers]
        for lg in loggers:
            lg.addHandler(self)
        logging.getLogger("").setLevel(logging.INFO)
        logging.getLogger("keyaudit").setLevel(logging.DEBUG)
        logging.getLogger("prefect").setLevel(logging.DEBUG)
        try:
            yield self
        finally:
            for lg, level in saved:
                lg.removeHandler(self)
                lg.setLevel(level)
