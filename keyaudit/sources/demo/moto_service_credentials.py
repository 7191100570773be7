"""Service-specific credentials for moto's IAM, which 5.2 does not implement (NotImplementedError).

keyaudit lists CodeCommit, Amazon Keyspaces and Amazon Bedrock credentials with
ListServiceSpecificCredentials; the demo and the tests need moto to answer that call, and to
create such credentials, through the real boto3 Query-protocol calls. `install()` adds them the
way moto implements its other IAM actions: backend methods on moto's IAMBackend (the state lives
on moto's User, so moto's reset clears it) and response handlers on IamResponse, which moto
dispatches by action name. Nothing on the client side is faked.

Implemented as the IAM API Reference describes them: CreateServiceSpecificCredential (at most
two per service and user, CredentialAgeDays giving Bedrock API keys an ExpirationDate),
ListServiceSpecificCredentials (UserName, ServiceName, AllUsers, Marker/MaxItems paging),
UpdateServiceSpecificCredential and DeleteServiceSpecificCredential.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from moto.core.common_models import BaseModel
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.iam.exceptions import (
    IAMException,
    LimitExceededException,
    NotFoundException,
    ValidationError,
)
from moto.iam.models import IAMBackend, User
from moto.iam.responses import IamResponse
from moto.iam.utils import random_access_key, random_alphanumeric

# The services IAM issues service-specific credentials for (CreateServiceSpecificCredential).
SERVICES = ("codecommit.amazonaws.com", "cassandra.amazonaws.com", "bedrock.amazonaws.com")
# Those whose credentials may expire (CredentialAgeDays): long-term API keys.
API_KEY_SERVICES = ("bedrock.amazonaws.com",)
PER_SERVICE_AND_USER = 2
DEFAULT_MAX_ITEMS = 100


class NotSupportedService(IAMException):
    code = "NotSupportedService"


class ServiceSpecificCredential(BaseModel):
    def __init__(
        self, account_id: str, user_name: str, service_name: str, age_days: int | None
    ) -> None:
        self.user_name = user_name
        self.service_name = service_name
        self.id = "ACCA" + random_access_key()
        self.create_date: datetime = utcnow()
        self.expiration_date: datetime | None = (
            self.create_date + timedelta(days=age_days) if age_days else None
        )
        self.status = "Active"
        prefix = "BedrockAPIKey-" + random_access_key()[:4] if _is_api_key(service_name) else ""
        self.service_user_name = f"{prefix or user_name}-at-{account_id}"
        self.alias = self.service_user_name if prefix else None
        self.password = random_alphanumeric(40)

    def metadata(self) -> dict[str, Any]:
        """As ListServiceSpecificCredentials answers: no password, no secret."""
        found = {
            "UserName": self.user_name,
            "Status": self.status,
            "ServiceUserName": self.service_user_name,
            "CreateDate": self.create_date,
            "ServiceSpecificCredentialId": self.id,
            "ServiceName": self.service_name,
        }
        if self.alias:
            found["ServiceCredentialAlias"] = self.alias
        if self.expiration_date:
            found["ExpirationDate"] = self.expiration_date
        return found

    def created(self) -> dict[str, Any]:
        """As CreateServiceSpecificCredential answers: the only time the password is shown."""
        found = {**self.metadata(), "ServicePassword": self.password}
        if self.alias:
            found["ServiceCredentialSecret"] = self.password
        return found


def _is_api_key(service_name: str) -> bool:
    return service_name in API_KEY_SERVICES


def credentials_of(user: User) -> list[ServiceSpecificCredential]:
    """The user's service-specific credentials (moto's User has no attribute for them)."""
    found: list[ServiceSpecificCredential] | None = getattr(
        user, "service_specific_credentials", None
    )
    if found is None:
        found = []
        user.service_specific_credentials = found  # type: ignore[attr-defined]
    return found


# --- backend (IAMBackend methods) -----------------------------------------------------------


def create_service_specific_credential(
    self: IAMBackend, user_name: str, service_name: str, credential_age_days: int | None
) -> ServiceSpecificCredential:
    user = self.get_user(user_name)
    if service_name not in SERVICES:
        raise NotSupportedService(f"Service {service_name} is not supported.")
    if credential_age_days is not None and not _is_api_key(service_name):
        raise ValidationError(
            f"CredentialAgeDays is only valid for long-term API keys, not {service_name}."
        )
    held = [c for c in credentials_of(user) if c.service_name == service_name]
    if len(held) >= PER_SERVICE_AND_USER:
        raise LimitExceededException(
            f"Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: "
            f"{PER_SERVICE_AND_USER}"
        )
    credential = ServiceSpecificCredential(
        self.account_id, user_name, service_name, credential_age_days
    )
    credentials_of(user).append(credential)
    return credential


def list_service_specific_credentials(
    self: IAMBackend, user_name: str | None, service_name: str | None, all_users: bool
) -> list[ServiceSpecificCredential]:
    if all_users and user_name:
        raise ValidationError("AllUsers cannot be specified together with UserName.")
    if service_name is not None and service_name not in SERVICES:
        raise NotSupportedService(f"Service {service_name} is not supported.")
    users = list(self.users.values()) if all_users else [self.get_user(str(user_name))]
    return [
        c
        for user in users
        for c in credentials_of(user)
        if service_name is None or c.service_name == service_name
    ]


def _find(self: IAMBackend, user_name: str, credential_id: str) -> ServiceSpecificCredential:
    for credential in credentials_of(self.get_user(user_name)):
        if credential.id == credential_id:
            return credential
    raise NotFoundException(f"No such credential {credential_id} exists for user {user_name}.")


def update_service_specific_credential(
    self: IAMBackend, user_name: str, credential_id: str, status: str
) -> None:
    _find(self, user_name, credential_id).status = status


def delete_service_specific_credential(
    self: IAMBackend, user_name: str, credential_id: str
) -> None:
    credentials_of(self.get_user(user_name)).remove(_find(self, user_name, credential_id))


# --- responses (IamResponse handlers, dispatched by action name) ----------------------------


def _create(self: IamResponse) -> ActionResult:
    age = self._get_param("CredentialAgeDays")
    credential = self.backend.create_service_specific_credential(  # type: ignore[attr-defined]
        self._get_param("UserName"),
        self._get_param("ServiceName"),
        int(age) if age is not None else None,
    )
    return ActionResult({"ServiceSpecificCredential": credential.created()})


def _list(self: IamResponse) -> ActionResult:
    user_name = self._get_param("UserName")
    all_users = str(self._get_param("AllUsers", "false")).lower() == "true"
    if not user_name and not all_users:
        user_name = self.backend.get_access_key_last_used(self.get_access_key())["user_name"]
    found = self.backend.list_service_specific_credentials(  # type: ignore[attr-defined]
        user_name, self._get_param("ServiceName"), all_users
    )
    start = int(self._get_param("Marker") or 0)
    size = int(self._get_param("MaxItems") or DEFAULT_MAX_ITEMS)
    page = found[start : start + size]
    result: dict[str, Any] = {
        "ServiceSpecificCredentials": [c.metadata() for c in page],
        "IsTruncated": start + size < len(found),
    }
    if result["IsTruncated"]:
        result["Marker"] = str(start + size)
    return ActionResult(result)


def _update(self: IamResponse) -> EmptyResult:
    self.backend.update_service_specific_credential(  # type: ignore[attr-defined]
        self._get_param("UserName"),
        self._get_param("ServiceSpecificCredentialId"),
        self._get_param("Status"),
    )
    return EmptyResult()


def _delete(self: IamResponse) -> EmptyResult:
    self.backend.delete_service_specific_credential(  # type: ignore[attr-defined]
        self._get_param("UserName"), self._get_param("ServiceSpecificCredentialId")
    )
    return EmptyResult()


_BACKEND = {
    "create_service_specific_credential": create_service_specific_credential,
    "list_service_specific_credentials": list_service_specific_credentials,
    "update_service_specific_credential": update_service_specific_credential,
    "delete_service_specific_credential": delete_service_specific_credential,
}
_RESPONSES = {
    "create_service_specific_credential": _create,
    "list_service_specific_credentials": _list,
    "update_service_specific_credential": _update,
    "delete_service_specific_credential": _delete,
}


def install() -> None:
    """Teach moto's IAM the calls above; idempotent, and a no-op once moto implements them."""
    for name, method in _BACKEND.items():
        if name not in vars(IAMBackend):
            setattr(IAMBackend, name, method)
    for name, handler in _RESPONSES.items():
        if name not in vars(IamResponse):
            setattr(IamResponse, name, handler)
