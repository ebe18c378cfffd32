"""`idbridge run`: the kit's notebooks headless, in order, in one process, into one run folder.

    <run_root>/<engagement>/<UTC time>/
        parameters.yaml   the parameters file of the run (references only, never a secret value)
        snapshot/         the collection every report of the run reads (kept: history compares snapshots)
        notebooks/        the executed notebooks: the audit record
        reports/          each notebook as self-contained HTML, without code
        findings.json     the one evaluation of every check: verdict, outcomes, findings (findings.csv, checks.csv)
        access.parquet    the access table of the snapshot, built once for the notebooks that show it
        index.html        the run's summary, with links; run.json the same for machines; run.log the log

The run folder is created exclusively (two runs started in the same second get <time> and <time>-2), and one
collection per engagement runs at a time (core.locks: a second run waits for the first, up to LOCK_WAIT_SECONDS,
then is not collected: exit 3, naming the run holding the lock). A run folder given with --out that already holds a
finished snapshot is reported on from it, not collected again, and the CLI says so in one line; --recollect moves
it aside (snapshot.replaced-<its time>) and collects anew.

The exit code is what a scheduler acts on: 0 fine, 1 findings at or above `fail_on`, 2 bad parameters or input,
3 incomplete — preflight or collection failed, a source not completely collected, a check not run, a report that
could not be produced: the log, run.json and index.html say which (checks.evaluate.decide is the policy).
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import nbformat

from idbridge.core.files import copy_atomic, make_exclusive_dir, storage_error, write_text_atomic
from idbridge.core.parameters import Parameters, load_parameters
from idbridge.core.paths import NOTEBOOKS_DIR
from idbridge.errors import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_NOT_COLLECTED, EXIT_OK, InputError
from idbridge.core.secrets import files_holding, scrub_file
from idbridge.kit.execute import KernelPool, NotebookRun, declared_parameters, execute
from idbridge.kit.registry import INPUT_FILES, Selected, select

log = logging.getLogger(__name__)

LOOKAHEAD = 2  # kernels started ahead of the notebook running

# Worst first: the exit code of a run is the most serious of its outcomes.
EXIT_PRECEDENCE = (EXIT_BAD_INPUT, EXIT_NOT_COLLECTED, EXIT_FINDINGS, EXIT_OK)
EXIT_WORDS = {EXIT_OK: "nothing at or above fail_on, nothing left unchecked", EXIT_FINDINGS: "findings at or above fail_on",
              EXIT_BAD_INPUT: "bad parameters or input",
              EXIT_NOT_COLLECTED: "incomplete: something could not be checked (see why)"}


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
    # How the run came by its snapshot: None (not collected), "collected", "reused" (the run folder held a finished
    # one, --out), "recollected" (it held one, moved aside by --recollect); the CLI says so in one line.
    snapshot_origin: str | None = None
    snapshot_note: str = ""


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


def secret_values(params: Parameters, params_file: str, input_files: list[str] = ()) -> list[str]:
    """Resolve every env: reference of the parameters now: a missing variable is bad input (exit 2) before
    anything runs. Returns the values of the secret ones (by key name), which the run folder is scrubbed of,
    including those of the other input files (a desired state's SCIM token: resolved where it is used)."""
    from idbridge.core import secrets

    return secrets.values_to_scrub(params.model_dump(mode="json"), file=params_file, input_files=input_files)


# What a run folder holds of its own: an exceptions file kept there (keep_exceptions) may not take their place.
RUN_FOLDER_NAMES = {"parameters.yaml", "snapshot", "notebooks", "reports", "findings.json", "findings.csv",
                    "checks.csv", "access.parquet", "index.html", "run.json", "run.log"}


def accepted_exceptions(params: Parameters, params_file: Path) -> list:
    """The engagement's accepted exceptions, validated (InputError naming file, line and key)."""
    from idbridge.checks.accepted import exceptions_for

    given = params.exceptions
    if given is not None and not Path(given).expanduser().is_absolute() and (
            Path(given).parts[0] in RUN_FOLDER_NAMES or Path(given).parts[0].startswith("snapshot")):
        raise InputError(params_file, f"exceptions: {given!r} names a file the run folder holds of its own (it "
                                      "keeps a copy of the exceptions file at the same relative place): rename it, "
                                      "e.g. exceptions.yaml")
    return exceptions_for(params)


def keep_exceptions(params: Parameters, run_dir: Path) -> Path | None:
    """A copy of the exceptions file in the run folder, where the kept parameters.yaml's relative `exceptions`
    path finds it: the notebooks read the kept parameters (and it records what was accepted in this run)."""
    if params.exceptions is None or Path(params.exceptions).expanduser().is_absolute():
        return None
    target = run_dir / params.exceptions
    target.parent.mkdir(parents=True, exist_ok=True)
    copy_atomic(params.exceptions_path(), target)
    return target


def new_run_dir(params: Parameters, now: datetime | None = None) -> Path:
    """Create the run's folder, <run_root>/<engagement>/<UTC time>, and return it; two runs started in the same
    second get <time> and <time>-2 (created exclusively: never one folder for both)."""
    now = now or datetime.now(timezone.utc)
    return make_exclusive_dir(Path(params.run_root) / params.engagement / now.strftime("%Y%m%dT%H%M%SZ"))


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
            notebooks_dir: Path = NOTEBOOKS_DIR, kernels: KernelPool | None = None,
            recollect: bool = False) -> RunResult:
    """Run the selected notebooks of the kit into a new run folder; see the module docstring. `inputs`: notebook
    parameters a step needs (e.g. desired_state_file); `after_notebook`: called after each notebook (the
    sandbox demo does the consultant's console steps there); `notes` and `links` (href, text) go to the
    index; `kernels`: a KernelPool of the caller's, already warming kernels (else the run makes its own).
    A run folder (`out`) that already holds a finished snapshot is reported on from that snapshot, not collected
    again (re-rendering the reports of a run); `recollect` moves it aside (snapshot.replaced-<its time>) and
    collects anew."""
    params_file = Path(params_file).resolve()
    params = load_parameters(params_file)
    accepted_exceptions(params, params_file)  # a bad exceptions file is bad input (exit 2) before anything runs
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
        return KitRun(params, params_file, secrets, selected, [*skipped, *missing, *notes], run_dir, found,
                      after_notebook, kernels, links, recollect=recollect).execute()
    finally:
        if own_kernels:
            kernels.close()
        package_log.removeHandler(handler)
        package_log.setLevel(level)
        handler.close()


class KitRun:
    """One run of the kit, step by step: the notebooks before the collection (preflight, runbooks), the
    collection and the one evaluation of every check, then the notebooks that read them. Each step records its
    own outcome (`failures`, `skipped`); `finish` turns them into the run's verdict, run.json and index.html."""

    def __init__(self, params: Parameters, params_file: Path, secrets: list[str], selected: list[Selected],
                 skipped: list[str], run_dir: Path, inputs: dict, after_notebook, kernels: KernelPool, links, *,
                 recollect: bool = False):
        self.params, self.secrets, self.run_dir = params, secrets, run_dir
        self.recollect = recollect
        self.snapshot_origin: str | None = None
        self.snapshot_note = ""
        self.selected, self.skipped, self.inputs = selected, skipped, inputs
        self.after_notebook, self.kernels, self.links = after_notebook, kernels, links
        self.started = datetime.now(timezone.utc)
        self.cwd = Path.cwd()  # relative paths of the parameters (run_root, review.returned_dir) mean this
        self.runs: list[NotebookRun] = []
        self.failures: list[tuple[int, str]] = []   # (exit code, why) of each step that failed
        self.snapshot_dir: Path | None = None
        self.evaluation = None                      # checks.evaluate.Evaluation, once evaluated
        self.kept_params = run_dir / "parameters.yaml"
        if params_file != self.kept_params:
            copy_atomic(params_file, self.kept_params)
            keep_exceptions(params, run_dir)
        self.queue = [s for s in selected if s.step.stage == "before_collection"] + \
                     [s for s in selected if s.step.stage == "on_snapshot"]
        self.runbooks = {s.name for s in selected if s.step.needs}

    # ------------------------------------------------------------------------------------------------- steps
    def execute(self) -> RunResult:
        log.info("run %s of engagement %s: %s", self.run_dir, self.params.engagement,
                 ", ".join(s.name for s in self.selected))
        for line in self.skipped:
            log.warning("skipped %s", line)
        # Two kernels warm ahead: a short notebook would otherwise wait for the next one's imports, with the
        # second core idle.
        for item in self.queue[:LOOKAHEAD]:
            self.kernels.prepare(item.source)
        base = {**self.inputs, "params_file": str(self.kept_params), "run_dir": str(self.run_dir)}
        before = [s for s in self.queue if s.step.stage == "before_collection"]
        after = [s for s in self.queue if s.step.stage == "on_snapshot"]
        for position, item in enumerate(before):
            result = self.notebook(item, base)
            if result is not None and not result.ok and item.step.gate:
                # Preflight failed: a collection would fail the same way, slower, and every report would be
                # empty. Stop here and say which probe failed.
                self.stop(before[position + 1:] + after, f"{item.name} failed: {result.error}")
                return self.finish()
        if after:
            given = self.collect_and_evaluate(base)
            if given is None:
                self.skipped += [f"{item.name}: not run, nothing could be collected" for item in after]
            else:
                for item in after:
                    inputs = self.returned_reviews(item, given)
                    if inputs is not None:
                        self.notebook(item, inputs)
        return self.finish()

    def returned_reviews(self, item: Selected, given: dict) -> dict | None:
        """The parameters of a notebook that reads returned reviewer packs (it declares decisions_dir), when
        review.returned_dir names a folder of them: the folder, and as snapshot_dir the snapshot the packs were
        written from (review/returned.py). Checked now, when the notebook is due (the packs may come from this
        very run); a folder that cannot be used is bad input (exit 2) and the notebook is not run."""
        folder = self.params.review.returned_dir
        if not folder or "decisions_dir" not in declared_parameters(item.source):
            return given
        from idbridge.history import runs as history
        from idbridge.review.returned import check_folder, find_snapshot
        from idbridge.review.signing import from_parameters

        path = Path(folder).expanduser()
        path = path if path.is_absolute() else (self.cwd / path)
        try:
            key = from_parameters(self.params, str(self.kept_params))
            returned = check_folder(path, self.params.engagement, key=key,
                                    allow_unsigned=self.params.review.allow_unsigned)
            history_dir = history.engagement_dir(self.params, self.run_dir)
            candidates = [self.run_dir / "snapshot"] + [run / "snapshot" for run in history.run_folders(history_dir)]
            snapshot = find_snapshot(returned, candidates)
        except InputError as exc:
            why = f"{item.name} not run: review.returned_dir cannot be used: {exc}"
            log.error("%s", why)
            self.failures.append((EXIT_BAD_INPUT, why))
            self.skipped.append(f"{item.name}: not run, review.returned_dir cannot be used (see the reasons)")
            return None
        log.info("%s reads %d returned pack(s) from %s, written from the snapshot %s", item.name,
                 len(returned.files), path, snapshot)
        return {**given, "decisions_dir": str(path.resolve()), "snapshot_dir": str(snapshot.resolve())}

    def stop(self, rest: list[Selected], why: str) -> None:
        from idbridge.checks.evaluate import failed_evaluation

        self.skipped += [f"{item.name}: not run, {why.split(':')[0]}" for item in rest]
        code = self.failures[-1][0] if self.failures else EXIT_NOT_COLLECTED
        self.evaluation = failed_evaluation(f"not evaluated: {why}", self.params.fail_on, code)
        self.write_evaluation()

    def notebook(self, item: Selected, given: dict) -> NotebookRun | None:
        if item.step.needs and any(not r.ok and r.name in self.runbooks for r in self.runs):
            # Each runbook builds on the one before: after a failed one, the next would only fail (or worse).
            self.skipped.append(f"{item.name}: not run, a runbook before it failed")
            log.warning("skipped %s: a runbook before it failed", item.name)
            return None
        declared = declared_parameters(item.source)
        parameters = {k: v for k, v in given.items() if k in declared}
        log.info("notebook %s ...", item.name)
        kernel = self.kernels.take(self.kernels.prepare(item.source))
        position = self.queue.index(item)
        if position + LOOKAHEAD < len(self.queue):
            self.kernels.prepare(self.queue[position + LOOKAHEAD].source)
        try:
            result = execute(item.name, parameters, self.run_dir, item.source.parent, source=item.source,
                             secrets=self.secrets, title=notebook_title(item.source), kernel=kernel)
        finally:
            self.kernels.release(kernel)
        self.runs.append(result)
        if self.after_notebook is not None:
            self.after_notebook(item.name, result)
        if result.ok:
            log.info("notebook %s done in %.1f s", item.name, result.seconds)
        else:
            code = EXIT_BAD_INPUT if result.error_name == "InputError" else EXIT_NOT_COLLECTED
            self.failures.append((code, f"notebook {item.name} failed: {result.error}"))
        return result

    def collect_and_evaluate(self, base: dict) -> dict | None:
        """Collect the run's snapshot, evaluate every check on it once, write the findings artifact and the
        access table; the notebook parameters of the steps that read them (None when nothing was collected)."""
        from idbridge.checks.evaluate import evaluate_snapshot
        from idbridge.collect.run import collect, describe_error
        from idbridge.core.locks import engagement_lock
        from idbridge.history import runs as history
        from idbridge.snapshot.store import Snapshot

        target = self.run_dir / "snapshot"
        if (target / "manifest.json").exists() and not self.recollect:
            held = Snapshot(target).manifest.get("engagement")
            if held != self.params.engagement:
                raise InputError(target, f"a snapshot of engagement {held!r}, not {self.params.engagement!r}: give "
                                         "another --out, or --recollect to collect this engagement anew there")
        try:
            if (target / "manifest.json").exists() and not self.recollect:
                collected_at = history._collected_at(target) or "at an unknown time"
                self.snapshot_origin = "reused"
                self.snapshot_note = (f"using the snapshot already in {target} (collected {collected_at}), not "
                                      "collecting again: --recollect to collect anew")
                log.info("%s", self.snapshot_note)
            else:
                if (target / "manifest.json").exists():
                    aside = _aside(target, history._collected_at(target))
                    os.replace(target, aside)
                    self.snapshot_origin = "recollected"
                    self.snapshot_note = f"collected anew into {target}; the snapshot it held is now {aside}"
                else:
                    self.snapshot_origin = "collected"
                # One collection per engagement at a time: a second run waits for the first, bounded (core.locks).
                with engagement_lock(history.engagement_dir(self.params, self.run_dir), self.params.engagement,
                                     f"run {self.run_dir}"):
                    log.info("collecting into %s ...", target)
                    collect(self.params, target, params_file=str(self.kept_params), progress=True)
                if self.snapshot_origin == "recollected":
                    log.info("%s", self.snapshot_note)
        except Exception as exc:  # nothing at all could be collected: the reports cannot run either
            if storage_error(exc):  # the disk, not the clouds: the run stops here (exit 3, one line)
                raise
            why = f"collection failed: {describe_error(exc)}"
            log.error(why)
            self.failures.append((EXIT_NOT_COLLECTED, why))
            self.stop([], why)
            return None
        self.snapshot_dir = target
        snapshot = Snapshot(target)
        for name, record in snapshot.sources.items():
            if record["status"] != "complete":
                log.warning("source %s %s: %s", name, record["status"].replace("_", " "), record["error"])
        try:
            self.evaluation = evaluate_snapshot(snapshot, self.params)
        except Exception as exc:  # a broken check module must not lose the run: the reports still render
            log.exception("the checks could not be evaluated")
            why = f"the checks could not be evaluated: {type(exc).__name__}: {exc}"
            self.failures.append((EXIT_NOT_COLLECTED, why))
            self.stop([], why)
        else:
            self.write_evaluation()
            self.write_access(snapshot)
        # Computed here, where run_root means what the user meant (kernels run in the notebooks' folder).
        history_dir = history.engagement_dir(self.params, self.run_dir)
        # A snapshot given to compare with (the demo's earlier run) wins over the engagement's newest earlier run.
        given = self.inputs.get("previous_snapshot_dir")
        previous = Path(given) if given else history.previous_snapshot(self.run_dir, history_dir)
        log.info("previous run of %s: %s", self.params.engagement, previous.parent if previous else "none")
        return {**base, "snapshot_dir": str(target), "previous_snapshot_dir": str(previous or ""),
                "history_dir": str(history_dir)}

    def write_evaluation(self) -> None:
        from idbridge.checks.artifact import write_evaluation

        paths = write_evaluation(self.evaluation, self.run_dir)
        for outcome in self.evaluation.results.outcomes:
            if outcome.status in ("not_checked", "error"):
                log.info("%s: %s (%s)", outcome.status.replace("_", " "), outcome.check_id, outcome.reason)
        log.info("%d findings: %s", len(self.evaluation.results.findings), paths["json"])

    def write_access(self, snapshot) -> None:
        """The access table, built once for the run (the access checks built it already), for the notebooks
        that show it. Without the tables it needs, the notebooks say why themselves."""
        from idbridge.checks.settings import settings_for
        from idbridge.report.sources import write_access_table
        from idbridge.snapshot.store import NotCollected

        try:
            write_access_table(snapshot, settings_for(self.params, snapshot.manifest.get("collected_at")),
                               self.run_dir)
        except NotCollected as exc:
            log.info("no access table for this run: %s", exc)

    # --------------------------------------------------------------------------------------------- verdict
    def finish(self) -> RunResult:
        codes = [code for code, _ in self.failures]
        reasons = [why for _, why in self.failures]
        verdict = self.evaluation.verdict if self.evaluation is not None else None
        if verdict is not None:
            codes.append(verdict.exit_code)
            reasons += [r for r in verdict.reasons if r not in reasons]
            headline = verdict.headline
        else:
            headline = "No check was evaluated in this run: only " + ", ".join(s.name for s in self.selected)
        failed = [r for r in self.runs if not r.ok]
        if failed:
            headline += " · " + (f"{len(failed)} report(s) could not be produced: "
                                 + ", ".join(r.name for r in failed))
        exit_code = next(c for c in EXIT_PRECEDENCE if c in codes + [EXIT_OK])
        record = {"engagement": self.params.engagement, "run_dir": str(self.run_dir), "sandbox": self.params.sandbox,
                  "snapshot_origin": self.snapshot_origin,
                  "started": self.started.isoformat(timespec="seconds"),
                  "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "exit_code": exit_code, "exit_meaning": EXIT_WORDS[exit_code], "headline": headline,
                  "verdict": verdict.as_dict() if verdict is not None else None, "reasons": reasons,
                  "evaluated_at": self.evaluation.evaluated_at if self.evaluation is not None else None,
                  "fail_on": self.params.fail_on, "skipped": self.skipped,
                  "links": [list(link) for link in self.links],
                  "notebooks": [{"name": r.name, "title": r.title, "ok": r.ok, "error": r.error,
                                 "seconds": r.seconds, "notebook": _rel(r.output, self.run_dir),
                                 "report": _rel(r.html, self.run_dir)} for r in self.runs]}
        write_text_atomic(self.run_dir / "run.json", json.dumps(record, indent=1))
        from idbridge.kit.index import write_index

        index = write_index(self.run_dir, record)
        _sweep(self.run_dir, self.secrets)
        level = logging.INFO if exit_code == EXIT_OK else logging.WARNING
        log.log(level, "exit %d (%s): %s%s", exit_code, EXIT_WORDS[exit_code], headline,
                "".join(f"\n  - {r}" for r in reasons))
        return RunResult(self.run_dir, index, exit_code, reasons, self.runs, self.skipped, self.snapshot_dir,
                         snapshot_origin=self.snapshot_origin, snapshot_note=self.snapshot_note)


def _aside(snapshot: Path, collected_at: str) -> Path:
    """Where --recollect moves a run folder's finished snapshot: beside it, named by its collection time."""
    stamp = re.sub(r"[^0-9TZ]", "", collected_at.replace("+00:00", "Z")) or "unknown"
    candidate, n = snapshot.with_name(f"snapshot.replaced-{stamp}"), 1
    while candidate.exists():
        n += 1
        candidate = snapshot.with_name(f"snapshot.replaced-{stamp}-{n}")
    return candidate


def _rel(path: Path | None, root: Path) -> str | None:
    return str(path.relative_to(root)) if path else None


class _RunLog(logging.FileHandler):
    """run.log. On a full disk a log line cannot be written either: logging would print a traceback for every
    record; this handler stops writing instead (the run's own error says what happened)."""

    def handleError(self, record: logging.LogRecord) -> None:
        self.setLevel(logging.CRITICAL + 1)


def _log_to(path: Path) -> logging.Handler:
    handler = _RunLog(path, encoding="utf-8")
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

    for path in files_holding(run_dir, secrets):
        redacted = scrub_file(path, secrets)
        log.error("%s held a secret value%s", path, ": redacted" if redacted
                  else ", NOT redacted (binary, or a value too short to redact safely): delete it")
