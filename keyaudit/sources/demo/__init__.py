"""The simulated organization (moto) used by `keyaudit demo` and the tests.

`simulated_organization(as_of)` starts moto in-process, builds a deterministic AWS Organization
with users and keys drawn from a table of personas, and yields a `SimulatedOrganization` that
carries the ground truth (`expected`) and the session customizer that makes moto answer like AWS.
"""

from keyaudit.sources.demo.organization import (
    ROLE_NAME,
    SimulatedOrganization,
    simulated_organization,
)
from keyaudit.sources.demo.personas import (
    PERSONAS,
    ROOT_USER,
    ExpectedFinding,
    KeyTruth,
    Persona,
    RootTruth,
    UserTruth,
)

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
