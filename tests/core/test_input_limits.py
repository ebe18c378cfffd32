"""Every YAML input is read within bounds: alias bombs ("billion laughs"), recursive aliases, deep nesting and
oversized files are refused with exit 2, naming the file and the line, fast and in little memory."""

from __future__ import annotations

import resource
import signal
import time
import tracemalloc
from contextlib import contextmanager

import pytest

from idbridge.cli import main
from idbridge.core.yamlfile import MAX_INPUT_BYTES, parse_yaml_text, read_yaml
from idbridge.errors import EXIT_BAD_INPUT, InputError

TENANT = "3c8e5b1a-7d2f-4e96-a0b4-5f19c27d8e63"
PARAMETERS = f"engagement: bomb\ngraph:\n  tenant_id: {TENANT}\n"


def bomb(levels: int = 9, key: str = "lol") -> str:
    """`levels` anchors, each a list of nine aliases of the one before: 9**levels strings once expanded."""
    names = [f"{key}{n}" for n in range(levels)]
    lines = [f"{names[0]}: &{names[0]} [" + ", ".join(['"lol"'] * 9) + "]"]
    for before, name in zip(names, names[1:]):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{before}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@contextmanager
def bounded(seconds: float = 2.0, megabytes: int = 200):
    """The block must finish in `seconds` and allocate under `megabytes` (Python allocations, tracemalloc).
    Backstops, so that a regression fails here rather than hanging or eating the machine's memory: an alarm at
    ten times the budget and an address-space limit 1 GB above what the process has mapped now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    cap = mapped + 1024 ** 3
    if hard == resource.RLIM_INFINITY or cap < hard:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))

    def timeout(*_):
        raise TimeoutError(f"still running after {seconds * 10} s")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(int(seconds * 10))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    assert peak < megabytes * 1024 ** 2, f"allocated {peak / 1024 ** 2:.0f} MB"


def exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return exit_info.value.code


def warmed(command: list[str], capsys) -> list[str]:
    """The command, after one run of it on a missing file: its imports are not what is measured."""
    exit_code([part if not part.endswith(".yaml") else part + ".missing.yaml" for part in command])
    capsys.readouterr()
    return command


def test_a_bomb_in_the_parameters_exits_2_for_collect_and_run(tmp_path, capsys):
    params = tmp_path / "p.yaml"
    params.write_text(PARAMETERS + bomb(), encoding="utf-8")
    for command in (["collect", "-p", str(params), "--out", str(tmp_path / "snap")],
                    ["run", "-p", str(params), "--out", str(tmp_path / "run")],
                    ["validate", "-p", str(params), "--snapshot", str(tmp_path / "snap")]):
        warmed(command, capsys)
        with bounded():
            code = exit_code(command)
        err = capsys.readouterr().err
        assert code == EXIT_BAD_INPUT, (command, err)
        assert f"{params}: line 11: aliases would expand the document" in err and "refused" in err, err
        assert "Traceback" not in err
    assert not (tmp_path / "snap").exists() and not (tmp_path / "run").exists()


def test_a_bomb_in_a_scenario_exits_2_for_sandbox_lint(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("scenario: bomb\n" + bomb(), encoding="utf-8")
    command = warmed(["sandbox", "lint", str(scenario)], capsys)
    with bounded():
        code = exit_code(command)
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT, err
    assert f"{scenario}: line 9: aliases would expand the document" in err


def test_a_bomb_in_a_desired_state_exits_2_for_plan_and_run(tmp_path, capsys):
    params = tmp_path / "parameters.yaml"
    params.write_text(PARAMETERS + f"run_root: {tmp_path / 'runs'}\n", encoding="utf-8")
    desired = tmp_path / "desired-state.bomb.yaml"  # found beside the parameters by `idbridge run`
    desired.write_text("apply: false\n" + bomb(), encoding="utf-8")
    for command in (["plan", "-p", str(params), "-d", str(desired), "--out", str(tmp_path / "plan")],
                    ["run", "-p", str(params)]):
        warmed(command, capsys)
        with bounded():
            code = exit_code(command)
        err = capsys.readouterr().err
        assert code == EXIT_BAD_INPUT, (command, err)
        assert f"{desired}: line 9: aliases would expand the document" in err, err
    assert not (tmp_path / "runs").exists(), "nothing ran"


def test_recursive_aliases_deep_nesting_and_big_files_are_refused(tmp_path):
    with pytest.raises(InputError, match=r"x.yaml: line 1: an alias refers to a node that contains it"):
        parse_yaml_text("a: &a [1, *a]\n", "x.yaml")
    with pytest.raises(InputError, match=r"x.yaml: line 1: nested more than 100 levels deep"):
        parse_yaml_text("a: " + "[" * 150 + "]" * 150 + "\n", "x.yaml")
    with pytest.raises(InputError, match=r"x.yaml: line 1, column \d+: not valid YAML: exceeded maximum nesting"):
        parse_yaml_text("a: " + "[" * 5000 + "]" * 5000 + "\n", "x.yaml")  # libyaml's own limit
    with pytest.raises(InputError, match=r"x.json: nested too deeply"):
        parse_yaml_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "x.json")
    big = tmp_path / "big.yaml"
    big.write_text("a: [" + "1, " * (MAX_INPUT_BYTES // 3) + "]\n", encoding="utf-8")
    with bounded(megabytes=40), pytest.raises(InputError, match=r"big.yaml: larger than an input file may be"):
        read_yaml(big)


def test_ordinary_anchors_and_merges_still_load():
    text = ("defaults: &defaults {region: eu-west-1, tags: [a, b]}\n"
            "one: {<<: *defaults, name: one}\n"
            "two: {<<: *defaults, name: two}\n"
            "many: " + "[" + ", ".join(["*defaults"] * 1000) + "]\n")
    data = parse_yaml_text(text, "ok.yaml").data
    assert data["two"] == {"region": "eu-west-1", "tags": ["a", "b"], "name": "two"}
    assert len(data["many"]) == 1000
