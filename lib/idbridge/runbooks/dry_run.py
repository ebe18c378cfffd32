"""Plan the setup runbooks without a notebook: what a scheduled check or a reviewer runs before apply
(`idbridge plan`).

Always a dry run, whatever the desired state says: it reads, checks and returns each step's plan. A wrong desired
state or parameters file is an InputError (nothing is planned); a refusal on the way (e.g. Test Connection) is an
IdbridgeError.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

STEPS = ("saml", "provisioning", "aws_access")


async def _plan_all(rb, steps: list[str], on_step: Callable[[str], None]) -> list[str]:
    """Every step in one event loop: the Graph adapter's HTTP client belongs to the loop it was made in."""
    from idbridge.runbooks import aws_access, provisioning, saml
    from idbridge.runbooks.results import notes

    planners = {"saml": saml.plan, "provisioning": provisioning.plan, "aws_access": aws_access.plan}
    out = []
    for step in steps:
        planned = await planners[step](rb)
        text = f"== {step}\n{notes(planned)}"
        frame = planned.frame()
        if not frame.empty:
            text += "\n" + frame[["action", "kind", "key", "summary"]].to_string(index=False)
        on_step(text)
        out.append(text)
    return out


def plan_setup(params_file: str | Path, desired_state_file: str | Path, run_dir: str | Path | None = None,
               steps: Iterable[str] = (), on_step: Callable[[str], None] = lambda text: None) -> list[str]:
    """The plan of each step (all steps the desired state has, or `steps`) as text, one item per step, each also
    given to `on_step` as soon as it is planned."""
    from idbridge.core.parameters import load_parameters
    from idbridge.runbooks.context import open_runbook

    params = load_parameters(params_file)
    rb = open_runbook(params, str(desired_state_file), str(run_dir or tempfile.mkdtemp(prefix="idbridge-plan-")))
    rb.desired = rb.desired.model_copy(update={"apply": False})  # planning only, whatever the file says
    chosen = list(steps) or [s for s in STEPS if getattr(rb.desired, s) is not None]
    return asyncio.run(_plan_all(rb, chosen, on_step))
