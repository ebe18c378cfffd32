"""One plan/apply path for every write to Entra or AWS.

A runbook step reads the current state, compares it with the desired state and returns Changes; nothing is
written unless the parameters say `apply: true`; deletions need `allow_removals: true` as well. Because a plan is
always computed from what is there now, re-running after an apply plans nothing, and an interrupted apply is
finished by running again. Every applied change is appended to the run folder's change log (JSON lines).
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from idbridge.core.secrets import Secret, redact  # noqa: F401  (Secret: re-exported for the runbooks)

log = logging.getLogger(__name__)
Action = Literal["create", "update", "delete"]


@dataclass(frozen=True)
class Change:
    action: Action
    kind: str                      # what is written, e.g. "aws.account_assignment", "entra.app_role_assignment"
    key: str                       # stable identity of the object, e.g. "AWS-Admins -> 111122223333 / Admin"
    summary: str                   # one line a consultant reads in the plan
    before: dict | None = None
    after: dict | None = None
    payload: dict = field(default_factory=dict, compare=False)  # ids the applier needs; never shown


@dataclass
class Plan:
    step: str
    changes: list[Change] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def frame(self) -> pd.DataFrame:
        rows = [{"step": self.step, "action": c.action, "kind": c.kind, "key": c.key, "summary": c.summary,
                 "before": json.dumps(redact(c.before), default=str) if c.before is not None else "",
                 "after": json.dumps(redact(c.after), default=str) if c.after is not None else ""}
                for c in self.changes]
        return pd.DataFrame(rows, columns=["step", "action", "kind", "key", "summary", "before", "after"])


@dataclass
class Outcome:
    change: Change
    # done: the change was found already made (nothing written; counted as done); refused: the state changed
    # since the plan in a way the plan did not foresee, so this change is not made (the others go on)
    status: Literal["planned", "applied", "failed", "blocked", "done", "refused"]
    detail: str = ""


class AlreadyDone(Exception):
    """Raised by a check or an applier that finds its change already made (e.g. someone removed the member
    already): the change counts as done, nothing is written. The message says what was found."""


class Refused(Exception):
    """Raised by a check or an applier when the state changed since the plan was made in a way the plan did not
    account for: this change is not made, the step goes on with the next. The message says what changed."""


Applier = Callable[[Change], dict | None]


def apply_plan(plan: Plan, appliers: dict[str, Applier], *, apply: bool, allow_removals: bool,
               change_log: str | Path | None) -> list[Outcome]:
    """Apply each change in order (when asked), logging every write. A failure stops the step: later changes
    may depend on it; running again re-plans from what was written.

    The loop is apply_plan_async's, stepped here without an event loop: with plain appliers nothing in it is
    ever awaited, so it runs to its end in one step."""
    steps = apply_plan_async(plan, appliers, apply=apply, allow_removals=allow_removals, change_log=change_log)
    try:
        steps.send(None)
    except StopIteration as done:
        return done.value
    steps.close()
    raise TypeError(f"step {plan.step!r}: an applier waited on I/O; use apply_plan_async for coroutine appliers")


def _held_back(change: Change, apply: bool, allow_removals: bool) -> Outcome | None:
    """The rules every apply follows: dry run unless asked, removals only when allowed."""
    if not apply:
        return Outcome(change, "planned", "dry run: set apply: true to write")
    if change.action == "delete" and not allow_removals:
        return Outcome(change, "blocked", "a removal: set allow_removals: true to let it happen")
    return None


def _failed(plan: Plan, change: Change, exc: Exception, change_log: str | Path | None) -> Outcome:
    _log(change_log, plan.step, change, "failed", {"error": str(exc)})
    log.error("%s %s %s failed: %s", change.action, change.kind, change.key, exc)
    return Outcome(change, "failed", f"{type(exc).__name__}: {exc}")


def _applied(plan: Plan, change: Change, result: dict, change_log: str | Path | None) -> Outcome:
    _log(change_log, plan.step, change, "applied", result)
    return Outcome(change, "applied")


def _log(change_log: str | Path | None, step: str, change: Change, status: str, result: dict) -> None:
    if change_log is None:
        return
    path = Path(change_log)
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "step": step, "status": status,
             **{k: v for k, v in asdict(change).items() if k != "payload"}, "result": result}
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(redact(entry), default=str) + "\n")


def outcomes_frame(outcomes: list[Outcome]) -> pd.DataFrame:
    return pd.DataFrame([{"action": o.change.action, "kind": o.change.kind, "key": o.change.key,
                          "summary": o.change.summary, "status": o.status, "detail": o.detail} for o in outcomes],
                        columns=["action", "kind", "key", "summary", "status", "detail"])


async def _call(function: Callable[[Change], Any], change: Change) -> Any:
    result = function(change)
    return await result if inspect.isawaitable(result) else result


def _settled(plan: Plan, change: Change, exc: AlreadyDone | Refused, apply: bool,
             change_log: str | Path | None) -> Outcome:
    """A change found already made, or refused: logged when applying (next to the writes), shown either way."""
    status = "done" if isinstance(exc, AlreadyDone) else "refused"
    if apply:
        _log(change_log, plan.step, change, "already done" if status == "done" else "refused", {"why": str(exc)})
    return Outcome(change, status, str(exc))


async def apply_plan_async(plan: Plan, appliers: dict[str, Callable[[Change], Any]], *, apply: bool,
                           allow_removals: bool, change_log: str | Path | None,
                           checks: dict[str, Callable[[Change], Any]] | None = None) -> list[Outcome]:
    """apply_plan for appliers that are coroutines (Graph writes through msgraph-sdk's async adapter); plain
    appliers work too. Same rules: dry run by default, removals gated, a failure stops the step, every write
    logged. The one apply loop: apply_plan runs it too.

    checks (by kind, optional): a read of the current state made before each change, in a dry run too, for a
    plan made from an older snapshot (review removals): raising AlreadyDone or Refused settles the change
    without a write, and the loop goes on; an applier may raise them as well (the state changed between the
    check and the write)."""
    outcomes: list[Outcome] = []
    checks = checks or {}
    for change in plan.changes:
        try:
            if change.kind in checks:
                await _call(checks[change.kind], change)
        except (AlreadyDone, Refused) as exc:
            outcomes.append(_settled(plan, change, exc, apply, change_log))
            continue
        except Exception as exc:
            if not apply:  # a dry run reports what it could not read, and writes nothing
                outcomes.append(Outcome(change, "failed", f"could not read the current state: "
                                                          f"{type(exc).__name__}: {exc}"))
                continue
            outcomes.append(_failed(plan, change, exc, change_log))
            break
        held = _held_back(change, apply, allow_removals)
        if held:
            outcomes.append(held)
            continue
        try:
            result = await _call(appliers[change.kind], change)
        except (AlreadyDone, Refused) as exc:
            outcomes.append(_settled(plan, change, exc, apply, change_log))
            continue
        except Exception as exc:
            outcomes.append(_failed(plan, change, exc, change_log))
            break
        outcomes.append(_applied(plan, change, result or {}, change_log))
    return outcomes


def log_change(change_log: str | Path | None, step: str, change: Change, status: str, result: dict) -> None:
    """Append one entry to the change log outside apply_plan: for a write whose outcome is only known later
    (an asynchronous AWS request that ends FAILED after it was accepted)."""
    _log(change_log, step, change, status, result)
