"""Where a run's AWS sessions come from: real AWS (standard boto3 configuration) or the
simulated organization of `keyaudit demo`. Both hand the same collection code a session
provider and a clock; only the demo's clock skips waiting, since moto answers at once.
The "files" source makes no AWS call: a folder of credential reports is read by
`keyaudit.sources.files`; its session provider is never used."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property

from keyaudit.config import Config
from keyaudit.extras import require_extra
from keyaudit.model import Calls, Clock, VirtualClock
from keyaudit.sources.aws.session import AccountSessions, SessionSettings
from keyaudit.sources.remote import WorkerSessions

SOURCES = ("aws", "demo", "files")


def session_settings(config: Config, run_id: str) -> SessionSettings:
    return SessionSettings(
        role_name=config.aws.role_name,
        external_id=config.aws.external_id,
        session_name=f"keyaudit-{run_id}"[:64],
        retry_mode=config.aws.retry_mode,
        max_attempts=config.aws.max_attempts,
        region=config.aws.region,
    )


class Source:
    """A run's session provider and clock. Sessions are made on first use: a files run never
    touches AWS, so a missing or broken AWS profile cannot stop it."""

    def __init__(
        self,
        name: str,
        make_sessions: Callable[[], AccountSessions],
        clock: Clock,
        remote: WorkerSessions | None = None,
    ):
        self.name = name
        self.clock = clock
        self._make_sessions = make_sessions
        # how worker processes (run.task_runner = "dask") make their own sessions; None when
        # the source lives only in this process
        self.remote = remote

    @cached_property
    def sessions(self) -> AccountSessions:
        return self._make_sessions()

    def run_calls(self) -> Calls:
        """The calls made so far for the run as a whole, from the caller's session (discovery,
        SCPs; keyaudit.sources.aws.calls); none when the run never made a session."""
        if "sessions" not in self.__dict__:
            return {}
        return self.sessions.calls.take(None)


def require_extras(name: str, config: Config) -> None:
    """Refuse, in one line naming the pip command, a run whose optional extra is missing: moto
    for the demo source, Dask for run.task_runner = "dask" (keyaudit.extras)."""
    if name == "demo":
        require_extra("demo")
    if config.run.task_runner == "dask" and name != "files":  # a files run collects nothing
        require_extra("dask")


@contextmanager
def open_source(
    name: str,
    config: Config,
    *,
    run_id: str,
    as_of: datetime,
    seed: int = 7,
    served: bool = False,
    demo_anchor: datetime | None = None,
) -> Iterator[Source]:
    """Sessions and clock for a run; the demo source lives only inside this block. `served`
    makes the demo reachable from worker processes too (keyaudit.sources.demo.served);
    `demo_anchor` is when its organization was first audited (keyaudit.warehouse.demo_anchor)."""
    require_extras(name, config)
    settings = session_settings(config, run_id)
    if name in ("aws", "files"):
        remote = WorkerSessions(run_id, settings)
        yield Source(name, lambda: AccountSessions(settings=settings), Clock(), remote)
    elif name == "demo" and served:
        from keyaudit.sources.demo.served import served_organization

        with served_organization(as_of, seed=seed, anchor=demo_anchor) as (org, customizer):
            sessions = AccountSessions(settings=settings, customizers=[org.customize])
            remote = WorkerSessions(run_id, settings, customizer, virtual_clock=True)
            yield Source(name, lambda: sessions, VirtualClock().as_clock(), remote)
    elif name == "demo":
        from keyaudit.sources.demo import simulated_organization  # moto is only needed for the demo

        with simulated_organization(as_of, seed=seed, anchor=demo_anchor) as org:
            sessions = AccountSessions(settings=settings, customizers=[org.customize])
            yield Source(name, lambda: sessions, VirtualClock().as_clock())
    else:
        raise ValueError(f"source {name!r} is not known; use one of {', '.join(SOURCES)}")
