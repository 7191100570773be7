"""Signing a run's manifest with an AWS KMS asymmetric key, and reading its public key back.

The key never leaves KMS: `kms:Sign` signs the short statement of keyaudit.evidence.signing (a
RAW message, well under KMS's 4,096 bytes) and `kms:GetPublicKey` gives the public key whose
fingerprint goes into the evidence, and which `keyaudit verify` checks the signature with. The
client comes from the run's session (keyaudit.sources.aws.session), so AWS_PROFILE,
AWS_ENDPOINT_URL and the region work as for every other call.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.hazmat.primitives.serialization import load_der_public_key

from keyaudit.config import Config
from keyaudit.evidence.signing import (
    ECDSA_SHA_256,
    RSASSA_PSS_SHA_256,
    KeyFileSigner,
    PublicKey,
    Signer,
    SigningError,
    load_public_key_file,
    public_key_of,
)
from keyaudit.sources.aws.errors import describe
from keyaudit.sources.aws.session import AccountSessions, SessionSettings

KMS_ALGORITHMS = (ECDSA_SHA_256, RSASSA_PSS_SHA_256)  # in the order keyaudit prefers them


def _what(key_id: str) -> str:
    return f"[signing] kms_key_id {key_id!r}"


def _problem(key_id: str, exc: Exception, action: str) -> SigningError:
    return SigningError(
        f"{_what(key_id)}: {describe(exc, action=action)} — check the key id, ARN or alias and "
        f"its region, and that the caller may use {action} on it"
    )


def kms_public_key(client: Any, key_id: str) -> tuple[PublicKey, str, str]:
    """The KMS key's public key, its ARN and the algorithm keyaudit signs with (ECDSA_SHA_256
    for ECC_NIST_P256, RSASSA_PSS_SHA_256 for RSA); one line naming the key when unusable."""
    try:
        found = client.get_public_key(KeyId=key_id)
    except (ClientError, BotoCoreError) as exc:
        raise _problem(key_id, exc, "kms:GetPublicKey") from None
    if found.get("KeyUsage") not in (None, "SIGN_VERIFY"):
        raise SigningError(
            f"{_what(key_id)}: its usage is {found['KeyUsage']}, not SIGN_VERIFY — create an "
            "asymmetric key with key spec ECC_NIST_P256 and usage SIGN_VERIFY"
        )
    offered = found.get("SigningAlgorithms") or []
    algorithm = next((a for a in KMS_ALGORITHMS if a in offered), None)
    if algorithm is None:
        raise SigningError(
            f"{_what(key_id)}: it signs with {', '.join(offered) or 'nothing'}; keyaudit needs "
            "ECDSA_SHA_256 (key spec ECC_NIST_P256) or RSASSA_PSS_SHA_256 (an RSA key)"
        )
    try:
        key = public_key_of(load_der_public_key(found["PublicKey"]), _what(key_id))
    except ValueError as exc:
        raise SigningError(f"{_what(key_id)}: its public key does not parse ({exc})") from None
    return key, found.get("KeyId") or key_id, algorithm


class KmsSigner:
    """Signs with an AWS KMS asymmetric key; the key's public half is read once, up front."""

    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        self.public_key, self.key_id, self.algorithm = kms_public_key(client, key_id)
        self._asked = key_id

    def sign(self, message: bytes) -> bytes:
        try:
            answer = self._client.sign(
                KeyId=self.key_id,
                Message=message,
                MessageType="RAW",
                SigningAlgorithm=self.algorithm,
            )
        except (ClientError, BotoCoreError) as exc:
            raise _problem(self._asked, exc, "kms:Sign") from None
        self.key_id = answer.get("KeyId") or self.key_id  # Sign names the key by its ARN
        return bytes(answer["Signature"])


def _kms_client(settings: SessionSettings) -> Any:
    return AccountSessions(settings=settings).base_client("kms")


def signer_for(config: Config, settings: SessionSettings) -> Signer | None:
    """The signer `[signing]` names (a key file, or a KMS key reached with the run's AWS
    settings), or None when runs are not signed. Refuses an unusable key in one line."""
    signing = config.signing
    if signing.key_file is not None:
        return KeyFileSigner(signing.key_file)
    if signing.kms_key_id:
        return KmsSigner(_kms_client(settings), signing.kms_key_id)
    return None


def trusted_key(config: Config, settings: SessionSettings) -> tuple[PublicKey, str] | None:
    """The public key `keyaudit verify` checks signatures with, and where it came from:
    `[signing] public_key_file`, else the KMS key's (kms:GetPublicKey), else the public half of
    the key file; None when nothing is configured."""
    signing = config.signing
    if signing.public_key_file is not None:
        return load_public_key_file(signing.public_key_file), str(signing.public_key_file)
    if signing.kms_key_id:
        key, arn, _ = kms_public_key(_kms_client(settings), signing.kms_key_id)
        return key, arn
    if signing.key_file is not None:
        return KeyFileSigner(signing.key_file).public_key, str(signing.key_file)
    return None
