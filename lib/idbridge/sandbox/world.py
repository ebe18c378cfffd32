"""The sandbox's state: one scenario seeded into the Graph emulator's store and into moto's backends.

Seeding order matters and mirrors how a real bridge came to be:
1. Entra (Graph store) from the scenario.
2. AWS: organisation, accounts, Identity Center instance, permission sets, principals created by hand, CloudTrail.
3. The provisioning service's first cycles (SCIM into the identity store), then the drift the scenario plants.
4. Account assignments (they need the provisioned principals), then principals deleted and recreated.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from idbridge.sandbox.faults import FaultConfig
from idbridge.sandbox.scenario import Scenario

if TYPE_CHECKING:  # the stores import this module's types
    from idbridge.sandbox.aws.seed import AwsSide
    from idbridge.sandbox.graph.store import GraphStore


class SeedError(ValueError):
    """The scenario parsed, but cannot be seeded as written (e.g. an assignment to a group that is never
    provisioned). The message starts with the scenario path of the offending item."""


@dataclass
class SandboxWorld:
    scenario: Scenario
    now: datetime
    faults: FaultConfig
    graph: "GraphStore"
    aws: "AwsSide"
    # One lock for both services: a provisioning cycle reads Entra and writes AWS while either may be serving.
    lock: threading.RLock = field(default_factory=threading.RLock)


def build_world(scenario: Scenario, now: datetime, faults: FaultConfig | None = None) -> SandboxWorld:
    from idbridge.sandbox.aws.seed import seed_account_assignments, seed_aws
    from idbridge.sandbox.graph.store import seed_graph_store
    from idbridge.sandbox.provisioning import seed_initial_provisioning

    graph = seed_graph_store(scenario, now)
    aws = seed_aws(scenario, now)
    world = SandboxWorld(scenario=scenario, now=now, faults=faults or FaultConfig(), graph=graph, aws=aws)
    seed_initial_provisioning(world)
    seed_account_assignments(world)
    return world
