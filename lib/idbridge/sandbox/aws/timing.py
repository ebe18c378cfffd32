"""How long the AWS side takes to seed at the largest scale the sandbox aims at (not a test; run by hand):

    .venv/bin/python -m idbridge.sandbox.aws.timing [users] [groups] [accounts] [permission_sets]

Defaults: 100,000 users, 5,000 groups, 1,000 accounts, 300 permission sets, 3 groups per user, each group
assigned to 5 accounts. Users, groups and memberships go through the IdentityStore facade, as the emulated SCIM
provisioning writes them.
"""

from __future__ import annotations

import random
import resource
import sys
import time

from idbridge.sandbox.aws.seed import seed_account_assignments, seed_aws
from idbridge.sandbox.aws.testkit import NOW
from idbridge.sandbox.faults import FaultConfig
from idbridge.sandbox.scenario import Scenario
from idbridge.sandbox.world import SandboxWorld


def big_scenario(groups: int, accounts: int, permission_sets: int, rng: random.Random) -> Scenario:
    members = [{"id": f"{200000000000 + i}", "name": f"acct-{i}", "ou": f"Workloads/Unit{i % 20}/{i % 2}",
                "tags": {"env": "prod" if i % 2 else "dev"}} for i in range(accounts - 1)]
    return Scenario.model_validate({
        "scenario": "timing", "tenant": {"id": "11111111-2222-3333-4444-555555555555", "display_name": "Big",
                                         "default_domain": "big.onmicrosoft.com"},
        "entra": {"groups": [{"display_name": f"G{i}"} for i in range(groups)]},
        "aws": {"management_account": "111111111111",
                "accounts": [{"id": "111111111111", "name": "Management"}, *members],
                "permission_sets": [{"name": f"PS{i}", "managed_policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                                     "customer_managed_policies": [{"name": f"cm{i}"}],
                                     "not_reprovisioned_in": ["acct-0"] if i % 10 == 0 else []}
                                    for i in range(permission_sets)],
                "account_assignments": [{"group": f"G{i}", "permission_set": f"PS{rng.randrange(permission_sets)}",
                                         "accounts": [f"acct-{rng.randrange(accounts - 1)}" for _ in range(5)]}
                                        for i in range(groups)]}})


def main(users: int = 100_000, groups: int = 5_000, accounts: int = 1_000, permission_sets: int = 300) -> None:
    rng = random.Random(1)
    scenario = big_scenario(groups, accounts, permission_sets, rng)
    steps: list[tuple[str, float]] = []

    def timed(label: str, func):
        started = time.perf_counter()
        result = func()
        steps.append((label, time.perf_counter() - started))
        print(f"{label:<52} {steps[-1][1]:6.2f} s", flush=True)
        return result

    aws = timed(f"seed_aws ({accounts:,} accounts, {permission_sets} permission sets)", lambda: seed_aws(scenario, NOW))
    store = aws.identity_store
    with store.bulk():
        user_ids = timed(f"facade: {users:,} users", lambda: [store.create_user(
            user_name=f"user{i}@big.example", display_name=f"User {i}", given_name="U", family_name=str(i),
            emails=[{"value": f"user{i}@big.example", "type": "work", "primary": True}], phone_numbers=None,
            addresses=None, external_id=f"ext-{i}", external_id_issuer=None, at=NOW) for i in range(users)])
        group_ids = timed(f"facade: {groups:,} groups", lambda: [
            store.create_group(display_name=f"G{i}", external_id=f"g-{i}", at=NOW) for i in range(groups)])
        picks = [rng.sample(group_ids, 3) for _ in user_ids]
        timed(f"facade: {3 * users:,} memberships", lambda: [
            store.add_member(g, u, at=NOW) for u, chosen in zip(user_ids, picks) for g in chosen])
    world = SandboxWorld(scenario=scenario, now=NOW, faults=FaultConfig(), graph=None, aws=aws)
    timed("seed_account_assignments", lambda: seed_account_assignments(world))
    print(f"{'total':<52} {sum(s for _, s in steps):6.2f} s   ({len(aws.sso.assignments):,} assignments, "
          f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB)")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:]))
