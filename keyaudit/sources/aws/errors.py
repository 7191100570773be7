"""Turn botocore errors into one-line messages that name the account, the action and the fix."""

from __future__ import annotations

import os
import socket
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConfigParseError,
    ConnectTimeoutError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from keyaudit.model import KeyauditError

_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "LimitExceeded",
        "SlowDown",
    }
)


_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
_REJECTED = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "AuthFailure",
}
# What to do when nothing can act as the caller: the standard ways to give boto3 credentials,
# or the two audits that need none.
NO_AWS = "or audit without AWS: `keyaudit demo`, `keyaudit run --source files --files DIR`"


class CollectionError(KeyauditError):
    """An account could not be (fully) collected; the message is shown to the user as is."""


class AccountDeadlineExceeded(CollectionError):
    """An account took longer than collection.account_deadline_seconds (e.g. endless throttling)."""


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "") or None
    return None


def is_retryable(exc: BaseException) -> bool:
    """Throttling and server-side (5xx) errors are worth another try; nothing else is."""
    if isinstance(exc, ClientError):
        if error_code(exc) in THROTTLING_CODES:
            return True
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return int(status) >= 500
    return isinstance(exc, BotoCoreError) and "Connect" in type(exc).__name__


def describe(exc: BaseException, *, action: str, permission: str | None = None) -> str:
    """One line: what failed, AWS's code and message, and what to do about it."""
    if isinstance(exc, ClientError):
        code = error_code(exc) or "Error"
        message = exc.response.get("Error", {}).get("Message") or ""
        text = f"{code} on {action}"
        if message:
            text += f": {message}"
        if code in _DENIED and permission:
            text += f" — grant {permission} to the audit role"
        elif code in THROTTLING_CODES:
            text += " — throttled beyond the retry budget; rerun later or lower concurrency"
        return text
    return f"{type(exc).__name__} on {action}: {exc}"


def checked_call(action: str, fn: Any, **kwargs: Any) -> Any:
    """fn(**kwargs); an AWS error becomes a CollectionError whose one line names `action`,
    AWS's answer and the permission to grant."""
    try:
        return fn(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise CollectionError(describe(exc, action=action, permission=action)) from exc


def endpoint_origin(url: str) -> str | None:
    """The environment variable that names `url` as the AWS endpoint, if one does."""
    for name in (
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL_ORGANIZATIONS",
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL",
    ):
        value = os.environ.get(name, "").rstrip("/")
        if value and url.rstrip("/").startswith(value):
            return name
    return None


def _why_unreachable(exc: BaseException) -> str:
    """refused, timed out, unknown host…: the socket-level reason under a botocore error."""
    if isinstance(exc, ConnectTimeoutError):
        return "no answer (connect timeout)"
    seen: set[int] = set()
    error: BaseException | None = exc.kwargs.get("error") if isinstance(exc, BotoCoreError) else exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ConnectionRefusedError):
            return "connection refused"
        if isinstance(error, socket.gaierror):
            return "host name not found"
        if isinstance(error, TimeoutError):
            return "no answer (connect timeout)"
        if isinstance(error, OSError) and error.strerror:
            return error.strerror.lower()
        error = error.__cause__ or error.__context__
    return "cannot connect"


def connection_problem(exc: BotoConnectionError) -> str:
    """One line for an endpoint nothing answers on: the URL, where it came from, the fix."""
    url = str(exc.kwargs.get("endpoint_url") or "the AWS endpoint").rstrip("/")
    why = _why_unreachable(exc)
    origin = endpoint_origin(url)
    if origin:
        return f"cannot connect to {url} ({origin}): {why} — start the endpoint or unset {origin}"
    if ".amazonaws.com" not in url:
        return (
            f"cannot connect to {url}: {why} — start the endpoint, or fix endpoint_url in the "
            "AWS profile"
        )
    return (
        f"cannot connect to {url}: {why} — check the network, the proxy (HTTPS_PROXY) and the "
        "region (AWS_REGION)"
    )


def caller_problem(exc: BaseException) -> str:
    """One line for a failed sts:GetCallerIdentity, the audit's first AWS call: what is wrong with
    the credentials or the endpoint, and the fix."""
    if isinstance(exc, ProfileNotFound):
        profile = exc.kwargs.get("profile", "")
        return (
            f"AWS profile {profile!r} not found in the AWS config files — fix AWS_PROFILE "
            "(`aws configure list-profiles` lists them) or add the profile"
        )
    if isinstance(exc, ConfigParseError):
        return (
            f"{exc} — fix the file's syntax, or point AWS_CONFIG_FILE / "
            "AWS_SHARED_CREDENTIALS_FILE at another"
        )
    if isinstance(exc, NoCredentialsError):
        return (
            "no AWS credentials found — set AWS_PROFILE, run `aws sso login`, or set "
            f"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; {NO_AWS}"
        )
    if isinstance(exc, PartialCredentialsError):
        return f"incomplete AWS credentials: {exc} — set the missing value or unset the others"
    if isinstance(exc, (SSOError, TokenRetrievalError)):
        profile = os.environ.get("AWS_PROFILE")
        return (
            f"the AWS SSO session has expired or is missing ({type(exc).__name__}) — run "
            f"`aws sso login{f' --profile {profile}' if profile else ''}`"
        )
    if isinstance(exc, BotoConnectionError):
        return connection_problem(exc)
    code = error_code(exc)
    if code in _EXPIRED:
        return (
            f"the AWS credentials have expired ({code}) — run `aws sso login`, or renew the "
            "session credentials (AWS_SESSION_TOKEN)"
        )
    if code in _REJECTED:
        return (
            f"AWS does not accept the credentials ({code}) — check AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (a deactivated or deleted key, or a "
            "session token missing)"
        )
    return (
        "cannot identify the caller: "
        + describe(exc, action="sts:GetCallerIdentity")
        + " — check AWS credentials (AWS_PROFILE, environment, instance role)"
    )
