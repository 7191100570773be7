"""Where a run's AWS sessions come from: real AWS (standard boto3 configuration) or the
simulated organization of `keyaudit demo`. Both hand the same collection code a session
provider and a clock; only the demo's clock skips waiting, since moto answers at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from keyaudit.aws.session import AccountSessions, SessionSettings
from keyaudit.collect import Clock
from keyaudit.config import Config

SOURCES = ("aws", "demo")


@dataclass
class VirtualClock:
    """A clock whose sleep advances time instantly: for the in-process simulation only."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now

    def as_clock(self) -> Clock:
        return Clock(sleep=self.sleep, monotonic=self.monotonic)


def session_settings(config: Config, run_id: str) -> SessionSettings:
    return SessionSettings(
        role_name=config.aws.role_name,
        external_id=config.aws.external_id,
        session_name=f"keyaudit-{run_id}"[:64],
        retry_mode=config.aws.retry_mode,
        max_attempts=config.aws.max_attempts,
        region=config.aws.region,
    )


@dataclass
class Source:
    name: str
    sessions: AccountSessions
    clock: Clock


@contextmanager
def open_source(
    name: str, config: Config, *, run_id: str, as_of: datetime, seed: int = 7
) -> Iterator[Source]:
    """Sessions and clock for a run; the demo source lives only inside this block."""
    settings = session_settings(config, run_id)
    if name == "aws":
        yield Source(name, AccountSessions(settings=settings), Clock())
    elif name == "demo":
        from keyaudit.demo import simulated_organization  # moto is only needed for the demo

        with simulated_organization(as_of, seed=seed) as org:
            sessions = AccountSessions(settings=settings, customizers=[org.customize])
            yield Source(name, sessions, VirtualClock().as_clock())
    else:
        raise ValueError(f"source {name!r} is not known; use one of {', '.join(SOURCES)}")
