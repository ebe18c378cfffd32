"""The README's main command, end to end: sandbox up, notebooks headless through papermill, HTML reports.

`idbridge demo` is demo_run with no failed notebook (run_demo raises on one); the session's kit run
(support.kit.kit_run) is that demo_run, with the run root, engagement and secret references of a real
engagement, so these tests read it rather than run the same demo again."""

import json
from pathlib import Path

import nbformat
import pytest
from support.kit import kit_run


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    kit = kit_run(tmp_path_factory)
    assert not kit["failed"], f"the demo's notebooks fail, as run_demo would say: {kit['failed']}"
    run = Path(kit["run_dir"])
    return run / "index.html", run


@pytest.mark.notebook
def test_demo_runs_preflight_against_the_sandbox(demo_run):
    index, run = demo_run
    assert index.exists()
    output = nbformat.read(run / "notebooks" / "00_preflight.ipynb", as_version=4)
    html_table = "".join(o.get("data", {}).get("text/html", "") for c in output.cells if c.cell_type == "code"
                         for o in c.get("outputs", []))
    assert html_table.count("outcome-ok'>ok</span>") == 8 and "FAILED" not in html_table
    report = (run / "reports" / "00_preflight.html").read_text()
    assert "Northwind Analytics" in report
    assert "params_file" not in report, "reports carry no code"


@pytest.mark.notebook
def test_demo_validation_notebook_writes_findings(demo_run):
    _, run = demo_run
    findings = json.loads((run / "findings.json").read_text())["findings"]
    assert {f["check_id"] for f in findings} >= {"saml.certificate_expiry", "scim.nested_group_only"}
    report = (run / "reports" / "10_validate_integration.html").read_text()
    assert "What to do first" in report
    assert "<td>not checked</td>" not in report, "every check ran on a complete demo collection"


def _result(run: Path, *errors: str | None):
    from idbridge.kit.execute import NotebookRun
    from idbridge.kit.run import RunResult

    notebooks = [NotebookRun(f"0{i}_notebook", run / f"0{i}.ipynb", None, error) for i, error in enumerate(errors)]
    return RunResult(run, run / "index.html", 0, [], notebooks, [], None)


def test_run_demo_returns_the_index_or_fails_naming_the_failed_notebook(tmp_path, monkeypatch):
    """What run_demo adds to demo_run (which the kit run above ran): the index, or an error naming each failed
    notebook, of either part, and where the output notebooks are."""
    from idbridge.errors import IdbridgeError
    from idbridge.sandbox import demo

    review, setup = _result(tmp_path / "run", None, None), _result(tmp_path / "run" / "setup", None)
    review.related = [setup]
    monkeypatch.setattr(demo, "demo_run", lambda scenario, out: review)
    assert demo.run_demo("demo", tmp_path / "run") == tmp_path / "run" / "index.html"
    setup.notebooks = _result(tmp_path, None, "KeyError: 'x'").notebooks
    with pytest.raises(IdbridgeError) as failed:
        demo.run_demo("demo", tmp_path / "run")
    assert "01_notebook: KeyError: 'x'" in str(failed.value) and str(tmp_path / "run") in str(failed.value)
