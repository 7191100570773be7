"""Record every AWS answer of a collection against the simulated organization, then answer the
same requests again with a chosen latency and no simulator in the process.

Why: moto runs inside the collecting process, so its own CPU work (the "server") competes with
the collector for the GIL; with 16 threads it, not the collector, would decide the wall time.
Real AWS answers from elsewhere. Replaying recorded HTTP responses keeps everything the client
really does (serialize, sign, send, parse, retry logic, our code, evidence writes) and adds only
a sleep per call, the latency of a remote service.

A recorded answer is replayed at `before-send` as raw HTTP, so botocore parses it as it would a
response from AWS; errors the simulation made up in a `before-call` hook (AssumeRole on a
missing role) are replayed there the same way. The simulation's fixes to moto's answers
(`after-call`: the real-format credential report, the root facts of GetAccountSummary) are
applied again after parsing.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

CallKey = tuple[str, str, str]  # account (or "base"), operation, parameters as JSON
FIXED_AFTER_PARSING = {
    "GetCredentialReport": ("Content", "GeneratedTime"),
    "GetAccountSummary": ("SummaryMap",),
}
_KEY = "keyaudit_bench_key"


def call_key(account_id: str, operation: str, params: dict[str, Any]) -> CallKey:
    return (account_id, operation, json.dumps(params, sort_keys=True, default=str))


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    parsed: dict[str, Any]


@dataclass
class Recorder:
    """Session customizer (put it first): keeps the answer to every call, by call key."""

    answers: dict[CallKey, Answer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def customize(self, account_id: str, session: boto3.Session) -> None:
        def remember_key(
            params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
        ) -> None:
            context[_KEY] = call_key(account_id, model.name, params)

        def keep(
            http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
        ) -> None:
            # `parsed` is the very dict later hooks fix in place; it is copied when replayed
            answer = Answer(
                http_response.status_code,
                dict(http_response.headers),
                bytes(http_response.content or b""),
                parsed,
            )
            with self._lock:
                self.answers[context[_KEY]] = answer

        session.events.register("before-parameter-build", remember_key)
        session.events.register("after-call", keep)


@dataclass
class Replayer:
    """Session customizer answering from a recording, after `latency` seconds per call."""

    answers: dict[CallKey, Answer]
    latency: float
    calls: int = 0
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def customize(self, account_id: str, session: boto3.Session) -> None:
        def find(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            key = call_key(account_id, model.name, params)
            if key not in self.answers:
                raise RuntimeError(f"no recorded answer for {key[:2]} — record again")
            context[_KEY] = key

        def answer(
            context: dict[str, Any], model: Any, **_: Any
        ) -> tuple[Any, dict[str, Any]] | None:
            with self._lock:
                self.calls += 1
            if self.latency:
                time.sleep(self.latency)
            recorded = self.answers[context[_KEY]]
            if recorded.status >= 300:  # made up by a before-call hook: answer the same way
                http = AWSResponse(
                    "https://replay.invalid/", recorded.status, recorded.headers, None
                )
                http._content = recorded.body
                return http, copy.deepcopy(recorded.parsed)
            self._local.pending = recorded
            return None

        def send(request: Any, **_: Any) -> AWSResponse:
            recorded = self._local.pending
            self._local.pending = None
            http = AWSResponse(request.url, recorded.status, recorded.headers, None)
            http._content = recorded.body
            return http

        def fix(parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            fields = FIXED_AFTER_PARSING.get(model.name, ())
            if fields and parsed.get("ResponseMetadata", {}).get("HTTPStatusCode", 200) < 300:
                recorded = self.answers[context[_KEY]].parsed
                parsed.update({name: recorded[name] for name in fields if name in recorded})

        session.events.register("before-parameter-build", find)
        session.events.register("before-call", answer)
        session.events.register("before-send", send)
        session.events.register("after-call", fix)
