"""The sandbox's state: one scenario seeded into the Graph emulator's store and into moto's backends.

Seeding order matters and mirrors how a real bridge came to be:
1. Entra (Graph store) from the scenario.
2. AWS: organisation, accounts, Identity Center instance, permission sets, principals created by hand, CloudTrail.
3. The provisioning service's first cycles (SCIM into the identity store), then the drift the scenario plants.
4. Account assignments (they need the provisioned principals), then principals deleted and recreated.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from idbridge.sandbox.aws.seed import seed_account_assignments, seed_aws
from idbridge.sandbox.faults import FaultConfig
from idbridge.sandbox.graph.seed import build_store
from idbridge.sandbox.pim_drift import seed_lingering_memberships
from idbridge.sandbox.scenario import Scenario, SeedError, load_scenario, seed_input_error
from idbridge.sandbox.scim.seed import seed as seed_provisioning
from idbridge.sandbox.state import SandboxWorld
from idbridge.sandbox.timeexpr import utc_now

__all__ = ["SandboxWorld", "SeedError", "build_world", "lint_scenario", "seed_world"]


def build_world(scenario: Scenario, now: datetime, faults: FaultConfig | None = None) -> SandboxWorld:
    graph = build_store(scenario, now)
    aws = seed_aws(scenario, now)
    world = SandboxWorld(scenario=scenario, now=now, faults=faults or FaultConfig(), graph=graph, aws=aws)
    with world.lock:
        seed_provisioning(world)
        seed_lingering_memberships(world)
    seed_account_assignments(world)
    return world


def seed_world(scenario: Scenario, now: datetime, faults: FaultConfig | None = None, *,
               file: str | Path | None = None) -> SandboxWorld:
    """build_world, with a SeedError raised as the InputError that names the scenario file, the line and the key
    (what `sandbox up` and `sandbox lint` both report, exit 2)."""
    try:
        return build_world(scenario, now, faults)
    except SeedError as exc:
        raise seed_input_error(scenario, exc, file) from None


def lint_scenario(path: str | Path, now: datetime | None = None) -> Scenario:
    """Every rule `sandbox up` applies to a scenario, without serving it: the file's shape and references, then
    the whole seeding (Entra store, AWS, the emulated provisioning cycles, assignments) in memory. Seeding resets
    this process's moto backends: do not call it while a sandbox runs in the same process."""
    scenario = load_scenario(path)
    seed_world(scenario, now or utc_now(), file=path)
    return scenario
