"""The deploy/ files as tests read them: policies, their actions, and the CloudFormation
template rendered for given parameters (the few intrinsics it uses, resolved as CloudFormation
would)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from keyaudit.paths import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
ROLE = "KeyauditAuditRole"
# The organization id in deploy/management-policy.json, to be replaced by the deployer's own
# (docs/permissions.md says so).
ORG_PLACEHOLDER = "o-exampleorgid"


def policy(name: str) -> dict[str, Any]:
    return json.loads((DEPLOY / name).read_text(encoding="utf-8"))


def management_policy(organization_id: str) -> dict[str, Any]:
    """deploy/management-policy.json as deployed: its organization id placeholder replaced."""
    text = (DEPLOY / "management-policy.json").read_text(encoding="utf-8")
    assert text.count(ORG_PLACEHOLDER) == 1, "the organization id placeholder, once"
    return json.loads(text.replace(ORG_PLACEHOLDER, organization_id))


def actions(document: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for statement in document["Statement"]:
        granted = statement["Action"]
        found |= {granted} if isinstance(granted, str) else set(granted)
    return found


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !Sub, !If, …) as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".")
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref": value} if suffix == "Ref" else {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def template(name: str = "audit-role.yaml") -> dict[str, Any]:
    return yaml.load((DEPLOY / name).read_text(encoding="utf-8"), _CfnLoader)


_DROP = object()


def render(node: Any, params: dict[str, str], conditions: dict[str, bool]) -> Any:
    """Resolve the few intrinsics the template uses, as CloudFormation would."""
    if isinstance(node, list):
        return [v for v in (render(n, params, conditions) for n in node) if v is not _DROP]
    if not isinstance(node, dict):
        return node
    if "Ref" in node:
        name = node["Ref"]
        return _DROP if name == "AWS::NoValue" else params[name]
    if "Fn::Sub" in node:
        text = node["Fn::Sub"]
        for key, value in {**params, "AWS::Partition": "aws"}.items():
            text = text.replace("${" + key + "}", value)
        return text
    if "Fn::If" in node:
        name, yes, no = node["Fn::If"]
        return render(yes if conditions[name] else no, params, conditions)
    rendered = {k: render(v, params, conditions) for k, v in node.items()}
    return {k: v for k, v in rendered.items() if v is not _DROP}


def rendered_role(auditing_account: str, external_id: str = "") -> dict[str, Any]:
    body = template()
    params = {"AuditingAccountId": auditing_account, "RoleName": ROLE, "ExternalId": external_id}
    properties = body["Resources"]["AuditRole"]["Properties"]
    return render(properties, params, {"HasExternalId": bool(external_id)})
