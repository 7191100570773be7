"""S3 Object Lock for delivered objects: check the bucket first, then lock every object.

S3 semantics followed here (Amazon S3 User Guide, "Locking objects with Object Lock" and
"Object Lock considerations",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html; API reference
of PutObject, GetObjectLockConfiguration and PutObjectRetention):

- Retention is set per object version by PutObject's ObjectLockMode (GOVERNANCE | COMPLIANCE)
  and ObjectLockRetainUntilDate; the bucket must have Object Lock enabled, which turns on
  versioning and cannot be turned off. Writing the same key again adds a version; the locked
  version stays as it was until its date.
- GetObjectLockConfiguration answers ObjectLockEnabled = Enabled for such a bucket and the error
  ObjectLockConfigurationNotFoundError for a bucket without Object Lock; it needs
  s3:GetBucketObjectLockConfiguration. Setting retention needs s3:PutObjectRetention.
- A PutObject with a retention period needs Content-MD5 or x-amz-sdk-checksum-algorithm: we
  ask for a SHA-256 checksum explicitly, so the upload works even where the SDK's default
  checksums are turned off (AWS_REQUEST_CHECKSUM_CALCULATION=when_required).
- The retain-until date must lie in the future, so a run whose retention has run out is
  refused before anything is uploaded rather than left to fail object by object.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from keyaudit.config.delivery import Retention
from keyaudit.sources.aws.errors import describe, error_code

LOCK_PERMISSION = "s3:GetBucketObjectLockConfiguration"
NOT_LOCKED = "ObjectLockConfigurationNotFoundError"
_DENIED = {"AccessDenied", "AccessDeniedException", "AllAccessDisabled"}


class ObjectLockRefused(Exception):
    """The bucket cannot keep the run for its retention; nothing may be uploaded. One line."""


def lock_params(retention: Retention | None, as_of: datetime | str) -> dict[str, Any]:
    """PutObject's extra parameters for `retention` (none without), the same on every object."""
    if retention is None:
        return {}
    return {
        "ObjectLockMode": retention.s3_mode,
        "ObjectLockRetainUntilDate": retention.until(as_of),
        "ChecksumAlgorithm": "SHA256",
    }


def check_bucket(
    client: Any, bucket: str, retention: Retention, *, as_of: datetime | str, now: datetime
) -> None:
    """Raise ObjectLockRefused unless `bucket` has Object Lock enabled and the run's
    retain-until date is still ahead. Other errors (throttling, 5xx) propagate for a retry."""
    until = retention.until(as_of)
    if until <= now:
        raise ObjectLockRefused(
            f"retention of this run ended on {until:%Y-%m-%d %H:%M} UTC (its as-of + "
            f"{retention.days} days) and S3 Object Lock needs a date in the future — to send it "
            "again without retention, set [delivery.s3] retention_days = 0"
        )
    try:
        answer = client.get_object_lock_configuration(Bucket=bucket)
    except Exception as exc:
        code = error_code(exc)
        if code == NOT_LOCKED:
            raise ObjectLockRefused(_not_locked(bucket, retention)) from None
        if code in _DENIED:
            raise ObjectLockRefused(
                f"{describe(exc, action=f'{LOCK_PERMISSION} on bucket {bucket}')} — grant "
                f"{LOCK_PERMISSION} on arn:aws:s3:::{bucket} to the identity that delivers "
                "(docs/permissions.md)"
            ) from None
        raise
    enabled = (answer.get("ObjectLockConfiguration") or {}).get("ObjectLockEnabled")
    if enabled != "Enabled":
        raise ObjectLockRefused(_not_locked(bucket, retention))


def _not_locked(bucket: str, retention: Retention) -> str:
    return (
        f"bucket {bucket} has no S3 Object Lock, so [delivery.s3] retention_days = "
        f"{retention.days} cannot be kept; nothing was uploaded — enable Object Lock on the "
        "bucket (S3 console: Properties › Object Lock, or create it with "
        "--object-lock-enabled-for-bucket) or set retention_days = 0"
    )
