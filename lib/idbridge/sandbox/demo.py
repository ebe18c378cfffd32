"""The README's main command: the whole kit on the sandbox, end to end, as `idbridge run` does it.

Two organisations, because setting up and reviewing need different starting points:
1. setup (into <run>/setup/): the `empty` scenario (Litware Labs, no bridge yet); the setup runbooks apply the
   demo desired state, with the consultant's console steps done to the sandbox between them, then validation
   shows the bridge they built;
2. review (the run folder itself): the `demo` scenario (Northwind Analytics, a working bridge with planted
   faults); preflight, collection, validation, access review, sign-in activity, review decisions, changes since
   an earlier run: before the review run, the demo collects the same organisation set back a little
   (sandbox/demo_changes.py: an admin not yet in AWS-Prod-Admins, an assignment not yet removed) into
   <run>/previous-run/snapshot, and 30 compares with it.
Notebooks of the kit that are not present (yet) are skipped, saying so.

Review decisions: nobody reviews the demo's packs, so after 20_access_review the demo fills one of them itself —
DEMO decisions, each row's recommendation taken as its decision where it says Keep or Remove, every such row's
Comment saying so (22's plan quotes it next to each change) — into <run>/review-returned/, which the demo's
parameters name as review.returned_dir: 22 then reads a returned pack through `idbridge run`'s own path.
"""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import yaml

from idbridge.core.parameters import Parameters
from idbridge.core.paths import NOTEBOOKS_DIR
from idbridge.errors import IdbridgeError
from idbridge.kit.execute import KernelPool
from idbridge.kit.registry import select
from idbridge.kit.run import RunResult, new_run_dir, run_kit
from idbridge.sandbox.server import Sandbox

log = logging.getLogger(__name__)
SETUP_SCENARIO = "empty"


def write_demo_parameters(box: Sandbox, run_dir: Path, **overrides) -> Path:
    """The sandbox's parameters file, written into the run folder (it holds no secret). `overrides` replace
    top-level keys, or update sections (a dict for `graph` updates the graph section)."""
    document = box.parameters()
    for key, value in overrides.items():
        document[key] = {**document.get(key, {}), **value} if isinstance(value, dict) else value
    path = run_dir / "parameters.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# Written by `idbridge demo` for the sandbox scenario {box.scenario_file}; holds no secret.\n"
                    + yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@contextmanager
def _progress_on_terminal():
    """`make demo` takes a minute or two: show the run's log lines on a terminal (the CLI configures none)."""
    package_log = logging.getLogger("idbridge")
    if not sys.stderr.isatty() or package_log.handlers or logging.getLogger().handlers:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    package_log.addHandler(handler)
    try:
        yield
    finally:
        package_log.removeHandler(handler)


def setup_run(out: Path, parameters: dict, kernels: KernelPool | None = None) -> RunResult | None:
    """Part 1: the setup runbooks (apply) on a tenant with no bridge, then validation of what they built."""
    present = [s.name for s in select()[0] if s.step.needs]
    if not present:
        log.warning("setup runbooks not present yet: the demo skips the setup part")
        return None
    from idbridge.sandbox import console
    from idbridge.sandbox import setup_run as sandbox_setup
    from idbridge.sandbox import derived

    console.load_aws_managed_policies()  # before moto's IAM is first used in this process
    out.mkdir(parents=True, exist_ok=True)
    with Sandbox.from_file(SETUP_SCENARIO) as box:
        params_file = write_demo_parameters(box, out, **parameters)
        desired = sandbox_setup.write_desired_state(box, out, apply=True)

        def console_steps(name: str, result) -> None:
            # What the consultant does in the AWS console after the SAML runbook: switch the identity source to
            # Entra (uploading its federation metadata) and enable automatic provisioning (SCIM token).
            if name.startswith("01_") and result.ok:
                console.change_identity_source(box, out / "entra-federation-metadata.xml")
                console.enable_automatic_provisioning(box)
                sandbox_setup.record_token_date(params_file, datetime.now(timezone.utc))

        # The SCIM endpoint and token reach the kernels as the desired state's env: references name them.
        with sandbox_setup.scim_environment(derived.scim_endpoint(box.scenario), derived.scim_token(box.scenario)):
            return run_kit(params_file, out=out, only=present + ["10"], inputs={"desired_state_file": str(desired)},
                           after_notebook=console_steps, kernels=kernels)


RETURNED = "review-returned"
DEMO_COMMENT = "DEMO decision: filled in by `idbridge demo` from the Recommendation column, not by a reviewer"


def fill_demo_decisions(pack: Path, folder: Path) -> Path:
    """A copy of `pack` in `folder` with DEMO decisions: each row's Recommendation taken as its Decision where it
    says Keep or Remove (Review rows stay blank: not reviewed), and the Comment saying so on every decided row."""
    from openpyxl import load_workbook

    from idbridge.review import layout

    book = load_workbook(pack)
    sheet = book[layout.ACCESS]
    for row in range(2, sheet.max_row + 1):
        advice = str(sheet.cell(row=row, column=layout.RECOMMENDATION_COL).value or "")
        verb = advice.split(":", 1)[0]
        if verb in layout.DECISIONS:
            sheet.cell(row=row, column=layout.DECISION_COL, value=verb)
            sheet.cell(row=row, column=layout.COMMENT_COL, value=DEMO_COMMENT)
    folder.mkdir(parents=True, exist_ok=True)
    book.save(folder / pack.name)
    return folder / pack.name


def _removals_advised(pack: Path) -> int:
    from openpyxl import load_workbook

    from idbridge.review import layout

    book = load_workbook(pack, read_only=True)
    try:
        column = layout.RECOMMENDATION_COL - 1
        return sum(1 for row in book[layout.ACCESS].iter_rows(min_row=2, values_only=True)
                   if str(row[column] or "").startswith("Remove:"))
    finally:
        book.close()


def _demo_reviewer(out: Path):
    """after_notebook: once 20_access_review wrote the packs, return the one with the most Remove
    recommendations (so that 22 has removals to plan) with DEMO decisions."""
    def after(name: str, result) -> None:
        if name.startswith("20_") and result.ok:
            packs = sorted((out / "review").glob("review-*.xlsx"), key=lambda p: (-_removals_advised(p), p.name))
            if packs:
                fill_demo_decisions(packs[0], out / RETURNED)
    return after


def review_run(scenario: str, out: Path, parameters: dict, only: str | None = None,
               setup: RunResult | None = None, kernels: KernelPool | None = None) -> RunResult:
    """Part 2: every notebook that reads a snapshot (and preflight) on an organisation with planted faults."""
    selected, absent = select()
    for line in absent:
        log.warning("skipped %s", line)
    names = only or [s.name for s in selected if not s.step.needs]
    notes = list(absent)
    links = []
    if setup is not None:
        notes.append("the setup runbooks: they ran in the setup part of the demo, on a tenant with no bridge yet")
        links.append(("setup/index.html", f"Setup part of the demo (scenario {SETUP_SCENARIO}): runbooks applied, "
                                          f"then validated — exit {setup.exit_code}"))
    reviewer = None
    reads_decisions = any(n.startswith("22") for n in names) and any(n.startswith("20") for n in names)
    if reads_decisions and not only:
        review = {**parameters.get("review", {}), "returned_dir": str(out / RETURNED)}
        parameters = {**parameters, "review": review}
        reviewer = _demo_reviewer(out)  # its decisions say DEMO in their Comment, which 22's plan quotes
    with Sandbox.from_file(scenario) as box:
        params_file = write_demo_parameters(box, out, **parameters)
        inputs = {}
        if not only and any(n.startswith("30") for n in names):
            # An earlier run of the same organisation, a little different, so that 30 shows what it is for.
            from idbridge.sandbox.demo_changes import earlier_run

            previous = earlier_run(box, params_file, out)
            if previous is not None:
                inputs["previous_snapshot_dir"] = str(previous)
        return run_kit(params_file, out=out, only=names, notes=notes, links=links, kernels=kernels,
                       after_notebook=reviewer, inputs=inputs)


def demo_run(scenario: str = "demo", out: str | Path | None = None, *, only: str | None = None,
             setup: bool = True, parameters: dict | None = None) -> RunResult:
    """The whole demo; returns the review run (its index links to the setup run's). `parameters`: changes to
    the sandbox's parameters (e.g. run_root, engagement, fail_on), for both parts."""
    parameters = parameters or {}
    with _progress_on_terminal():
        if out is None:
            probe = Parameters.model_validate({"engagement": f"sandbox-{Path(scenario).stem}",
                                               "graph": {"tenant_id": "00000000-0000-0000-0000-000000000000"},
                                               **{k: v for k, v in parameters.items() if k != "graph"}})
            out = new_run_dir(probe)
        out = Path(out).resolve()
        setup_parameters = {k: v for k, v in parameters.items() if k != "engagement"}
        # The first kernel of each part starts warming now, while the sandboxes start: a kernel and the kit's
        # imports take ~6 s that would otherwise be waited for twice.
        kernels = KernelPool(cwd=NOTEBOOKS_DIR)
        try:
            firsts = [s for s in select()[0] if not s.step.needs][:1]
            if setup and not only:
                firsts = [s for s in select()[0] if s.step.needs][:1] + firsts
            for item in firsts:
                kernels.prepare(item.source)
            setup_result = setup_run(out / "setup", setup_parameters, kernels) if setup and not only else None
            result = review_run(scenario, out, parameters, only, setup_result, kernels)
        finally:
            kernels.close()
        result.related = [setup_result] if setup_result else []
        return result


def run_demo(scenario: str = "demo", out: str | Path | None = None) -> Path:
    """The demo; returns the review run's index.html. A notebook that fails fails the demo (the findings of the
    scenario's planted faults do not: finding them is the point)."""
    result = demo_run(scenario, out)
    failed = [r for run in [result, *result.related] for r in run.notebooks if not r.ok]
    if failed:
        raise IdbridgeError("notebook(s) failed: " + "; ".join(f"{r.name}: {r.error}" for r in failed)
                            + f" (output notebooks kept in {result.run_dir})")
    return result.index
