"""The `idbridge` command line."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from idbridge import __version__
from idbridge.core.files import storage_error, write_text_atomic
from idbridge.core.terminal import TerminalFormatter, for_terminal
from idbridge.errors import EXIT_BAD_INPUT, EXIT_NOT_COLLECTED, IdbridgeError, InputError


def say(message: object = "", **kwargs) -> None:
    """click.echo for every line the CLI prints: tenant data (names, error messages of the clouds, file content in
    errors) may hold terminal escapes (window title, hyperlinks, clipboard): they are removed (core.terminal)."""
    click.echo(for_terminal(message), **kwargs)


# What `pip install 'idbridge[sandbox]'` adds: the sandbox's commands import their modules only when they run.
SANDBOX_EXTRA = {"moto", "flask", "flask_cors", "werkzeug"}


@contextmanager
def sandbox_extra() -> Iterator[None]:
    """Around the imports of a sandbox command: without the extra, say how to install it (not a traceback)."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in SANDBOX_EXTRA:
            raise
        raise IdbridgeError(f"the sandbox needs its optional dependencies ({exc.name} is not installed): "
                            "pip install 'idbridge[sandbox]'") from None


class FaultSpec(click.ParamType):
    name = "faults"

    def convert(self, value, param, ctx):
        with sandbox_extra():
            from idbridge.sandbox.faults import FaultConfig, parse_fault_spec

        if isinstance(value, FaultConfig):
            return value
        try:
            return parse_fault_spec(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class ComputedHelp(click.Option):
    """An option whose help is computed when --help is shown (a default that depends on the working directory, the
    clock or the files present), so that it is the real one, not a placeholder."""

    def __init__(self, *args, help_from, **kwargs):
        super().__init__(*args, **kwargs)
        self.help_from = help_from

    def get_help_record(self, ctx):
        self.help = self.help_from()
        return super().get_help_record(ctx)


def _scenario_help() -> str:
    from idbridge.core.paths import SCENARIOS_DIR

    names = sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml"))
    return (f"A scenario of {SCENARIOS_DIR}" + (f" ({', '.join(names)})" if names else "")
            + ", or the path of a scenario file (.yaml or .json).")


def demo_out_default(scenario: str = "demo", now=None) -> Path:
    """Where `idbridge demo` writes when not told: <run_root>/sandbox-<scenario>/<UTC time>, from the working
    directory (sandbox/demo.py names the engagement sandbox-<scenario file's stem>; run_root's default is runs)."""
    from datetime import datetime, timezone

    from idbridge.core.parameters import Parameters

    now = now or datetime.now(timezone.utc)
    return (Path.cwd() / Parameters.model_fields["run_root"].default / f"sandbox-{Path(scenario).stem}"
            / now.strftime("%Y%m%dT%H%M%SZ"))


class DemoCommand(click.Command):
    """`demo --help` ends with the folder it would write to now, unwrapped (a wrapped path cannot be copied)."""

    def format_epilog(self, ctx, formatter) -> None:
        super().format_epilog(ctx, formatter)
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text("Default output folder (the last part is the UTC time the demo starts; "
                                 "--scenario NAME writes to sandbox-NAME):")
            formatter.write(f"{' ' * (formatter.current_indent + 2)}{demo_out_default()}\n")


SCENARIO_OPTION = click.option("--scenario", "-s", default="demo", show_default=True, cls=ComputedHelp,
                               help_from=_scenario_help)
FAULTS_OPTION = click.option("--faults", type=FaultSpec(), default="", metavar="NAME=VALUE,...",
                             help="Faults to switch on, comma-separated; all off by default. Names, units and "
                                  "ranges: FAULTS below.")
# Units and ranges of sandbox/faults.py's FaultConfig (tests/test_cli.py checks that every field is here).
FAULTS_EPILOG = """\b
FAULTS (--faults NAME=VALUE,...; all off by default)
  latency=MS             milliseconds added to every request, both services (0-10000)
  graph_429=SHARE        share of Graph requests answered 429 with Retry-After, 0 to 1 (0.1 = one in ten)
  graph_503=SHARE        share of Graph requests answered 503, 0 to 1
  expired_page_token=SHARE  share of Graph next-link follows answered Directory_ExpiredPageToken, 0 to 1
  retry_after_s=SECONDS  the Retry-After sent with a 429 (0-120, default 1)
  aws_throttle=on        sso-admin 20 requests/s in total, identitystore 20 requests/s per API
  aws_limiter=SHAPE      shape of aws_throttle: bucket (20 refilled at 20/s, bursts allowed, default) or
                         window (at most 20 requests in any one-second window)
  graph_reports_limit=on 5 requests per 10 s on Graph's reports endpoints
  deny=SOURCE+SOURCE     these sources answer AccessDenied / 403
  unlicensed=SOURCE+...  these sources answer a licence error
                         SOURCE: users groups applications synchronization signIns provisioningLogs
                         registrationDetails conditionalAccess pim sso-admin identitystore organizations
                         cloudtrail
  seed=N                 random seed, to repeat a faulty run (default 7)
Example: --faults latency=20,graph_429=0.1,aws_throttle=on,deny=signIns+cloudtrail"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="idbridge")
def cli() -> None:
    """Set up, validate and review the Microsoft Entra ID <-> AWS IAM Identity Center bridge."""


@cli.group()
def sandbox() -> None:
    """The offline sandbox: an emulated Entra tenant (Microsoft Graph) and AWS (moto) on 127.0.0.1."""


@sandbox.command("up", epilog=FAULTS_EPILOG)
@SCENARIO_OPTION
@FAULTS_OPTION
@click.option("--graph-port", type=int, default=47801, show_default=True,
              help="Port of the Graph emulator on 127.0.0.1 (0: any free port).")
@click.option("--aws-port", type=int, default=47802, show_default=True,
              help="Port of moto's server on 127.0.0.1 (0: any free port).")
@click.option("--params-out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("runs/sandbox/parameters.yaml"), show_default=True,
              help="Where to write the parameters file that points the notebooks at the sandbox.")
@click.option("--replay", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="Serve a recording (idbridge collect --record DIR) instead of a scenario: each request gets the "
                   "answer recorded for it (docs/recording.md).")
def sandbox_up(scenario: str, faults, graph_port: int, aws_port: int, params_out: Path, replay: Path | None) -> None:
    """Run both emulated services in the foreground (Ctrl-C stops them), e.g. for a JupyterLab session."""
    with sandbox_extra():
        from idbridge.sandbox.replay import ReplaySandbox
        from idbridge.sandbox.server import Sandbox

    if replay is not None and faults.any_on:
        raise click.UsageError("--faults cannot be combined with --replay: a replay serves what was recorded")
    box = ReplaySandbox(replay, graph_port=graph_port, aws_port=aws_port) if replay is not None else \
        Sandbox.from_file(scenario, faults=faults, graph_port=graph_port, aws_port=aws_port)
    endpoints = box.start()
    try:
        params = box.write_parameters(params_out)
        graph_name, aws_name = ("Graph (replay)", "AWS (replay)") if replay is not None else \
            ("Graph emulator", "AWS (moto)")
        say(f"{graph_name:<16}{endpoints.graph_base_url}  (tenant {endpoints.tenant_id})")
        say(f"{aws_name:<16}{endpoints.aws_endpoint_url}  (region {endpoints.region})")
        say(f"Parameters      {params}")
        if faults.any_on:
            say(f"Faults on       {faults.model_dump(exclude_defaults=True)}")
        if replay is not None:  # both endpoints answer from the recording, not from the emulators
            counts = box.recording.manifest.get("exchanges") or {}
            say(f"Replaying       {replay} ({counts.get('graph', 0)} Graph and {counts.get('aws', 0)} AWS answers)")
        say("Serving; press Ctrl-C to stop.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        say("Stopping.")
    finally:
        box.stop()


@sandbox.command("check", epilog=FAULTS_EPILOG)
@SCENARIO_OPTION
@FAULTS_OPTION
def sandbox_check(scenario: str, faults) -> None:
    """Start the sandbox, read every emulated resource back with the real clients, stop it.

    Exits 0 only when everything answered as the scenario says."""
    with sandbox_extra():
        from idbridge.sandbox.check import run_check

    results = run_check(scenario, faults=faults)
    width = max(len(r.name) for r in results)
    for r in results:
        mark = "ok  " if r.ok else "FAIL"
        say(f"{mark} {r.name.ljust(width)}  {r.detail}")
    failed = [r for r in results if not r.ok]
    say(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


@sandbox.command("generate")
@click.option("--users", type=click.IntRange(1), default=1000, show_default=True, help="Entra users.")
@click.option("--groups", type=click.IntRange(1), default=100, show_default=True, help="Entra groups.")
@click.option("--accounts", type=click.IntRange(1), default=50, show_default=True,
              help="AWS accounts in the organisation.")
@click.option("--permission-sets", type=click.IntRange(1), default=20, show_default=True,
              help="Identity Center permission sets.")
@click.option("--assignments", type=click.IntRange(1), default=None,
              help="Target number of (principal, account, permission set) assignments [default: 12 per account].")
@click.option("--sign-ins", type=click.IntRange(0), default=None,
              help="Users who get an Entra and an AWS sign-in [default: users/10, at least 1000].")
@click.option("--faults-per-kind", type=click.IntRange(0), default=3, show_default=True,
              help="Planted faults of each kind (e.g. 3 disabled users still assigned), listed in the file.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Random seed: the same seed and sizes give the same file.")
@click.option("--writer", type=click.Choice(["flow", "pyyaml"]), default="flow", show_default=True,
              help="flow: one JSON-style flow mapping per item (fast); pyyaml: yaml.dump with the C dumper "
                   "(slower, wraps long lines). A .json file is always written as JSON.")
@click.option("--check", is_flag=True, help="Load the written file with the scenario loader and time it.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Scenario file to write (.yaml, or .json: loads much faster).")
def sandbox_generate(users: int, groups: int, accounts: int, permission_sets: int, assignments: int | None,
                     sign_ins: int | None, faults_per_kind: int, seed: int, writer: str, check: bool,
                     out: Path) -> None:
    """Generate a large synthetic organisation (for benchmarks) as a scenario file."""
    with sandbox_extra():
        from idbridge.sandbox.generate import write_scenario

    started = time.perf_counter()
    try:
        path = write_scenario(out, users=users, groups=groups, accounts=accounts, permission_sets=permission_sets,
                              seed=seed, assignments=assignments, sign_ins=sign_ins,
                              faults_per_kind=faults_per_kind, writer=writer)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    written = time.perf_counter()
    say(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) in {written - started:.2f} s")
    if check:
        from idbridge.sandbox.scenario import load_scenario

        scenario = load_scenario(path)
        say(f"load_scenario {time.perf_counter() - written:.2f} s: {len(scenario.entra.users)} users, "
                   f"{len(scenario.entra.groups)} groups, {len(scenario.aws.accounts)} accounts, "
                   f"{len(scenario.aws.permission_sets)} permission sets, {len(scenario.faults)} planted faults")


@sandbox.command("lint")
@click.argument("scenario_file", type=click.Path(dir_okay=False, path_type=Path))
def sandbox_lint(scenario_file: Path) -> None:
    """Check a scenario file without starting anything: every rule `sandbox up` applies, including the seeding
    (done in memory). Exits 2 naming the file, line and key of each problem, as `sandbox up` would."""
    with sandbox_extra():
        from idbridge.sandbox.world import lint_scenario

    scenario = lint_scenario(scenario_file)
    say(f"{scenario_file}: ok ({len(scenario.entra.users)} users, {len(scenario.entra.groups)} groups, "
               f"{len(scenario.aws.accounts)} accounts, {len(scenario.faults)} planted faults)")


@cli.command("collect")
@click.option("-p", "--params", "params_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Engagement parameters file (YAML).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Snapshot folder to create (default <run_root>/<engagement>/snapshots/<UTC time>, from the "
                   "parameters file).")
@click.option("--record", "record_dir", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="Also keep every answer of the clouds in this new folder, secrets removed and personal data "
                   "pseudonymised, to hand back or replay (idbridge sandbox up --replay; docs/recording.md).")
def collect_command(params_file: Path, out: Path | None, record_dir: Path | None) -> None:
    """Collect both clouds into a snapshot. Exits 3 when a source could not be collected (completely)."""
    from idbridge.collect.run import collect, default_snapshot_dir
    from idbridge.core.parameters import load_parameters
    from idbridge.errors import EXIT_NOT_COLLECTED
    from idbridge.snapshot.store import Snapshot

    from idbridge.core.locks import engagement_lock
    from idbridge.history.runs import engagement_dir

    params = load_parameters(params_file)
    recorder = None
    if record_dir is not None:
        from idbridge.clients.recording.recorder import Recorder

        if record_dir.exists():
            raise InputError(record_dir, "already exists; a recording is never written over (give a new folder)")
        recorder = Recorder(params)
    # One collection per engagement at a time (a second waits, bounded, then exits 3); the folder is checked and
    # the default one named once the lock is held, so two collections started in the same second get two folders.
    with engagement_lock(engagement_dir(params), params.engagement, f"idbridge collect {out or ''}".strip()):
        if out is not None and out.exists():
            raise InputError(out, "already exists; snapshots are never overwritten (give a new folder)")
        path = collect(params, out or default_snapshot_dir(params), params_file=str(params_file),
                       progress=True, recorder=recorder)
    snapshot = Snapshot(path)
    incomplete = 0
    for name, record in snapshot.sources.items():
        rows = sum(record["rows"].values())
        line = f"{record['status']:<13} {name:<26} {rows:>8} rows"
        if record["error"]:
            line += f"  {record['error']}"
            incomplete += 1
        say(line)
    say(f"Snapshot: {path}")
    if recorder is not None:  # only once the snapshot is finished: a collection that failed leaves no recording
        say(f"Recording: {recorder.save(record_dir)}")
    if incomplete:
        say(f"{incomplete} source(s) not collected completely: see above.", err=True)
        sys.exit(EXIT_NOT_COLLECTED)


@cli.command("validate")
@click.option("-p", "--params", "params_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Engagement parameters file (thresholds, fail_on).")
@click.option("--snapshot", "snapshot_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Snapshot folder to evaluate (no cloud access is made).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write findings.json, findings.csv and checks.csv (default: a folder `validation` "
                   "beside the snapshot).")
def validate_command(params_file: Path, snapshot_dir: Path, out: Path | None) -> None:
    """Evaluate every check on a snapshot, as `idbridge run` does, with the same verdict and exit code: 0 every
    check ran and nothing reached fail_on, 1 findings at or above fail_on, 3 a check could not run or a source
    was not completely collected."""
    from idbridge.checks.artifact import write_evaluation
    from idbridge.checks.evaluate import evaluate_snapshot
    from idbridge.core.parameters import load_parameters
    from idbridge.snapshot.store import Snapshot

    params = load_parameters(params_file)
    evaluation = evaluate_snapshot(Snapshot(snapshot_dir), params)
    for outcome in evaluation.results.outcomes:
        reason = f"  {outcome.reason}" if outcome.reason else ""
        say(f"{outcome.status:<15} {outcome.check_id:<42} {outcome.findings:>4}{reason}")
    paths = write_evaluation(evaluation, out or snapshot_dir.parent / "validation")
    say(f"{evaluation.verdict.word}: {evaluation.verdict.headline}")
    say(f"{len(evaluation.results.findings)} findings: {paths['json']}")
    sys.exit(evaluation.verdict.exit_code)


@cli.command("run")
@click.option("-p", "--params", "params_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Engagement parameters file (YAML).")
@click.option("--only", default=None, metavar="NOTEBOOKS",
              help="Run only these notebooks, comma-separated numbers or names (e.g. 10,30).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Run folder (default <run_root>/<engagement>/<UTC time>). If it holds a finished snapshot, the "
                   "reports are made from that snapshot (said in one line), not collected again.")
@click.option("--recollect", is_flag=True,
              help="With --out: collect anew even if the folder holds a finished snapshot (which is kept beside, "
                   "as snapshot.replaced-<its time>).")
def run_command(params_file: Path, only: str | None, out: Path | None, recollect: bool) -> None:
    """Run the kit's notebooks headless into a run folder: snapshot, executed notebooks, HTML reports, findings,
    index.html. Exits 0 fine, 1 findings at or above fail_on, 2 bad parameters or input, 3 a source not
    collected (the log says which)."""
    import logging

    from idbridge.kit.run import run_kit

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    for handler in logging.getLogger().handlers:  # the log quotes the clouds' errors: no escapes on the terminal
        if type(handler) is logging.StreamHandler and handler.stream is sys.stderr:
            handler.setFormatter(TerminalFormatter(handler.formatter._fmt if handler.formatter else None))
    logging.getLogger("idbridge").setLevel(logging.INFO)
    result = run_kit(params_file, only=only, out=out, recollect=recollect)
    if result.snapshot_note:  # a finished snapshot in --out: whether it was used or replaced is said, not only logged
        say(result.snapshot_note[0].upper() + result.snapshot_note[1:] + ".")
    say(f"Report: {result.index}")
    sys.exit(result.exit_code)


@cli.command("diff")
@click.argument("snapshot_a", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("snapshot_b", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("-p", "--params", "params_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Evaluate the checks with these parameters (default: those SNAPSHOT_B was collected with).")
def diff_command(snapshot_a: Path, snapshot_b: Path, params_file: Path | None) -> None:
    """What changed from SNAPSHOT_A to SNAPSHOT_B (snapshot or run folders): access gained and lost, new
    administrators, account assignments, findings new and resolved."""
    from idbridge.core.parameters import load_parameters
    from idbridge.history.diff import diff_snapshots, format_text
    from idbridge.history.runs import snapshot_of
    from idbridge.snapshot.store import Snapshot

    params = load_parameters(params_file) if params_file else None
    diff = diff_snapshots(Snapshot(snapshot_of(snapshot_a)), Snapshot(snapshot_of(snapshot_b)), params)
    say(format_text(diff), nl=False)


@cli.command("plan")
@click.option("-p", "--params", "params_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Engagement parameters file (YAML).")
@click.option("-d", "--desired-state", "desired_state", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Desired-state file of the setup runbooks.")
@click.option("--step", "steps", multiple=True, type=click.Choice(["saml", "provisioning", "aws_access"]),
              help="Plan only this step (repeatable; default: every step the desired state has).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Run folder for what planning writes (default: a temporary folder).")
def plan_command(params_file: Path, desired_state: Path, steps: tuple[str, ...], out: Path | None) -> None:
    """Plan the setup runbooks without a notebook: always a dry run, whatever the desired state says. Exits 0
    planned, 2 the desired state or parameters are wrong (nothing planned), 1 another error (e.g. Test
    Connection refused)."""
    from idbridge.runbooks.dry_run import plan_setup

    plan_setup(params_file, desired_state, out, steps, on_step=say)


@cli.group("export")
def export_group() -> None:
    """A run's findings where security teams look: OCSF events for a SIEM, AWS Security Hub."""


RUN_OPTION = click.option("--run", "run_dir", required=True, type=click.Path(file_okay=False, exists=True,
                                                                            path_type=Path),
                          help="Run folder of `idbridge run` (its findings.json is read, nothing in it changed).")


@export_group.command("ocsf")
@RUN_OPTION
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="JSON file to write: one array of OCSF Detection Finding events.")
def export_ocsf(run_dir: Path, out: Path) -> None:
    """The run's findings as OCSF Detection Finding events (class 2004), with ids that stay the same from run to
    run; findings of the previous run that are gone are included with status Resolved. Reads only."""
    from idbridge.exports.ocsf import write_ocsf

    path, counts = write_ocsf(run_dir, out)
    say(f"wrote {path}: {counts['new']} new, {counts['still open']} still open, {counts['resolved']} resolved")


@export_group.command("securityhub")
@click.option("-p", "--params", "params_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Engagement parameters file (YAML): the AWS identity that imports, as for collection.")
@RUN_OPTION
@click.option("--region", default=None, help="Security Hub Region (default: aws.region of the parameters).")
@click.option("--apply", "apply", is_flag=True,
              help="Send the findings (default: a dry run that shows what would be sent).")
def export_securityhub(params_file: Path, run_dir: Path, region: str | None, apply: bool) -> None:
    """Import the run's findings into AWS Security Hub (ASFF, BatchImportFindings) under the audit identity's own
    product ARN: new findings imported, earlier ones updated, those resolved since archived. A dry run unless
    --apply; applied batches are appended to the run folder's change log. Exits 1 when a batch was refused."""
    import json

    from idbridge.core.parameters import load_parameters
    from idbridge.exports.securityhub import apply_securityhub, plan_securityhub

    params = load_parameters(params_file)
    export = plan_securityhub(params, run_dir, region)
    counts = export.counts
    say(f"Security Hub {export.target.region}, product {export.target.product_arn}")
    say(f"{counts['new']} new, {counts['updated']} updated, {counts['archived']} archived, "
        f"{counts['unchanged']} unchanged (engagement {export.run.engagement})")
    outcomes = apply_securityhub(export, apply=apply)
    for outcome in outcomes:
        say(f"{outcome.status:<8} {outcome.change.summary}" + (f"  {outcome.detail}" if outcome.status == "failed"
                                                              else ""))
    if not apply and export.sample is not None:
        say("A finding as it would be sent:")
        say(json.dumps(export.sample, indent=1))
    if not apply:
        say("Dry run: nothing was sent; --apply sends.")
    elif outcomes:
        say(f"Change log: {export.change_log}")
    sys.exit(1 if any(o.status == "failed" for o in outcomes) else 0)


@cli.group()
def fleet() -> None:
    """Many engagements at once."""


@fleet.command("index")
@click.argument("runs_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The page to write (default RUNS_DIR/fleet.html).")
def fleet_index(runs_dir: Path, out: Path | None) -> None:
    """One self-contained HTML page over every engagement's latest run in RUNS_DIR (a run_root: <engagement>/<run>/):
    verdict, score, findings by severity, change since the previous run, link to the run. Exits 0 once written,
    whatever the verdicts (each run's own exit code is the one to act on), 2 when RUNS_DIR is not such a folder."""
    from idbridge.history.fleet import WORDS, write_fleet_index

    page, rows = write_fleet_index(runs_dir, out)
    for row in rows:
        say(f"{WORDS[row.latest.status]:<12} {row.engagement:<30} {row.latest.folder.name}")
    say(f"Fleet: {page}")


@cli.group()
def checks() -> None:
    """The check catalogue."""


@checks.command("doc")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the catalogue here (default: print it).")
def checks_doc(out: Path | None) -> None:
    """Generate the check catalogue (docs/checks.md) from the check units."""
    from idbridge.checks.docs import render_catalogue

    text = render_catalogue()
    if out:
        write_text_atomic(out, text)
        say(f"wrote {out}")
    else:
        say(text, nl=False)


@cli.command("demo", cls=DemoCommand)
@SCENARIO_OPTION
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Run folder (default: runs/sandbox-<scenario>/<UTC time> under the working directory, "
                   "shown in full below).")
def demo(scenario: str, out: Path | None) -> None:
    """The whole kit on the sandbox: start it, run the notebooks headless, render the reports."""
    with sandbox_extra():
        from idbridge.sandbox.demo import run_demo

    index = run_demo(scenario, out)
    say(f"Report: {index}")


@cli.group()
def dev() -> None:
    """Commands for working on idbridge itself: the generated files of the repository."""


@dev.command("make-demo")
@click.option("--check", is_flag=True, help="Compare with the committed file, write nothing; exit 1 if it differs.")
@click.option("--variant", type=click.Choice(["demo", "real-shapes"]), default="demo", show_default=True,
              help="demo: scenarios/demo.yaml; real-shapes: scenarios/demo-real-shapes.yaml (the same organisation "
                   "as a real tenant serves it).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write (default: the variant's file in scenarios/).")
def dev_make_demo(check: bool, variant: str, out: Path | None) -> None:
    """Write scenarios/demo.yaml (Northwind Analytics, the sandbox's demo organisation) or its real-shapes variant
    from its generator."""
    with sandbox_extra():
        if variant == "real-shapes":
            from idbridge.sandbox import demo_real_shapes as generator
        else:
            from idbridge.sandbox import demo_scenario as generator

    path = out or generator.OUT
    text = generator.render_text()
    if check:
        same = path.exists() and path.read_text(encoding="utf-8") == text
        say(f"{path} is up to date" if same else f"{path} differs from the generator's output")
        sys.exit(0 if same else 1)
    write_text_atomic(path, text)
    say(f"wrote {path} ({len(text.splitlines())} lines)")


@dev.command("make-notebooks")
@click.option("--check", is_flag=True, help="Compare with the committed notebooks, write nothing; exit 1 if one "
                                            "differs.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write them to (default: notebooks/).")
def dev_make_notebooks(check: bool, out: Path | None) -> None:
    """Write the kit's notebooks (notebooks/*.ipynb) from their cell lists, without outputs."""
    import tempfile

    from idbridge.core.paths import NOTEBOOKS_DIR
    from idbridge.kit import notebook_sources

    folder = out or NOTEBOOKS_DIR
    if not check:
        for path in notebook_sources.write_notebooks(folder):
            say(f"wrote {path}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        made = notebook_sources.write_notebooks(Path(tmp))
        differ = [p.name for p in made if not (folder / p.name).exists()
                  or (folder / p.name).read_text(encoding="utf-8") != p.read_text(encoding="utf-8")]
    say(f"differ from the generator: {', '.join(differ)}" if differ else "notebooks are up to date")
    sys.exit(1 if differ else 0)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="idbridge", standalone_mode=False)
    except click.exceptions.Abort:
        say("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_BAD_INPUT if isinstance(exc, click.UsageError | click.BadParameter) else exc.exit_code)
    except InputError as exc:
        say(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except IdbridgeError as exc:
        say(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except Exception as exc:
        failed = storage_error(exc)
        if failed is None:
            raise
        # Disk full, quota, read-only or failing disk: nothing was found, the work is incomplete (exit 3, never
        # 1, which means findings); every artifact is written atomically, so none is left half-written.
        where = f"cannot write {failed.filename}" if failed.filename else "cannot write"
        say(f"error: {where}: {failed.strerror or failed} (stopped; nothing half-written was left)", err=True)
        sys.exit(EXIT_NOT_COLLECTED)
    else:
        sys.exit(0)


if __name__ == "__main__":
    main()
