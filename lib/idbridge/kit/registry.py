"""The one list of the kit's notebooks, in the order `idbridge run` runs them.

`idbridge dev make-notebooks` writes the notebooks, `idbridge run` runs them, and the demo chooses among them —
all from this list. `number` finds notebooks/<number>_*.ipynb whatever the rest of its name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from idbridge.core.paths import NOTEBOOKS_DIR
from idbridge.errors import InputError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    """One notebook of the kit. `needs` names the notebook parameters it cannot run without (beyond the run's
    own: parameters file, run folder, snapshot), each found as INPUT_FILES says. `gate`: when it fails, nothing
    after it can mean anything (preflight), so the run stops there."""

    number: str
    what: str
    stage: Literal["before_collection", "on_snapshot"]
    needs: tuple[str, ...] = ()
    gate: bool = False


# Runbooks change the tenant, so they run before the collection; everything after reads the run's one snapshot.
STEPS: tuple[Step, ...] = (
    Step("00", "preflight: can idbridge reach both sides", "before_collection", gate=True),
    Step("01", "setup runbook: SAML", "before_collection", needs=("desired_state_file",)),
    Step("02", "setup runbook: provisioning", "before_collection", needs=("desired_state_file",)),
    Step("03", "setup runbook: AWS access", "before_collection", needs=("desired_state_file",)),
    Step("10", "validate the integration", "on_snapshot"),
    Step("20", "access review", "on_snapshot"),
    Step("21", "sign-in activity", "on_snapshot"),
    Step("22", "access review decisions", "on_snapshot"),
    Step("30", "changes since the previous run", "on_snapshot"),
)

# Where a needed input is found when the caller does not give it: beside the parameters file, by engagement.
# (A notebook's own default is for JupyterLab on the sandbox, never for a scheduled run of a real engagement.)
INPUT_FILES = {"desired_state_file": "desired-state.{engagement}.yaml"}


@dataclass
class Selected:
    step: Step
    source: Path

    @property
    def name(self) -> str:
        return self.source.stem


def notebooks_present(directory: Path = NOTEBOOKS_DIR) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for path in sorted(directory.glob("[0-9][0-9]_*.ipynb")):
        found.setdefault(path.name[:2], []).append(path)
    return found


def select(only: str | list[str] | None = None, directory: Path = NOTEBOOKS_DIR) -> tuple[list[Selected], list[str]]:
    """The registered notebooks to run, in order, and a line for each registered one not present (yet).
    `only`: numbers or names, comma-separated ("10,30" or "10_validate_integration")."""
    present = notebooks_present(directory)
    selected = [Selected(step, path) for step in STEPS for path in present.get(step.number, [])]
    skipped = [f"{step.number}_* ({step.what}): no such notebook yet" for step in STEPS if step.number not in present]
    unregistered = sorted(p.stem for number, paths in present.items() for p in paths
                          if number not in {s.number for s in STEPS})
    if unregistered:
        log.warning("not in the run registry (idbridge/kit/registry.py STEPS), not run: %s", ", ".join(unregistered))
    if only:
        wanted = [w.strip() for w in (only.split(",") if isinstance(only, str) else only) if w.strip()]
        chosen = []
        for item in wanted:
            hits = [s for s in selected if s.name == item or s.step.number == item or s.name.startswith(item)]
            if not hits:
                raise InputError("--only", f"no notebook {item!r}; the kit has: "
                                            + ", ".join(s.name for s in selected))
            chosen += [h for h in hits if h not in chosen]
        selected = [s for s in selected if s in chosen]
        skipped = []
    return selected, skipped
