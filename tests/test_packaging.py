"""The project's own files must install and run everything: keep the dependency lists and commands in step."""

import re
import tomllib
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_deps() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return set(project["dependencies"]) | set(extras["sandbox"]) | set(extras["dev"])


def test_the_sandbox_stack_is_an_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {re.split(r"[=<>\[]", d)[0].lower() for d in project["dependencies"]}
    sandbox = {re.split(r"[=<>\[]", d)[0].lower() for d in project["optional-dependencies"]["sandbox"]}
    assert sandbox == {"moto", "flask", "flask-cors", "werkzeug"} and not sandbox & base
    assert "'.[dev,sandbox]'" in (ROOT / "Makefile").read_text()


def test_environment_yml_lists_exactly_the_pyproject_dependencies():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {d for d in pip_section if not d.startswith("-e")}
    assert listed == _pyproject_deps()


def test_sandbox_dependencies_are_pinned():
    pinned = {re.split(r"[=<>]", d)[0].lower() for d in _pyproject_deps() if "==" in d}
    assert {"moto", "boto3", "botocore", "msgraph-sdk", "msgraph-core"} <= pinned


def test_msgraph_core_undeclared_import_is_covered():
    # msgraph-core imports `deprecated` without declaring it.
    assert any(d.lower().startswith("deprecated") for d in _pyproject_deps())


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    head = readme.split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)$", head, flags=re.M)
    assert commands[:2] == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, flags=re.M)


def test_notebooks_are_committed_without_outputs():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name} needs exactly one 'parameters' cell"


def test_notebooks_match_their_generator(tmp_path):
    from idbridge.kit.notebook_sources import write_notebooks

    made = write_notebooks(tmp_path)
    assert {p.name for p in made} == {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    for path in made:
        assert path.read_text() == (ROOT / "notebooks" / path.name).read_text(), (
            f"notebooks/{path.name} differs from its generator: run `idbridge dev make-notebooks` and commit")


def test_committed_sandbox_parameters_match_what_sandbox_up_writes():
    from idbridge.core.parameters import load_parameters
    from idbridge.sandbox.server import DEFAULT_AWS_PORT, DEFAULT_GRAPH_PORT, Sandbox

    committed = yaml.safe_load((ROOT / "parameters" / "sandbox.yaml").read_text())
    load_parameters(ROOT / "parameters" / "sandbox.yaml")  # valid as it stands
    box = Sandbox.from_file("demo", graph_port=0, aws_port=0)
    box.start()
    try:
        written = box.parameters()
    finally:
        box.stop()
    written.pop("checks")
    written["graph"]["base_url"] = f"http://127.0.0.1:{DEFAULT_GRAPH_PORT}/v1.0"
    written["graph"]["token_url"] = written["graph"]["token_url"].replace(
        written["graph"]["token_url"].split("/")[2], f"127.0.0.1:{DEFAULT_GRAPH_PORT}")
    written["aws"]["endpoint_url"] = f"http://127.0.0.1:{DEFAULT_AWS_PORT}"
    assert committed == written
