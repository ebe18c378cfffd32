"""`idbridge run`: the kit's notebooks headless, in order, in one process, into one run folder.

    <run_root>/<engagement>/<UTC time>/
        parameters.yaml   the parameters file of the run (references only, never a secret value)
        snapshot/         the collection every report of the run reads (kept: history compares snapshots)
        notebooks/        the executed notebooks: the audit record
        reports/          each notebook as self-contained HTML, without code
        findings.json     every finding of the checks on the snapshot (also .csv, and -checks.csv per check)
        index.html        the run's summary, with links; run.json the same for machines; run.log the log

The exit code is what a scheduler acts on: 0 fine, 1 findings at or above `fail_on`, 2 bad parameters or input,
3 a source not collected (or a report that could not be produced): the log says which.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Literal

import nbformat

from idbridge.errors import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_NOT_COLLECTED, EXIT_OK, InputError
from idbridge.parameters import Parameters, load_parameters
from idbridge.paths import NOTEBOOKS_DIR
from idbridge.runner import KernelPool, NotebookRun, declared_parameters, execute, files_holding

log = logging.getLogger(__name__)

# Worst first: the exit code of a run is the most serious of its outcomes.
EXIT_PRECEDENCE = (EXIT_BAD_INPUT, EXIT_NOT_COLLECTED, EXIT_FINDINGS, EXIT_OK)
EXIT_WORDS = {EXIT_OK: "fine", EXIT_FINDINGS: "findings at or above fail_on",
              EXIT_BAD_INPUT: "bad parameters or input",
              EXIT_NOT_COLLECTED: "incomplete: a source not collected or a report failed"}


@dataclass(frozen=True)
class Step:
    """One notebook of the kit. `number` finds notebooks/<number>_*.ipynb whatever the rest of its name; `needs`
    names the notebook parameters it cannot run without (beyond the run's own: parameters file, run folder,
    snapshot), each found as INPUT_FILES says."""

    number: str
    what: str
    stage: Literal["before_collection", "on_snapshot"]
    needs: tuple[str, ...] = ()


# The one list of the kit's notebooks, in the order they run. Runbooks change the tenant, so they run before the
# collection; everything after reads the run's one snapshot.
STEPS: tuple[Step, ...] = (
    Step("00", "preflight: can idbridge reach both sides", "before_collection"),
    Step("01", "setup runbook: SAML", "before_collection", needs=("desired_state_file",)),
    Step("02", "setup runbook: provisioning", "before_collection", needs=("desired_state_file",)),
    Step("03", "setup runbook: AWS access", "before_collection", needs=("desired_state_file",)),
    Step("10", "validate the integration", "on_snapshot"),
    Step("20", "access review", "on_snapshot"),
    Step("21", "sign-in activity", "on_snapshot"),
    Step("22", "access review decisions", "on_snapshot"),
    Step("30", "changes since the previous run", "on_snapshot"),
)

LOOKAHEAD = 2  # kernels started ahead of the notebook running

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


@dataclass
class RunResult:
    run_dir: Path
    index: Path
    exit_code: int
    reasons: list[str]
    notebooks: list[NotebookRun]
    skipped: list[str]
    snapshot: Path | None
    related: list["RunResult"] = field(default_factory=list)


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
        log.warning("not in the run registry (idbridge/run.py STEPS), not run: %s", ", ".join(unregistered))
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


def find_inputs(selected: list[Selected], given: dict, params: Parameters, params_file: Path, *,
                explicit: bool) -> tuple[list[Selected], dict, list[str]]:
    """Resolve what each notebook needs: given by the caller, or found beside the parameters file. A notebook
    whose input is missing is skipped, saying why, unless it was asked for by name (then: bad input)."""
    inputs = dict(given)
    for name, pattern in INPUT_FILES.items():
        candidate = params_file.parent / pattern.format(engagement=params.engagement)
        if name not in inputs and candidate.exists():
            inputs[name] = str(candidate.resolve())
    kept, skipped = [], []
    for item in selected:
        missing = [n for n in item.step.needs if not inputs.get(n)]
        if not missing:
            kept.append(item)
            continue
        where = ", ".join(f"{n} (no {params_file.parent / INPUT_FILES[n].format(engagement=params.engagement)})"
                          if n in INPUT_FILES else n for n in missing)
        if explicit:
            raise InputError(params_file, f"notebook {item.name} needs {where}")
        skipped.append(f"{item.name}: needs {where}")
    return kept, inputs, skipped


# A reference under such a key holds a secret (a SCIM endpoint is referenced too, but is no secret to scrub).
_SECRET_KEY = re.compile(r"token|password|secret|credential|key", re.IGNORECASE)


def secret_values(params: Parameters, params_file: str, input_files: list[str] = ()) -> list[str]:
    """Resolve every env: reference of the parameters now: a missing variable is bad input (exit 2) before
    anything runs. Returns the values of the secret ones (by key name), which the run folder is scrubbed of,
    including those of the other input files (a desired state's SCIM token: resolved where it is used)."""
    from idbridge import secrets

    return secrets.values_to_scrub(params.model_dump(mode="json"), file=params_file, input_files=input_files)


def _references(value, key: str = "") -> list[tuple[str, str]]:
    """(key, reference) of every secret reference in a parsed document."""
    from idbridge.secrets import references_in

    return references_in(value, key)


def new_run_dir(params: Parameters, now: datetime | None = None) -> Path:
    now = now or datetime.now(timezone.utc)
    base = Path(params.run_root) / params.engagement / now.strftime("%Y%m%dT%H%M%SZ")
    candidate, n = base, 1
    while candidate.exists():  # two runs in the same second
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def notebook_title(path: Path) -> str:
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def run_kit(params_file: str | Path, *, only: str | list[str] | None = None, out: str | Path | None = None,
            inputs: dict | None = None, after_notebook: Callable[[str, NotebookRun], None] | None = None,
            notes: list[str] = (), links: list[tuple[str, str]] = (),
            notebooks_dir: Path = NOTEBOOKS_DIR, kernels: KernelPool | None = None) -> RunResult:
    """Run the selected notebooks of the kit into a new run folder; see the module docstring. `inputs`: notebook
    parameters a step needs (e.g. desired_state_file); `after_notebook`: called after each notebook (the
    sandbox demo does the consultant's console steps there); `notes` and `links` (href, text) go to the
    index; `kernels`: a KernelPool of the caller's, already warming kernels (else the run makes its own)."""
    params_file = Path(params_file).resolve()
    params = load_parameters(params_file)
    selected, skipped = select(only, notebooks_dir)
    selected, found, missing = find_inputs(selected, inputs or {}, params, params_file, explicit=bool(only))
    secrets = secret_values(params, str(params_file), [v for k, v in found.items() if k in INPUT_FILES])
    run_dir = Path(out).resolve() if out else new_run_dir(params).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    package_log = logging.getLogger("idbridge")
    level = package_log.level
    handler = _log_to(run_dir / "run.log")
    # Kernels run in the notebooks' folder, as in JupyterLab: a notebook's relative defaults mean the same
    # headless; everything the runner passes is absolute.
    own_kernels = kernels is None
    kernels = kernels or KernelPool(cwd=notebooks_dir)
    try:
        result = _run(params, params_file, secrets, selected, [*skipped, *missing, *notes], run_dir, found,
                      after_notebook, kernels, links)
        return result
    finally:
        if own_kernels:
            kernels.close()
        package_log.removeHandler(handler)
        package_log.setLevel(level)
        handler.close()


def _run(params: Parameters, params_file: Path, secrets: list[str], selected: list[Selected], skipped: list[str],
         run_dir: Path, inputs: dict, after_notebook, kernels: KernelPool, links) -> RunResult:
    from idbridge import history

    started = datetime.now(timezone.utc)
    log.info("run %s of engagement %s: %s", run_dir, params.engagement, ", ".join(s.name for s in selected))
    for line in skipped:
        log.warning("skipped %s", line)
    kept_params = run_dir / "parameters.yaml"
    if params_file != kept_params:
        shutil.copyfile(params_file, kept_params)
    codes: list[int] = []
    reasons: list[str] = []
    runs: list[NotebookRun] = []
    base = {**inputs, "params_file": str(kept_params), "run_dir": str(run_dir)}
    before = [s for s in selected if s.step.stage == "before_collection"]
    on_snapshot = [s for s in selected if s.step.stage == "on_snapshot"]
    queue = before + on_snapshot
    runbooks = {s.name for s in selected if s.step.needs}
    # Two kernels warm ahead: a short notebook would otherwise wait for the next one's imports, with the
    # second core idle.
    for item in queue[:LOOKAHEAD]:
        kernels.prepare(item.source)

    def run_step(item: Selected, given: dict) -> None:
        if item.step.needs and any(not r.ok and r.name in runbooks for r in runs):
            # Each runbook builds on the one before: after a failed one, the next would only fail (or worse).
            skipped.append(f"{item.name}: not run, a runbook before it failed")
            log.warning("skipped %s: a runbook before it failed", item.name)
            return
        wanted = given
        declared = declared_parameters(item.source)
        parameters = {k: v for k, v in wanted.items() if k in declared}
        log.info("notebook %s ...", item.name)
        kernel = kernels.take(kernels.prepare(item.source))
        position = queue.index(item)
        if position + LOOKAHEAD < len(queue):
            kernels.prepare(queue[position + LOOKAHEAD].source)
        try:
            result = execute(item.name, parameters, run_dir, item.source.parent, source=item.source,
                             secrets=secrets, title=notebook_title(item.source), kernel=kernel)
        finally:
            kernels.release(kernel)
        runs.append(result)
        if after_notebook is not None:
            after_notebook(item.name, result)
        if result.ok:
            log.info("notebook %s done in %.1f s", item.name, result.seconds)
        else:
            code = EXIT_BAD_INPUT if result.error_name == "InputError" else EXIT_NOT_COLLECTED
            codes.append(code)
            reasons.append(f"notebook {item.name} failed: {result.error}")

    for item in before:
        run_step(item, base)

    snapshot_dir = None
    if on_snapshot:
        snapshot_dir, code, why = _collect_and_check(params, params_file, run_dir)
        codes.append(code)
        reasons += why
    if on_snapshot and snapshot_dir is None:
        # Without a snapshot each notebook would try to collect on its own: say so once instead.
        skipped += [f"{item.name}: not run, nothing could be collected" for item in on_snapshot]
    elif on_snapshot:
        # Computed here, where run_root means what the user meant (kernels run in the notebooks' folder).
        history_dir = history.engagement_dir(params, run_dir)
        previous = history.previous_snapshot(run_dir, history_dir)
        log.info("previous run of %s: %s", params.engagement, previous.parent if previous else "none")
        given = {**base, "snapshot_dir": str(snapshot_dir), "previous_snapshot_dir": str(previous or ""),
                 "history_dir": str(history_dir)}
        for item in on_snapshot:
            run_step(item, given)

    exit_code = next(c for c in EXIT_PRECEDENCE if c in codes + [EXIT_OK])
    record = {"engagement": params.engagement, "run_dir": str(run_dir), "sandbox": params.sandbox,
              "started": started.isoformat(timespec="seconds"),
              "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "exit_code": exit_code, "exit_meaning": EXIT_WORDS[exit_code], "reasons": reasons,
              "fail_on": params.fail_on, "skipped": skipped, "links": [list(link) for link in links],
              "notebooks": [{"name": r.name, "title": r.title, "ok": r.ok, "error": r.error, "seconds": r.seconds,
                             "notebook": _rel(r.output, run_dir), "report": _rel(r.html, run_dir)} for r in runs]}
    (run_dir / "run.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    from idbridge.report.html import write_index

    index = write_index(run_dir, record)
    _sweep(run_dir, secrets)
    level = logging.INFO if exit_code == EXIT_OK else logging.WARNING
    log.log(level, "exit %d (%s)%s", exit_code, EXIT_WORDS[exit_code], "".join(f"\n  - {r}" for r in reasons))
    return RunResult(run_dir, index, exit_code, reasons, runs, skipped, snapshot_dir)


def _collect_and_check(params: Parameters, params_file: Path, run_dir: Path) -> tuple[Path | None, int, list[str]]:
    """Collect the run's snapshot, evaluate every check on it, write the findings; the exit code they imply."""
    from idbridge.collect.run import collect, describe_error
    from idbridge.snapshot import Snapshot
    from idbridge.checks.base import SEVERITY_ORDER
    from idbridge.validate import ACCESS_AREAS, VALIDATION_AREAS, evaluate, write_findings

    target = run_dir / "snapshot"
    log.info("collecting into %s ...", target)
    try:
        if not (target / "manifest.json").exists():
            collect(params, target, params_file=str(params_file))
    except Exception as exc:  # nothing at all could be collected: the reports cannot run either
        log.error("collection failed: %s", describe_error(exc))
        return None, EXIT_NOT_COLLECTED, [f"collection failed: {describe_error(exc)}"]
    snapshot = Snapshot(target)
    reasons = [f"source {name} {record['status'].replace('_', ' ')}: {record['error']}"
               for name, record in snapshot.sources.items() if record["status"] != "complete"]
    for reason in reasons:
        log.warning(reason)
    try:
        results = evaluate(snapshot, params, VALIDATION_AREAS + ACCESS_AREAS)
    except Exception as exc:  # a broken check module must not lose the run: the reports still render
        log.exception("the checks could not be evaluated")
        return target, EXIT_NOT_COLLECTED, reasons + [f"the checks could not be evaluated: {type(exc).__name__}: {exc}"]
    paths = write_findings(results, run_dir)
    # Exit 3 is about the data: a source not (completely) collected, or a check that crashed. A check that
    # did not run because the parameters do not ask for it (e.g. no incompatible pairs declared) is said in the
    # report, not an incomplete run.
    broken = [o for o in results.outcomes if o.status == "error"]
    reasons += [f"check {o.check_id} could not be evaluated: {o.reason}" for o in broken]
    for outcome in results.outcomes:
        if outcome.status == "not_checked":
            log.info("not checked: %s (%s)", outcome.check_id, outcome.reason)
    failing = [f for f in results.findings if params.fail_on != "never"
               and SEVERITY_ORDER[f.severity] >= SEVERITY_ORDER[params.fail_on]]
    code = EXIT_NOT_COLLECTED if reasons else EXIT_FINDINGS if failing else EXIT_OK
    if failing:
        reasons.append(f"{len(failing)} finding(s) at or above fail_on={params.fail_on}: "
                       + ", ".join(sorted({f.check_id for f in failing})))
    log.info("%d findings: %s", len(results.findings), paths["json"])
    return target, code, reasons


def _rel(path: Path | None, root: Path) -> str | None:
    return str(path.relative_to(root)) if path else None


def _log_to(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger("idbridge")
    root.addHandler(handler)
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    return handler


def _sweep(run_dir: Path, secrets: list[str]) -> None:
    """Last check: no file of the run folder may hold a secret value. Text files are redacted, and any hit is
    an error in the log (some code wrote a secret)."""
    from idbridge.runner import scrub_file

    for path in files_holding(run_dir, secrets):
        redacted = scrub_file(path, secrets)
        log.error("%s held a secret value%s", path, ": redacted" if redacted
                  else ", NOT redacted (binary, or a value too short to redact safely): delete it")
