"""Turn botocore errors into one-line messages that name the account, the action and the fix."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

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
