"""The sandbox's state: one scenario seeded into the Graph emulator's store and into moto's backends.

Seeding order matters and mirrors how a real bridge came to be:
1. Entra (Graph store) from the scenario.
2. AWS: organisation, accounts, Identity Center instance, permission sets, principals created by hand, CloudTrail.
3. The provisioning service's first cycles (SCIM into the identity store), then the drift the scenario plants.
4. Account assignments (they need the provisioned principals), then principals deleted and recreated.
"""

from __future__ import annotations

from datetime import datetime

from idbridge.sandbox.aws.seed import seed_account_assignments, seed_aws
from idbridge.sandbox.faults import FaultConfig
from idbridge.sandbox.graph.seed import build_store
from idbridge.sandbox.scenario import Scenario, SeedError
from idbridge.sandbox.scim.seed import seed as seed_provisioning
from idbridge.sandbox.state import SandboxWorld

__all__ = ["SandboxWorld", "SeedError", "build_world"]


def build_world(scenario: Scenario, now: datetime, faults: FaultConfig | None = None) -> SandboxWorld:
    graph = build_store(scenario, now)
    aws = seed_aws(scenario, now)
    world = SandboxWorld(scenario=scenario, now=now, faults=faults or FaultConfig(), graph=graph, aws=aws)
    with world.lock:
        seed_provisioning(world)
    seed_account_assignments(world)
    return world
