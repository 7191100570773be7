"""The demo's SSH public keys, service-specific credentials and signing certificates: created
through the IAM API (moto, with demo.moto_service_credentials), then backdated in moto's backend
the way the users' access keys are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from moto.iam.models import iam_backends

from keyaudit.sources.demo.moto_service_credentials import credentials_of
from keyaudit.sources.demo.personas import CERTIFICATE, SERVICE, SSH, UserTruth

# A public key only; its private half never existed.
SSH_PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyauditDemoKeyNotForUseAnywhereAtAll0000 demo@keyaudit"
)


@lru_cache(maxsize=1)
def certificate_pem() -> str:
    """A self-signed X.509 certificate, as IAM wants an uploaded signing certificate (moto
    parses it); made once per process, its key thrown away."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "keyaudit demo signing")])
    start = datetime(2020, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _naive(moment: datetime) -> datetime:
    """moto stores naive UTC datetimes."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def create_credentials(iam: Any, account_id: str, user: UserTruth) -> UserTruth:
    """Create the user's planned credentials, backdate them, and return the user with their ids."""
    ids = []
    for cred in user.credentials:
        if cred.kind == SSH:
            made = iam.upload_ssh_public_key(
                UserName=user.user_name, SSHPublicKeyBody=SSH_PUBLIC_KEY
            )
            ids.append(made["SSHPublicKey"]["SSHPublicKeyId"])
        elif cred.kind == SERVICE:
            expiry = {}
            if cred.expires is not None:
                expiry["CredentialAgeDays"] = (cred.expires - cred.created).days
            made = iam.create_service_specific_credential(
                UserName=user.user_name, ServiceName=cred.service, **expiry
            )
            ids.append(made["ServiceSpecificCredential"]["ServiceSpecificCredentialId"])
        elif cred.kind == CERTIFICATE:
            made = iam.upload_signing_certificate(
                UserName=user.user_name, CertificateBody=certificate_pem()
            )
            ids.append(made["Certificate"]["CertificateId"])
    fake = iam_backends[account_id]["global"].users[user.user_name]
    for cred, credential_id in zip(user.credentials, ids, strict=True):
        if cred.kind == SSH:
            key = next(k for k in fake.ssh_public_keys if k.ssh_public_key_id == credential_id)
            key.upload_date = _naive(cred.created)
        elif cred.kind == SERVICE:
            found = next(c for c in credentials_of(fake) if c.id == credential_id)
            found.create_date = _naive(cred.created)
            found.expiration_date = _naive(cred.expires) if cred.expires else None
        else:
            fake.signing_certificates[credential_id].upload_date = _naive(cred.created)
    return user.with_credential_ids(ids)
