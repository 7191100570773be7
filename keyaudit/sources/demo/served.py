"""The simulated organization for worker processes: moto behind a loopback HTTP front.

moto's state lives in the process that built the organization; Dask worker processes cannot see
it. `served_organization` builds it as usual (moto in this process), puts a small HTTP server on
127.0.0.1 in front of it, and yields a `ServedDemo`: a picklable session customizer that sends
a worker's AWS requests to that server and makes the answers AWS-like (denied AssumeRole for a
missing role, the credential report rewritten) from facts computed up front, since the worker
cannot read moto's state. moto's own server (`moto.server.ThreadedMotoServer`) would need
flask, which keyaudit does not install; the front hands each request to moto's in-process
request dispatcher instead, as `mock_aws` does for this process's own calls.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3

from keyaudit.sources.demo.aws_like import (
    CertificateUploads,
    KeyUsage,
    moto_certificate_uploads,
    moto_key_usage,
    register_account_hooks,
    register_assume_role_check,
)
from keyaudit.sources.demo.organization import simulated_organization
from keyaudit.sources.demo.personas import RootTruth
from keyaudit.sources.demo.simulated import SimulatedOrganization

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
DEMO_ACCESS_KEY = "testing"  # moto's dummy credentials: the organization's management account


@dataclass(frozen=True)
class ServedDemo:
    """SessionCustomizer for worker processes: requests go to `endpoint`, answers as AWS's."""

    endpoint: str
    caller_arn: str
    management_account_id: str
    as_of: datetime
    roles: frozenset[tuple[str, str]]  # (account id, role name) that exist
    roots: dict[str, RootTruth] = field(default_factory=dict)
    report_times: dict[str, datetime] = field(default_factory=dict)
    key_usage: dict[str, KeyUsage] = field(default_factory=dict)
    certificates: dict[str, CertificateUploads] = field(default_factory=dict)

    def role_exists(self, role_arn: str) -> bool:
        parts = role_arn.split(":", 5)
        if len(parts) != 6 or not parts[5].startswith("role/"):
            return False
        return (parts[4], parts[5].rsplit("/", 1)[-1]) in self.roles

    def __call__(self, account_id: str, session: boto3.Session) -> None:
        session.events.register_first("before-sign", self._redirect)
        if account_id == "base":
            # the worker may have no AWS credentials at all: the demo's are moto's dummies
            session._session.set_credentials(DEMO_ACCESS_KEY, DEMO_ACCESS_KEY)
            register_assume_role_check(session, self.caller_arn, exists=self.role_exists)
            account_id = self.management_account_id
        root = self.roots.get(account_id) or RootTruth(account_id, self.as_of - timedelta(1000))
        generated = self.report_times.get(account_id, self.as_of - timedelta(minutes=60))
        register_account_hooks(
            session,
            root,
            generated,
            self.key_usage.get(account_id, {}),
            self.certificates.get(account_id, {}),
        )

    def _redirect(self, request: Any, **_: Any) -> None:
        """Before signing: the same path and query, sent to the front instead of AWS."""
        front = urlsplit(self.endpoint)
        url = urlsplit(request.url)
        request.url = urlunsplit((front.scheme, front.netloc, url.path, url.query, ""))


class _Front(BaseHTTPRequestHandler):
    """Hands each request to moto as if it had been sent to the AWS endpoint it was signed for."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        from botocore.awsrequest import AWSPreparedRequest
        from moto.core.models import botocore_stubber

        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        scope = _SCOPE.search(self.headers.get("Authorization", ""))
        status: int = 400
        headers: dict[str, str] = {}
        payload: str | bytes = b"unsigned request"
        if scope:
            region, service = scope.groups()
            host = f"{service}.{region}.amazonaws.com"
            headers_in = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            headers_in["Host"] = host
            request = AWSPreparedRequest(
                self.command, f"https://{host}{self.path}", headers_in, body, stream_output=False
            )
            answer = botocore_stubber.process_request(request)
            if answer is not None:
                status, headers, payload = answer
            else:
                status, payload = 404, f"no simulated {service}".encode()
        data = payload.encode() if isinstance(payload, str) else (payload or b"")
        self.send_response(status)
        for name, value in (headers or {}).items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: a demo run prints progress, not access logs


@contextmanager
def served_organization(
    as_of: datetime, *, seed: int = 7, anchor: datetime | None = None
) -> Iterator[tuple[SimulatedOrganization, ServedDemo]]:
    """The simulated organization, reachable from other processes on this machine."""
    with simulated_organization(as_of, seed=seed, anchor=anchor) as org:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Front)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="demo-aws-front", daemon=True)
        thread.start()
        try:
            yield org, served_customizer(org, f"http://127.0.0.1:{server.server_address[1]}")
        finally:
            server.shutdown()
            server.server_close()


def served_customizer(org: SimulatedOrganization, endpoint: str) -> ServedDemo:
    """Everything the AWS-likeness hooks would read from moto, read now."""
    from moto.iam.models import iam_backends

    active = [a.account_id for a in org.accounts if a.state == "ACTIVE"]
    return ServedDemo(
        endpoint=endpoint,
        caller_arn=org.caller_arn,
        management_account_id=org.management_account_id,
        as_of=org.as_of,
        roles=frozenset(
            (account, role.name)
            for account in active
            for role in iam_backends[account]["global"].roles.values()
        ),
        roots=dict(org.roots),
        report_times=dict(org.report_times),
        key_usage={account: moto_key_usage(account) for account in active},
        certificates={account: moto_certificate_uploads(account) for account in active},
    )
