"""The command line as a user meets it: exit codes and messages."""

import os
import subprocess
import sys
from pathlib import Path

from support.sandbox import ROOT

IDBRIDGE = [sys.executable, "-m", "idbridge.cli"]


def run(*args, **kwargs):
    return subprocess.run([*IDBRIDGE, *args], capture_output=True, text=True, cwd=ROOT, timeout=600, **kwargs)


def test_every_command_has_help():
    for command in ([], ["sandbox"], ["sandbox", "up"], ["sandbox", "check"], ["sandbox", "generate"],
                    ["sandbox", "lint"], ["collect"], ["validate"], ["run"], ["diff"], ["plan"], ["checks"],
                    ["checks", "doc"], ["fleet"], ["fleet", "index"], ["demo"], ["dev"], ["dev", "make-demo"],
                    ["dev", "make-notebooks"], ["export"], ["export", "ocsf"], ["export", "securityhub"]):
        result = run(*command, "--help")
        assert result.returncode == 0, (command, result.stderr)
        assert "Usage:" in result.stdout


def test_every_command_is_in_the_help_test():
    """A new command is added to the list above (so that its --help is tested)."""
    from idbridge.cli import cli

    def walk(group, prefix):
        for name, command in group.commands.items():
            yield [*prefix, name]
            if hasattr(command, "commands"):
                yield from walk(command, [*prefix, name])

    assert sorted(" ".join(c) for c in walk(cli, [])) == sorted([
        "sandbox", "sandbox up", "sandbox check", "sandbox generate", "sandbox lint", "collect", "validate", "run",
        "diff", "plan", "checks", "checks doc", "fleet", "fleet index", "demo", "dev", "dev make-demo",
        "dev make-notebooks", "export", "export ocsf", "export securityhub"])


def test_dev_generators_match_the_committed_files():
    assert run("dev", "make-notebooks", "--check").returncode == 0
    result = run("dev", "make-demo", "--check")
    assert result.returncode == 0, result.stdout
    result = run("dev", "make-demo", "--variant", "real-shapes", "--check")
    assert result.returncode == 0 and "demo-real-shapes.yaml is up to date" in result.stdout, result.stdout


def test_bad_scenario_file_exits_2_naming_file_line_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "scenario: bad\n"
        "tenant: {id: 11111111-2222-3333-4444-555555555555, display_name: B, default_domain: b.onmicrosoft.com}\n"
        "entra:\n"
        "  groups:\n"
        "    - display_name: G\n"
        "      members: [nobody@b.com]\n"
        "aws:\n"
        "  management_account: '111122223333'\n")
    result = run("sandbox", "lint", str(bad))
    assert result.returncode == 2
    assert f"{bad}: line 6, entra.groups[0].members[0]: no user 'nobody@b.com' in entra.users" in result.stderr


def test_bad_fault_switch_is_a_usage_error():
    result = run("sandbox", "check", "--faults", "colour=red")
    assert result.returncode == 2
    assert "unknown fault 'colour'" in result.stderr


def test_missing_parameters_file_exits_2(tmp_path):
    result = run("collect", "-p", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "nope.yaml: file not found" in result.stderr


def test_sandbox_check_reads_everything_back():
    result = run("sandbox", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed" in result.stdout and "FAIL" not in result.stdout


def test_sandbox_commands_without_the_extra_say_what_to_install(tmp_path):
    """moto, flask and werkzeug are the `sandbox` extra: without them the sandbox commands say how to get them."""
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'moto', 'flask', 'flask_cors', 'werkzeug'}:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n", encoding="utf-8")
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    for command in (["sandbox", "check"], ["sandbox", "up"], ["demo"]):
        result = run(*command, env=env)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "pip install 'idbridge[sandbox]'" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert run("checks", "doc", env=env).returncode == 0  # the rest of the CLI works without the extra


def test_collect_into_a_file_writes_plain_progress_lines(tmp_path):
    """CI and Airflow logs: `idbridge collect` with its output in a file prints one plain line per source (source,
    rows, seconds; or why not collected) and no terminal escape."""
    import re

    from support.sandbox import forget_sandbox, running_sandbox

    from idbridge.sandbox.faults import parse_fault_spec
    from idbridge.snapshot.schema import SOURCES

    box = running_sandbox("demo", faults=parse_fault_spec("deny=cloudtrail"))
    try:
        params = box.write_parameters(tmp_path / "parameters.yaml")
        log = tmp_path / "collect.log"
        with log.open("w") as out:
            result = subprocess.run([*IDBRIDGE, "collect", "-p", str(params), "--out", str(tmp_path / "snapshot")],
                                    stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path, timeout=600)
    finally:
        box.stop()
        forget_sandbox()
    text = log.read_text()
    assert result.returncode == 3, text  # CloudTrail denied: not completely collected
    assert "\x1b" not in text and "\r" not in text, text
    lines = text.splitlines()
    assert re.search(r"^collected entra\.users: [\d,]+ rows? in \d+\.\d s$", text, re.M), text
    assert [line for line in lines if line.startswith("not collected aws.cloudtrail: ")], text
    assert "AccessDenied" in next(line for line in lines if line.startswith("not collected aws.cloudtrail"))
    for source in SOURCES:  # every source said once, whatever order they finished in
        said = [line for line in lines if re.match(rf"(collected|partially collected|not collected) "
                                                   rf"{re.escape(source.name)}: ", line)]
        assert len(said) == 1, (source.name, text)


def _options():
    import click

    from idbridge.cli import cli

    def walk(group, prefix):
        for name, command in group.commands.items():
            yield " ".join([*prefix, name]), command
            if hasattr(command, "commands"):
                yield from walk(command, [*prefix, name])

    for name, command in walk(cli, []):
        for param in command.params:
            if isinstance(param, click.Option):  # arguments are named in the usage line
                yield name, param


def test_every_option_says_what_it_is():
    """No option in any --help is a bare name and type: each has a sentence (or one computed when shown)."""
    bare = [f"{name} {param.opts[0]}" for name, param in _options()
            if not (param.help or getattr(param, "help_from", None))]
    assert not bare, bare


def test_demo_help_shows_the_folder_the_demo_would_write_to(tmp_path):
    import re

    result = subprocess.run([*IDBRIDGE, "demo", "--help"], capture_output=True, text=True, cwd=tmp_path,
                            timeout=120, env={**os.environ, "COLUMNS": "60"})
    assert result.returncode == 0, result.stderr
    # Computed from the working directory and the clock, on a line of its own even in a narrow terminal.
    assert re.search(rf"^\s+{re.escape(str(tmp_path / 'runs' / 'sandbox-demo'))}/\d{{8}}T\d{{6}}Z$",
                     result.stdout, re.M), result.stdout
    assert "<timestamp>" not in result.stdout and "demo-<" not in result.stdout


def test_demo_out_default_is_where_the_demo_writes(tmp_path, monkeypatch):
    """The folder `demo --help` shows is the one sandbox/demo.py picks: its run folder is asked for here and
    compared, without running the demo."""
    from idbridge.cli import demo_out_default
    from idbridge.sandbox import demo as sandbox_demo

    asked = []

    class Stop(Exception):
        pass

    def new_run_dir(params, now=None):
        asked.append(params)
        raise Stop

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sandbox_demo, "new_run_dir", new_run_dir)
    for scenario in ("demo", "demo-real-shapes"):
        try:
            sandbox_demo.demo_run(scenario)
        except Stop:
            pass
        probe = asked.pop()
        assert (Path.cwd() / probe.run_root / probe.engagement) == demo_out_default(scenario).parent


def test_faults_help_names_every_fault_with_its_unit():
    from idbridge.cli import FAULTS_EPILOG
    from idbridge.sandbox.faults import DENIABLE_SOURCES, FaultConfig, parse_fault_spec

    assert "latency=MS" in FAULTS_EPILOG and "milliseconds" in FAULTS_EPILOG
    assert "0 to 1" in FAULTS_EPILOG and "requests/s" in FAULTS_EPILOG
    named = {line.split()[0].split("=")[0] for line in FAULTS_EPILOG.splitlines()
             if line.startswith("  ") and "=" in line.split()[0]}
    # Every fault is listed, under its own name or the parser's short one (latency for latency_ms).
    aliases = {"latency_ms": "latency"}
    assert {aliases.get(field, field) for field in FaultConfig.model_fields} == named
    assert all(source in FAULTS_EPILOG for source in DENIABLE_SOURCES)
    example = FAULTS_EPILOG.split("Example: --faults ")[1].strip()
    assert parse_fault_spec(example).any_on
    result = run("sandbox", "up", "--help")
    assert "FAULTS" in result.stdout and "milliseconds added to every request" in result.stdout
