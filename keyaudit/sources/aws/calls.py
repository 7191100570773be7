"""The run's own record of the AWS calls it made: how many of each `service:Operation`, per
account, counted as the calls are made. The report's methodology lists these, never a list
written by hand, so it names exactly what the run did (and a files run, which calls nothing,
names nothing).

Counted on botocore's `before-parameter-build`, which every API call emits once (its retries
are attempts of the same call) and to every handler, before any hook may answer in place of the
service (the demo's AssumeRole check, the fault tests' injected errors): a call that is refused,
denied or answered by a stand-in counts, and nothing else does. AssumeRole, made from the
caller's session, counts for the account it opens; the caller's other calls (who am I,
Organizations, SCPs) are the run's own.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

from keyaudit.model import Calls, is_account_id


def call_name(service: str, operation: str) -> str:
    """`iam:GetCredentialReport`: the service as IAM policies name it, and the operation."""
    return f"{service}:{operation}"


def split_call(name: str) -> tuple[str, str]:
    service, _, operation = name.partition(":")
    return service, operation


class CallRecord:
    """Counts the calls of every session it is attached to; safe across collecting threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str | None, str]] = Counter()

    def attach(self, session: Any, account_id: str | None) -> None:
        """Count `session`'s calls for `account_id` (None: the run's own, from the caller's
        session). Attach before the session makes its first client: clients copy its hooks."""

        def record(model: Any, params: Mapping[str, Any], **_: Any) -> None:
            owner = account_id
            if owner is None and model.name == "AssumeRole":
                owner = _account_of_role(params.get("RoleArn"))
            name = call_name(model.service_model.signing_name, model.name)
            with self._lock:
                self._counts[(owner, name)] += 1

        session.events.register("before-parameter-build", record)

    def take(self, account_id: str | None) -> Calls:
        """The calls counted for `account_id` (None: the run's own) since the last take."""
        with self._lock:
            mine = {name: n for (owner, name), n in self._counts.items() if owner == account_id}
            for name in mine:
                del self._counts[(account_id, name)]
        return dict(sorted(mine.items()))


def _account_of_role(arn: Any) -> str | None:
    parts = str(arn or "").split(":")
    return parts[4] if len(parts) >= 6 and is_account_id(parts[4]) else None
