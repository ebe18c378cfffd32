"""What the benchmark scripts share: where the checkout is (its lib/ goes first on sys.path, so a bare checkout
works; the venv installs idbridge already) and the organisation sizes they generate.

The scripts run as `python benchmarks/<name>.py`, which puts this folder on sys.path: they `import common`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "lib") not in sys.path:
    sys.path.insert(0, str(ROOT / "lib"))

SEED = 1
DEFAULT_DENSITY = 12  # the generator's default (principal, account, permission set) assignments per account


@dataclass(frozen=True)
class Size:
    """An organisation for idbridge.sandbox.generate. `assignments`: the target number of (principal, account,
    permission set) assignments, None for the generator's default density; `sign_ins`: how many users sign in,
    None for the generator's default (users // 10, at least 1,000)."""

    users: int
    groups: int
    accounts: int
    permission_sets: int
    assignments: int | None = None
    sign_ins: int | None = None

    @property
    def assignments_per_account(self) -> float:
        return self.assignments / self.accounts if self.assignments is not None else DEFAULT_DENSITY

    def scenario(self) -> dict:
        """The generated scenario document (seed SEED: the same organisation every run)."""
        from idbridge.sandbox.generate import generate_scenario

        return generate_scenario(self.users, self.groups, self.accounts, self.permission_sets, seed=SEED,
                                 assignments=self.assignments, sign_ins=self.sign_ins)
