"""Signed evidence: a run's manifest signed with an Ed25519 key file or an AWS KMS key, checked by
`keyaudit verify` against a public key the auditor trusts, so that an insider who rewrites the
evidence and the warehouse together is caught (issue 21, part 3)."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from moto import mock_aws
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.evidence.signing import SIGNATURE_FILE, SigningError, fingerprint
from keyaudit.evidence.store import sha256_file
from keyaudit.integrity.verify import verify_run
from keyaudit.pipeline import AuditRequest, check_request
from keyaudit.warehouse.db import connect
from tests.auditor.given import A, B, FilesRun, access_keys, audit_files, folder_of, report
from tests.auditor.test_verify import verify as verify_command
from tests.runs import write_config

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

runner = CliRunner()


def key_pair(folder: Path, name: str = "signing") -> tuple[Path, Path, ed25519.Ed25519PrivateKey]:
    """An Ed25519 key as `openssl genpkey -algorithm ed25519` writes it (PKCS#8 PEM, 0600), and
    its public half as `openssl pkey -pubout` writes it."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = folder / f"{name}.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private.chmod(0o600)
    public = folder / f"{name}.pub.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public, key


def handed_in(tmp_path: Path) -> Path:
    return folder_of(
        tmp_path,
        {
            f"{A}.csv": report(A),
            f"{A}.access_keys.json": json.dumps(access_keys()),
            f"{B}.csv": report(B),
        },
    )


def signed_run(tmp_path: Path, signing: dict[str, Any]) -> FilesRun:
    run = audit_files(handed_in(tmp_path), tmp_path, settings={"signing": signing})
    run.con.close()  # verify opens the warehouse read-only, as an auditor would
    return run


def verify(run: FilesRun, tmp_path: Path, signing: dict[str, Any] | None = None, *extra: str):
    """`keyaudit verify RUN` as an auditor runs it, trusting the key `signing` names."""
    config = write_config(tmp_path / "auditor.toml", {"signing": signing or {}})
    return verify_command(run, "--config", str(config), *extra)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path, ed25519.Ed25519PrivateKey]:
    folder = tmp_path / "keys"
    folder.mkdir()
    return key_pair(folder)


@pytest.fixture
def ed_run(tmp_path: Path, keys) -> FilesRun:
    return signed_run(tmp_path, {"key_file": str(keys[0])})


# --------------------------------------------------------------------------- round trips


def test_ed25519_signed_run_verifies_against_the_public_key(ed_run: FilesRun, keys, tmp_path):
    _, public, key = keys
    signature = json.loads((ed_run.store.run_dir / SIGNATURE_FILE).read_text())
    expected_fp = fingerprint(key.public_key())
    assert signature["algorithm"] == "Ed25519"
    assert signature["key_id"] is None
    assert signature["public_key_sha256"] == expected_fp
    assert signature["manifest_sha256"] == sha256_file(ed_run.store.run_dir / "manifest.json")
    # what was signed can be checked without keyaudit: the text and the raw signature
    key.public_key().verify(
        base64.b64decode(signature["signature"]), signature["signed_text"].encode()
    )
    assert oct((ed_run.store.run_dir / SIGNATURE_FILE).stat().st_mode & 0o777) == "0o600"

    result = verify(ed_run, tmp_path, {"public_key_file": str(public)})
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        f"run {ed_run.run_id}: signed (Ed25519, a key file, public key SHA-256 {expected_fp}) at "
        f"{signature['signed_at']}; the signature checks against {public}"
    )


def test_the_warehouse_records_the_signature_with_the_run(ed_run: FilesRun, keys):
    con = connect(ed_run.warehouse, read_only=True)
    row = con.execute(
        "select algorithm, key_id, public_key_sha256, manifest_sha256 from run_signatures "
        "where run_id = ?",
        [ed_run.run_id],
    ).fetchone()
    manifest = con.execute(
        "select manifest_sha256 from runs where run_id = ?", [ed_run.run_id]
    ).fetchone()
    con.close()
    assert row == ("Ed25519", None, fingerprint(keys[2].public_key()), manifest[0])


def test_the_signature_file_is_not_listed_as_evidence(ed_run: FilesRun):
    listing = json.loads((ed_run.store.run_dir / "manifest.json").read_text())
    assert SIGNATURE_FILE not in {f["path"] for f in listing["files"]}


@pytest.mark.parametrize(
    ("key_spec", "algorithm"),
    [("ECC_NIST_P256", "ECDSA_SHA_256"), ("RSA_2048", "RSASSA_PSS_SHA_256")],
)
def test_kms_signed_run_verifies_with_the_kms_public_key(tmp_path, key_spec, algorithm):
    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1")
        made = kms.create_key(KeySpec=key_spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]
        kms.create_alias(AliasName="alias/keyaudit-evidence", TargetKeyId=made["KeyId"])
        run = signed_run(tmp_path, {"kms_key_id": "alias/keyaudit-evidence"})
        signature = json.loads((run.store.run_dir / SIGNATURE_FILE).read_text())
        assert (signature["algorithm"], signature["key_id"]) == (algorithm, made["Arn"])

        result = verify(run, tmp_path, {"kms_key_id": made["Arn"]})
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[-1].startswith(
            f"run {run.run_id}: signed ({algorithm}, {made['Arn']}, public key SHA-256 "
            f"{signature['public_key_sha256']}) at "
        )
        other = kms.create_key(KeySpec=key_spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]
        wrong = verify(run, tmp_path, {"kms_key_id": other["KeyId"]})
    assert wrong.exit_code == 1
    assert "not the key that signed" in wrong.stdout


# --------------------------------------------------------------------------- the attack


def rewrite_everything_consistently(run: FilesRun) -> None:
    """The insider: edit an evidence file, then recompute and rewrite the account manifest, the
    run manifest and the warehouse's hashes so that every hash agrees again."""
    run_dir = run.store.run_dir
    edited = f"{A}/credential_report.csv"
    path = run_dir / edited
    path.write_text(path.read_text().replace("ci-deploy", "ci-deplox"))
    account_manifest = run_dir / A / "manifest.json"
    listing = json.loads(account_manifest.read_text())
    for entry in listing["files"]:
        if entry["path"] == edited:
            entry["sha256"] = sha256_file(path)
    account_manifest.write_text(json.dumps(listing))
    run_manifest = run_dir / "manifest.json"
    listing = json.loads(run_manifest.read_text())
    for entry in listing["files"]:
        if entry["path"] in (edited, f"{A}/manifest.json"):
            entry["sha256"] = sha256_file(run_dir / entry["path"])
    run_manifest.write_text(json.dumps(listing))
    con = connect(run.warehouse)
    for entry in listing["files"]:
        con.execute(
            "update evidence set sha256 = ? where run_id = ? and path = ?",
            [entry["sha256"], run.run_id, entry["path"]],
        )
    con.execute(
        "update runs set manifest_sha256 = ? where run_id = ?",
        [sha256_file(run_manifest), run.run_id],
    )
    con.close()


def test_a_consistent_rewrite_of_evidence_and_warehouse_is_caught_only_by_the_signature(
    ed_run: FilesRun, keys, tmp_path
):
    rewrite_everything_consistently(ed_run)

    con = connect(ed_run.warehouse, read_only=True)
    try:
        unsigned_view = verify_run(con, ed_run.evidence_root, ed_run.run_id, None)
        signed_view = verify_run(
            con, ed_run.evidence_root, ed_run.run_id, (keys[2].public_key(), "the key")
        )
    finally:
        con.close()
    # every hash agrees: the manifests, the warehouse and the files tell one story ...
    hash_checks = [d for d in signed_view.differences if d.kind != "signature"]
    assert hash_checks == []
    # ... and only the signature says it is not the story that was signed
    assert [d.line() for d in signed_view.differences] == [
        f"SIGNATURE {SIGNATURE_FILE}: the signature does not match the manifest — the manifest "
        "(and the evidence it lists) changed after it was signed"
    ]
    assert [d.kind for d in unsigned_view.differences] == ["signature"]  # no key: not proven

    result = verify(ed_run, tmp_path, {"public_key_file": str(keys[1])})
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"SIGNATURE {SIGNATURE_FILE}: the signature does not match the manifest — the manifest "
        "(and the evidence it lists) changed after it was signed"
    ]


def test_the_same_rewrite_passes_an_unsigned_run(tmp_path):
    """What signing adds: without it the rewrite goes unnoticed, and verify says so."""
    run = audit_files(handed_in(tmp_path), tmp_path)
    run.con.close()
    rewrite_everything_consistently(run)
    result = verify(run, tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith(f"run {run.run_id}: not signed — ")
    # an auditor who expects signatures says so, and the unsigned run no longer passes
    required = verify(run, tmp_path, None, "--require-signature")
    assert required.exit_code == 1
    assert required.stderr.strip() == (
        f"run {run.run_id}: not signed, and --require-signature was given — the evidence "
        "cannot be proven against an insider who can rewrite it and the warehouse"
    )


def test_require_signature_passes_a_signed_run(ed_run: FilesRun, keys, tmp_path):
    result = verify(ed_run, tmp_path, {"public_key_file": str(keys[1])}, "--require-signature")
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------- the signature file


def test_a_signed_run_whose_signature_file_is_gone_fails(ed_run: FilesRun, keys, tmp_path):
    (ed_run.store.run_dir / SIGNATURE_FILE).unlink()
    result = verify(ed_run, tmp_path, {"public_key_file": str(keys[1])})
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"MISSING  {SIGNATURE_FILE}: the warehouse records that the run was signed, but its "
        "signature file is gone"
    ]


def test_a_garbled_signature_file_fails(ed_run: FilesRun, keys, tmp_path):
    (ed_run.store.run_dir / SIGNATURE_FILE).write_text('{"run_id": "x"')
    result = verify(ed_run, tmp_path, {"public_key_file": str(keys[1])})
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"SIGNATURE {SIGNATURE_FILE}: not a readable signature file (")


def test_a_signature_replaced_by_another_key_fails(ed_run: FilesRun, keys, tmp_path):
    """The insider re-signs with a key of their own and records it in the warehouse too: the
    key the auditor trusts is not that key."""
    from keyaudit.evidence.signing import KeyFileSigner, sign_manifest

    own, _, _ = key_pair(tmp_path / "keys", "insider")
    sha = sha256_file(ed_run.store.run_dir / "manifest.json")
    forged = sign_manifest(
        ed_run.store.run_dir,
        ed_run.run_id,
        sha,
        KeyFileSigner(own),
        signed_at=datetime(2026, 12, 1, 7, 0, tzinfo=UTC),
    )
    con = connect(ed_run.warehouse)
    con.execute(
        "update run_signatures set signature = ?, public_key_sha256 = ?",
        [forged.signature, forged.public_key_sha256],
    )
    con.close()
    result = verify(ed_run, tmp_path, {"public_key_file": str(keys[1])})
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert "not the key that signed, or the signature was replaced" in line


def test_verify_with_the_wrong_public_key_fails(ed_run: FilesRun, tmp_path):
    _, other_public, _ = key_pair(tmp_path / "keys", "other")
    result = verify(ed_run, tmp_path, {"public_key_file": str(other_public)})
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"SIGNATURE {SIGNATURE_FILE}: signed with the key ")
    assert line.endswith("— not the key that signed, or the signature was replaced")


def test_a_signed_run_with_no_key_to_check_it_fails(ed_run: FilesRun, tmp_path):
    result = verify(ed_run, tmp_path, {})
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert line.endswith(
        "but no public key is configured to check it — set [signing] public_key_file or kms_key_id"
    )


# --------------------------------------------------------------------------- keys refused


def request_with(tmp_path: Path, signing: dict[str, Any]) -> AuditRequest:
    config = write_config(tmp_path / "keyaudit.toml", {"signing": signing}, data_dir=tmp_path)
    return AuditRequest(source="files", config_file=config, files_dir=handed_in(tmp_path))


def refusal(tmp_path: Path, signing: dict[str, Any]) -> str:
    """The one line `keyaudit run` ends with when its [signing] key cannot be used."""
    config = write_config(tmp_path / "keyaudit.toml", {"signing": signing}, data_dir=tmp_path)
    result = runner.invoke(
        app,
        ["run", "--source", "files", "--files", str(handed_in(tmp_path)), "--config", str(config)],
    )
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert not list((tmp_path / "evidence").glob("*/manifest.json"))  # nothing was audited
    return line


def test_a_key_file_others_can_read_is_refused(tmp_path, keys):
    keys[0].chmod(0o644)
    assert refusal(tmp_path, {"key_file": str(keys[0])}) == (
        f"keyaudit: error: [signing] key_file {keys[0]} has mode 0644; a private key must be "
        f"readable by its owner only — chmod 600 {keys[0]}"
    )


def test_a_key_file_that_is_a_link_is_refused(tmp_path, keys):
    link = tmp_path / "keys" / "link.pem"
    os.symlink(keys[0], link)
    assert refusal(tmp_path, {"key_file": str(link)}) == (
        f"keyaudit: error: [signing] key_file {link} is a symbolic link — name the key file "
        "itself, not a link to it"
    )


def test_a_key_file_that_is_not_ed25519_is_refused(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ec

    path = tmp_path / "p256.pem"
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    line = refusal(tmp_path, {"key_file": str(path)})
    assert line.startswith(f"keyaudit: error: [signing] key_file {path} holds a ")
    assert "not an Ed25519 key" in line


def test_an_unknown_kms_key_is_refused_naming_it(tmp_path):
    with mock_aws():
        line = refusal(tmp_path, {"kms_key_id": "alias/no-such-key"})
    assert line.startswith(
        "keyaudit: error: [signing] kms_key_id 'alias/no-such-key': NotFoundException on "
        "kms:GetPublicKey"
    )
    assert line.endswith(
        "— check the key id, ARN or alias and its region, and that the caller may use "
        "kms:GetPublicKey on it"
    )


def test_a_symmetric_kms_key_is_refused(tmp_path):
    with mock_aws():
        key_id = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["KeyId"]
        with pytest.raises(SigningError, match=rf"^\[signing\] kms_key_id '{key_id}': "):
            check_request(request_with(tmp_path, {"kms_key_id": key_id}))


def test_key_file_and_kms_key_together_are_refused(tmp_path, keys):
    from keyaudit.config import ConfigError, load_config

    path = tmp_path / "both.toml"
    path.write_text(f'[signing]\nkey_file = "{keys[0]}"\nkms_key_id = "alias/x"\n')
    with pytest.raises(ConfigError, match="set key_file or kms_key_id, not both"):
        load_config(path, environ={})


# --------------------------------------------------------------------------- the report


def evidence_section(run: FilesRun) -> str:
    from keyaudit.report import build_report_context, render_html
    from keyaudit.rules.catalogue import load_catalogue

    con = connect(run.warehouse, read_only=True)
    try:
        html = render_html(
            build_report_context(con, run.run_id, rules=load_catalogue(), with_explorer=False)
        )
    finally:
        con.close()
    return " ".join(html[html.index('id="evidence-intro"') :].split())


def test_the_report_says_who_signed_and_with_which_key(ed_run: FilesRun, keys):
    text = evidence_section(ed_run)
    assert "Signed: the manifest was signed at " in text
    assert "with Ed25519, by a key file, whose public key has the SHA-256 fingerprint" in text
    assert fingerprint(keys[2].public_key()) in text


def test_the_report_of_an_unsigned_run_says_what_that_means(tmp_path):
    run = audit_files(handed_in(tmp_path), tmp_path)
    run.con.close()
    assert (
        "Not signed. The hashes show that the files are those the warehouse recorded, but no "
        "signature means no protection against an insider who can rewrite the evidence and the "
        "warehouse together"
    ) in evidence_section(run)


def test_the_delivered_run_folder_carries_the_signature_beside_the_manifest(
    ed_run: FilesRun, tmp_path
):
    from keyaudit.config import Config
    from keyaudit.delivery.dispatch import prepare_delivery
    from keyaudit.rules.catalogue import load_catalogue

    out = tmp_path / "delivered"
    out.mkdir()
    (out / "report.pdf").write_bytes(b"%PDF-1.7 stand-in")
    con = connect(ed_run.warehouse, read_only=True)
    try:
        prepare_delivery(
            con,
            ed_run.run_id,
            config=Config(),
            rules=load_catalogue(),
            report_dir=out,
            evidence_run_dir=ed_run.store.run_dir,
        )
    finally:
        con.close()
    assert (out / "evidence-manifest.sig.json").read_bytes() == (
        ed_run.store.run_dir / SIGNATURE_FILE
    ).read_bytes()


def test_a_resumed_signed_run_is_signed_again_and_verifies(ed_run: FilesRun, keys, tmp_path):
    """A resume re-seals the run: the signature file of the first load is neither evidence nor
    an obstacle, and the new signature covers the manifest the resume wrote."""
    from tests.runs import AS_OF, RecordingSteps, run_until

    before = json.loads((ed_run.store.run_dir / SIGNATURE_FILE).read_text())
    request = AuditRequest(
        resume=ed_run.run_id, config_file=tmp_path / "keyaudit.toml", db=ed_run.warehouse
    )
    run_until(request, RecordingSteps(stop_after="load"), now=lambda: AS_OF.replace(hour=9))
    after = json.loads((ed_run.store.run_dir / SIGNATURE_FILE).read_text())
    assert after["signed_at"] != before["signed_at"]
    assert after["manifest_sha256"] == sha256_file(ed_run.store.run_dir / "manifest.json")
    result = verify(ed_run, tmp_path, {"public_key_file": str(keys[1])})
    assert result.exit_code == 0, result.output
