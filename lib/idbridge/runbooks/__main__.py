"""Plan the setup runbooks without a notebook: what a scheduled check or a reviewer runs before apply.

    python -m idbridge.runbooks plan PARAMETERS DESIRED_STATE [RUN_DIR] [--step saml|provisioning|aws_access]

Always a dry run, whatever the file says: it reads, checks and prints each step's plan. Exit codes: 0 planned,
2 the desired state or parameters are wrong (nothing planned), 1 another error (e.g. Test Connection refused).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile

from idbridge.errors import IdbridgeError, InputError

STEPS = ("saml", "provisioning", "aws_access")


async def _plan_all(rb, steps: list[str]) -> None:
    """Every step in one event loop: the Graph adapter's HTTP client belongs to the loop it was made in."""
    from idbridge.runbooks import aws_access, provisioning, saml
    from idbridge.runbooks.results import notes

    planners = {"saml": saml.plan, "provisioning": provisioning.plan, "aws_access": aws_access.plan}
    for step in steps:
        planned = await planners[step](rb)
        print(f"== {step}\n{notes(planned)}")
        frame = planned.frame()
        if not frame.empty:
            print(frame[["action", "kind", "key", "summary"]].to_string(index=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m idbridge.runbooks", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["plan"])
    parser.add_argument("parameters")
    parser.add_argument("desired_state")
    parser.add_argument("run_dir", nargs="?")
    parser.add_argument("--step", choices=STEPS, action="append")
    args = parser.parse_args(argv)
    from idbridge.parameters import load_parameters
    from idbridge.runbooks.context import open_runbook

    try:
        params = load_parameters(args.parameters)
        rb = open_runbook(params, args.desired_state, args.run_dir or tempfile.mkdtemp(prefix="idbridge-plan-"))
        rb.desired = rb.desired.model_copy(update={"apply": False})  # planning only, whatever the file says
        asyncio.run(_plan_all(rb, args.step or [s for s in STEPS if getattr(rb.desired, s) is not None]))
    except InputError as exc:
        print(exc.render(), file=sys.stderr)
        return exc.exit_code
    except IdbridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
