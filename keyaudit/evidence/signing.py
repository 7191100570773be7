"""A run's manifest, signed: what makes the evidence provable to someone who does not trust the
people who can write it.

The hashes (manifest.json, SHA256SUMS, the warehouse's rows) show that the files are those the
warehouse recorded, but an insider who edits a file and rewrites every manifest and the warehouse
consistently passes them. A signature made with a key that insider does not hold does not follow:
`keyaudit verify` checks it against a public key the auditor trusts.

What is signed is a short text naming the run and its manifest's SHA-256 (`signed_text`): short
enough for AWS KMS to sign as a RAW message (at most 4,096 bytes; a manifest can be larger), and
re-performable with openssl alone (docs/evidence.md). It is written beside the manifest as
`manifest.sig.json` with the algorithm, the key (a KMS key's ARN) and the SHA-256 of the public
key's DER SubjectPublicKeyInfo (`openssl pkey -pubin -outform DER | sha256sum`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import stat
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from keyaudit.evidence.store import SIGNATURE_FILE, to_json_bytes, write_private
from keyaudit.model import KeyauditError

ED25519 = "Ed25519"
ECDSA_SHA_256 = "ECDSA_SHA_256"  # KMS, ECC_NIST_P256
RSASSA_PSS_SHA_256 = "RSASSA_PSS_SHA_256"  # KMS, RSA_2048 … RSA_4096
ALGORITHMS = (ED25519, ECDSA_SHA_256, RSASSA_PSS_SHA_256)
MAX_KEY_FILE_BYTES = 64 * 1024

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class SigningError(KeyauditError, ValueError):
    """A key cannot be used to sign or to check; the message names the key and the fix."""


class Signer(Protocol):
    """Signs bytes with a key keyaudit never writes anywhere."""

    @property
    def algorithm(self) -> str: ...

    @property
    def key_id(self) -> str | None: ...  # a KMS key's ARN; None for a key file

    @property
    def public_key(self) -> PublicKey: ...

    def sign(self, message: bytes) -> bytes: ...


@dataclass(frozen=True)
class ManifestSignature:
    """manifest.sig.json, and the run's row in the warehouse's `run_signatures`."""

    run_id: str
    manifest_sha256: str
    algorithm: str
    key_id: str | None
    public_key_sha256: str
    signature: str  # base64
    signed_at: str  # ISO 8601, UTC
    signed_text: str  # exactly what was signed (UTF-8)

    def to_json(self) -> bytes:
        return to_json_bytes(asdict(self))

    @classmethod
    def from_json(cls, data: bytes) -> ManifestSignature:
        """Raises ValueError when the file is not a signature keyaudit wrote."""
        try:
            record = json.loads(data)
            made = cls(**{name: record[name] for name in cls.__dataclass_fields__})
            base64.b64decode(made.signature, validate=True)
        except (KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError(f"{type(exc).__name__}: {exc}") from None
        if made.algorithm not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {made.algorithm!r}")
        return made


def signed_text(run_id: str, manifest_sha256: str) -> str:
    """The statement a run's signature covers; the manifest's hash covers every evidence file."""
    return f"keyaudit run manifest\nrun_id: {run_id}\nmanifest.json sha256: {manifest_sha256}\n"


def fingerprint(public_key: PublicKey) -> str:
    """SHA-256 of the public key's DER SubjectPublicKeyInfo, in hex (what KMS GetPublicKey
    returns, and what `openssl pkey -pubin -outform DER` writes)."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def sign_manifest(
    run_dir: Path, run_id: str, manifest_sha256: str, signer: Signer, signed_at: datetime
) -> ManifestSignature:
    """Sign the run's manifest and write manifest.sig.json beside it (owner-only, atomically)."""
    text = signed_text(run_id, manifest_sha256)
    raw = signer.sign(text.encode())
    made = ManifestSignature(
        run_id=run_id,
        manifest_sha256=manifest_sha256,
        algorithm=signer.algorithm,
        key_id=signer.key_id,
        public_key_sha256=fingerprint(signer.public_key),
        signature=base64.b64encode(raw).decode(),
        signed_at=signed_at.isoformat(timespec="seconds"),
        signed_text=text,
    )
    problem = signature_problem(made, signer.public_key, run_id, manifest_sha256)
    if problem:  # a key that signs what its public key does not check: never write it
        raise SigningError(f"run {run_id}: the new signature does not check — {problem}")
    write_private(Path(run_dir) / SIGNATURE_FILE, made.to_json())
    return made


def signature_problem(
    made: ManifestSignature, public_key: PublicKey, run_id: str, manifest_sha256: str
) -> str | None:
    """Why `made` does not prove the manifest whose SHA-256 is `manifest_sha256`, or None. The
    text checked is rebuilt from the manifest on disk, never read from the signature file."""
    trusted = fingerprint(public_key)
    if made.public_key_sha256 != trusted:
        return (
            f"signed with the key {made.public_key_sha256[:16]}…, but the trusted public key is "
            f"{trusted[:16]}… — not the key that signed, or the signature was replaced"
        )
    try:
        _check(
            made.algorithm, public_key, base64.b64decode(made.signature), run_id, manifest_sha256
        )
    except InvalidSignature:
        return (
            "the signature does not match the manifest — the manifest (and the evidence it "
            "lists) changed after it was signed"
        )
    except (TypeError, ValueError) as exc:
        return f"{made.algorithm} does not fit the trusted key ({exc})"
    return None


def _check(algorithm: str, key: PublicKey, raw: bytes, run_id: str, manifest_sha256: str) -> None:
    message = signed_text(run_id, manifest_sha256).encode()
    if algorithm == ED25519 and isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(raw, message)
    elif algorithm == ECDSA_SHA_256 and isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(raw, message, ec.ECDSA(hashes.SHA256()))
    elif algorithm == RSASSA_PSS_SHA_256 and isinstance(key, rsa.RSAPublicKey):
        # KMS salts with the digest's length; AUTO accepts that and any other valid salt
        key.verify(
            raw,
            message,
            padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO),
            hashes.SHA256(),
        )
    else:
        raise TypeError(f"a {type(key).__name__} cannot check an {algorithm} signature")


# --------------------------------------------------------------------------- key files


def _read_key_file(path: Path, what: str, *, private: bool) -> bytes:
    """The bytes of a key file, opened without following a link; a private key must be a
    regular file its owner alone can read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == 40:  # ELOOP: the last component is a symbolic link
            raise SigningError(
                f"{what} {path} is a symbolic link — name the key file itself, not a link to it"
            ) from None
        raise SigningError(
            f"{what} {path} cannot be read ({exc.strerror}) — check the path"
        ) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SigningError(f"{what} {path} is not a regular file — name the key file")
        if private and info.st_mode & 0o077:
            raise SigningError(
                f"{what} {path} has mode {stat.S_IMODE(info.st_mode):04o}; a private key must be "
                f"readable by its owner only — chmod 600 {path}"
            )
        return handle.read(MAX_KEY_FILE_BYTES + 1)


class KeyFileSigner:
    """Signs with an Ed25519 private key read from a PEM file (PKCS#8, unencrypted)."""

    algorithm = ED25519
    key_id: str | None = None

    def __init__(self, path: Path) -> None:
        what = "[signing] key_file"
        data = _read_key_file(Path(path), what, private=True)
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise SigningError(
                f"{what} {path} is not an unencrypted PEM private key ({_first_line(exc)}) — make "
                "one with `openssl genpkey -algorithm ed25519 -out FILE`"
            ) from None
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise SigningError(
                f"{what} {path} holds a {type(key).__name__.removeprefix('_')}, not an Ed25519 "
                "key — make one with `openssl genpkey -algorithm ed25519 -out FILE`, or sign "
                "with a KMS key ([signing] kms_key_id)"
            )
        self._key = key
        self.public_key: PublicKey = key.public_key()

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def load_public_key_file(path: Path) -> PublicKey:
    """A PEM public key (Ed25519, EC P-256 or RSA) that `keyaudit verify` trusts."""
    what = "[signing] public_key_file"
    data = _read_key_file(Path(path), what, private=False)
    try:
        key: Any = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SigningError(
            f"{what} {path} is not a PEM public key ({_first_line(exc)}) — write one with "
            "`openssl pkey -in KEY -pubout -out FILE`"
        ) from None
    return public_key_of(key, f"{what} {path}")


def public_key_of(key: Any, what: str) -> PublicKey:
    if isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        return key
    raise SigningError(
        f"{what} is a {type(key).__name__.removeprefix('_')}; keyaudit checks Ed25519, EC P-256 "
        "and RSA keys"
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def read_signature(run_dir: Path) -> ManifestSignature | None:
    """manifest.sig.json of a run, or None when there is none; ValueError when garbled."""
    path = Path(run_dir) / SIGNATURE_FILE
    if not path.is_file():
        return None
    return ManifestSignature.from_json(path.read_bytes())
