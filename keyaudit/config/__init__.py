"""Configuration: defaults ← keyaudit.toml ← KEYAUDIT_* environment ← CLI flags.

Every key has a default, so the file is optional. Invalid values are refused with one line that
names the key, the value and what is allowed. No secret is ever read from or stored here.

The config stage owns every section of keyaudit.toml: this module (`Config` and its sections)
and `delivery` (the `[delivery]` and `[tickets]` sections). Every stage above reads it; it may
import only the ground floor (`keyaudit.model`, `keyaudit.frameworks`, …), never a stage
(docs/architecture.md, "Layers").
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from keyaudit.config.delivery import DeliveryConfig, TicketsConfig, redacted_url
from keyaudit.frameworks import BY_KEY, DEFAULT_SUMMARY, UnknownFramework, lookup
from keyaudit.model import KeyauditError, Severity, is_account_id

ENV_PREFIX = "KEYAUDIT_"
DEFAULT_CONFIG_FILE = Path("keyaudit.toml")
# DuckDB 1.4 and newer read warehouse files of this storage version (docs/querying.md)
DEFAULT_STORAGE_VERSION = "v1.4.0"


class ConfigError(KeyauditError, ValueError):
    """A configuration value is wrong; the message names the key and the fix."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _account_ids(values: list[str]) -> list[str]:
    for value in values:
        if not is_account_id(value):
            raise ValueError(
                f"{value!r} is not a 12-digit account id (write it as a quoted string)"
            )
    return values


class DiscoveryConfig(_Section):
    """Which accounts are in scope."""

    mode: Literal["auto", "organization", "accounts", "caller"] = "auto"
    accounts: list[str] = Field(default_factory=list)
    include_accounts: list[str] = Field(default_factory=list)
    exclude_accounts: list[str] = Field(default_factory=list)
    include_ous: list[str] = Field(default_factory=list)
    exclude_ous: list[str] = Field(default_factory=list)

    _ids = field_validator("accounts", "include_accounts", "exclude_accounts")(_account_ids)


class AwsConfig(_Section):
    """How to reach member accounts."""

    role_name: str = Field("OrganizationAccountAccessRole", pattern=r"^[\w+=,.@/-]{1,64}$")
    external_id: str | None = Field(None, min_length=2, max_length=1224)
    retry_mode: Literal["adaptive", "standard"] = "adaptive"
    max_attempts: int = Field(10, ge=1, le=20)
    region: str | None = None


class CollectionConfig(_Section):
    """Parallelism and patience of collection."""

    concurrency: int = Field(8, ge=1, le=256)
    report_deadline_seconds: float = Field(300.0, gt=0, le=3600)
    report_poll_initial_seconds: float = Field(2.0, gt=0, le=60)
    report_poll_max_seconds: float = Field(30.0, gt=0, le=300)
    # one account's whole collection; past it the account is not assessed (partial when its
    # credential report was already saved), and the other accounts carry on
    account_deadline_seconds: float = Field(1800.0, gt=0, le=86400)
    last_used: Literal["api", "report"] = "api"
    # false: user permissions (GetAccountAuthorizationDetails) are not collected, for
    # organizations that cannot grant the read; user privilege is then "off", not a failure
    privilege: bool = True
    # false: the organization's service control policies (ListRoots, ListPolicies,
    # DescribePolicy, ListTargetsForPolicy, once per run) are not collected; SCPs are then "off"
    # and the privilege evaluation says they are unknown, never that they deny
    scps: bool = True
    # false: SSH public keys, service-specific credentials and signing certificates
    # (ListSSHPublicKeys per user, ListServiceSpecificCredentials once, ListSigningCertificates
    # per holder) are not collected; they are then "off", never "none"
    other_credentials: bool = True


class PathsConfig(_Section):
    """Where the warehouse, evidence and reports live."""

    warehouse: Path = Path("data/keyaudit.duckdb")
    evidence_dir: Path = Path("data/evidence")
    reports_dir: Path = Path("data/reports")


class WarehouseConfig(_Section):
    """How the warehouse file is written."""

    # The DuckDB storage format of a NEW warehouse file: the oldest DuckDB release that must open
    # it (DuckDB 2.x writes a format older clients refuse by default). An existing file keeps its
    # format. "latest" = the format of the DuckDB keyaudit runs with.
    storage_version: str = DEFAULT_STORAGE_VERSION

    @field_validator("storage_version")
    @classmethod
    def _release(cls, value: str) -> str:
        if not re.fullmatch(r"v\d+\.\d+\.\d+|latest", value):
            raise ValueError("name a DuckDB release like 'v1.4.0' (with the v), or 'latest'")
        return value


class ReportConfig(_Section):
    """Report branding and size limits."""

    title: str = Field("AWS access key audit", min_length=1, max_length=200)
    organization_name: str = ""
    pdf_detail_limit: int = Field(300, ge=0, le=5000)
    pdf_rows_per_account: int = Field(25, ge=0, le=1000)
    paper: Literal["A4", "Letter"] = "A4"
    # The frameworks of the executive summary's Controls table, by name (keyaudit.frameworks;
    # docs/controls.md). The methodology lists every framework; `keyaudit report --framework`
    # shows any one of them.
    frameworks: list[str] = Field(
        default_factory=lambda: [BY_KEY[key].name for key in DEFAULT_SUMMARY]
    )

    @field_validator("frameworks", mode="before")
    @classmethod
    def _known_frameworks(cls, value: Any) -> Any:
        names = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
        if not isinstance(names, list) or not names:
            raise ValueError(
                "give a non-empty list of framework names, e.g. "
                f"{[BY_KEY[k].name for k in ('cis_v6_0', 'security_hub')]}"
            )
        try:
            return list(dict.fromkeys(lookup(str(name)).name for name in names))
        except UnknownFramework as exc:
            raise ValueError(str(exc)) from None


class RunConfig(_Section):
    """Where collection runs and when a finished run counts as complete."""

    task_runner: Literal["threads", "dask"] = "threads"
    # With "dask": the scheduler of an existing cluster, e.g. tcp://dask-scheduler:8786; empty
    # starts a temporary local cluster for the run.
    dask_address: str = Field("", pattern=r"^$|^(tcp|tls|inproc)://\S+$")
    # Below this share of the accounts in scope assessed, the run fails (its report is still
    # written and delivered, marked incomplete).
    min_coverage: float = Field(0.8, ge=0, le=1)


class WaiversConfig(_Section):
    """How waivers are reviewed (the waiver file itself is the top-level `waivers_file`)."""

    # A waiver needs review from this many days before its expires_on (that day included): the
    # report and the owner e-mails say so, while there is still time to renew or fix.
    review_days: int = Field(14, ge=0, le=365)


class OwnersConfig(_Section):
    """Who owns a key before its account's owner (docs/scheduling-and-delivery.md#owners)."""

    # The IAM user tag whose value is the e-mail address of the user's keys' owner; then a key's
    # description (IAM keeps it as a user tag keyed by the access key id); then the account's
    # owner ([delivery.email] owner_tag, ou_owners). Empty: no user tag is read.
    user_tag: str = Field("owner", max_length=128, pattern=r"^[\w\s.:/=+@-]*$")


class FilesConfig(_Section):
    """Limits of the "files" source (a folder of credential reports handed in)."""

    # a larger file is refused unread (listed with the reason); at most this much is ever read
    max_file_mb: int = Field(256, ge=1, le=4096)

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024


class SigningConfig(_Section):
    """Who signs each run's manifest, and which public key `keyaudit verify` trusts.

    Without a signature the hashes only show the files are those the warehouse recorded; an
    insider who rewrites the evidence and the warehouse together passes them (docs/evidence.md)."""

    # an Ed25519 private key (PEM, PKCS#8) readable by its owner only; never a link
    key_file: Path | None = None
    # an AWS KMS asymmetric key (ECC_NIST_P256 or RSA, usage SIGN_VERIFY): id, ARN or alias
    kms_key_id: str | None = Field(None, min_length=1, max_length=2048)
    # what `keyaudit verify` checks signatures with (PEM); unset: the KMS key's public key
    public_key_file: Path | None = None

    @field_validator("kms_key_id")
    @classmethod
    def _one_signer(cls, value: str | None, info: Any) -> str | None:
        if value and info.data.get("key_file"):
            raise ValueError("set key_file or kms_key_id, not both")
        return value


class RemediationConfig(_Section):
    """The deactivation plan each run writes, and the role `keyaudit remediate` acts through
    (docs/remediation.md)."""

    # days before its deactivation day a key's owner is warned (the owner e-mail of each run
    # that falls on or after a warning day says so); the largest is the least notice anyone gets
    warn_days: list[int] = Field(default_factory=lambda: [14, 7, 1])
    # a key is deactivated this many days after its first open finding was first seen, never
    # before the run's as-of + max(warn_days)
    deactivate_after_days: int = Field(30, ge=1, le=3650)
    # assumed in each account to call iam:UpdateAccessKey (deploy/remediation-role.yaml); never
    # the audit role
    role_name: str = Field("keyaudit-remediation", pattern=r"^[\w+=,.@/-]{1,64}$")
    external_id: str | None = Field(None, min_length=2, max_length=1224)

    @field_validator("warn_days")
    @classmethod
    def _warn_days(cls, value: list[int]) -> list[int]:
        if not value or any(not 1 <= day <= 365 for day in value) or len(set(value)) < len(value):
            raise ValueError("give distinct whole days between 1 and 365, e.g. [14, 7, 1]")
        return sorted(value, reverse=True)

    @property
    def lead_days(self) -> int:
        """The least notice a key gets before it is deactivated: the largest warning day."""
        return max(self.warn_days)


class RuleOverride(_Section):
    """Per-rule severity, enablement and parameters; parameters are checked against the catalogue."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)
    severity: Severity | None = None
    enabled: bool = True


class Config(_Section):
    discovery: DiscoveryConfig = Field(default_factory=DiscoveryConfig)
    aws: AwsConfig = Field(default_factory=AwsConfig)
    collection: CollectionConfig = Field(default_factory=CollectionConfig)
    paths: PathsConfig = Field(default_factory=PathsConfig)
    warehouse: WarehouseConfig = Field(default_factory=WarehouseConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    run: RunConfig = Field(default_factory=RunConfig)
    files: FilesConfig = Field(default_factory=FilesConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    tickets: TicketsConfig = Field(default_factory=TicketsConfig)
    signing: SigningConfig = Field(default_factory=SigningConfig)
    rules: dict[str, RuleOverride] = Field(default_factory=dict)
    waivers: WaiversConfig = Field(default_factory=WaiversConfig)
    waivers_file: Path | None = None
    owners: OwnersConfig = Field(default_factory=OwnersConfig)
    remediation: RemediationConfig = Field(default_factory=RemediationConfig)

    @field_validator("remediation")
    @classmethod
    def _separate_role(cls, value: RemediationConfig, info: Any) -> RemediationConfig:
        aws = info.data.get("aws")
        if aws is not None and value.role_name == aws.role_name:
            raise ValueError(
                f"role_name {value.role_name!r} is the audit role ([aws] role_name): "
                "remediation acts through a role of its own (deploy/remediation-role.yaml)"
            )
        return value

    def digest(self) -> str:
        """A short hash of the effective configuration, stored with each run."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)


SECRET_KEYS = frozenset({"tickets.webhook_url"})


def _explain(error: ValidationError, origin: str) -> ConfigError:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    value = first.get("input")
    if key in SECRET_KEYS and isinstance(value, str):
        value = redacted_url(value)  # a webhook URL's path is often its token
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        return ConfigError(
            f"{origin}: unknown key {key!r} — see keyaudit.example.toml for the keys"
        )
    if first["type"] == "literal_error":
        allowed = first.get("ctx", {}).get("expected", "")
        return ConfigError(f"{origin}: {key} = {value!r} is not allowed; use one of {allowed}")
    return ConfigError(f"{origin}: {key} = {value!r} is invalid: {message}")


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """KEYAUDIT_COLLECTION__CONCURRENCY=16 → {"collection": {"concurrency": "16"}}."""
    result: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name == "KEYAUDIT_CONFIG":
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        if path[0] == "rules" and len(path) == 3:
            path[1] = path[1].upper()
        node = result
        for part in path[:-1]:
            node = node.setdefault(part, {})
        value: Any = raw
        if path[-1] in {
            "accounts",
            "include_accounts",
            "exclude_accounts",
            "include_ous",
            "exclude_ous",
            "warn_days",
        }:
            value = [item.strip() for item in raw.split(",") if item.strip()]
        node[path[-1]] = value
    return result


def load_config(
    path: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Defaults, then the TOML file (explicit path must exist), then environment, then flags."""
    environ = os.environ if environ is None else environ
    explicit = path is not None or "KEYAUDIT_CONFIG" in environ
    file_path = Path(path or environ.get("KEYAUDIT_CONFIG") or DEFAULT_CONFIG_FILE)
    data: dict[str, Any] = {}
    origin = "defaults"
    if file_path.exists():
        try:
            data = tomllib.loads(file_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {file_path}: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {file_path} is not valid TOML: {exc}") from exc
        origin = str(file_path)
    elif explicit:
        raise ConfigError(
            f"config file {file_path} does not exist — copy keyaudit.example.toml to start one"
        )
    try:
        Config.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, origin) from None
    env = _env_overrides(environ)
    if env:
        data = _merge(data, env)
        origin = "KEYAUDIT_* environment"
        try:
            Config.model_validate(data)
        except ValidationError as exc:
            raise _explain(exc, origin) from None
    if overrides:
        data = _merge(data, overrides)
        origin = "command-line flags"
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, origin) from None
