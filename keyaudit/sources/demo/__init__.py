"""The simulated organization (moto) used by `keyaudit demo` and the tests.

`simulated_organization(as_of)` starts moto in-process, builds a deterministic AWS Organization
with users and keys drawn from a table of personas, and yields a `SimulatedOrganization` that
carries the ground truth (`expected`) and the session customizer that makes moto answer like AWS.
moto comes with the `demo` extra: without it, importing this package is a one-line error.
"""

from keyaudit.extras import require_extra

require_extra("demo")  # before any module below imports moto

# ruff: noqa: E402

from keyaudit.sources.demo.organization import ROLE_NAME, simulated_organization
from keyaudit.sources.demo.personas import (
    PERSONAS,
    ROOT_USER,
    ExpectedFinding,
    KeyTruth,
    Persona,
    RootTruth,
    UserTruth,
)
from keyaudit.sources.demo.simulated import SimulatedOrganization

__all__ = [
    "PERSONAS",
    "ROLE_NAME",
    "ROOT_USER",
    "ExpectedFinding",
    "KeyTruth",
    "Persona",
    "RootTruth",
    "SimulatedOrganization",
    "UserTruth",
    "simulated_organization",
]
