"""The README's main command, end to end: sandbox up, notebooks headless through papermill, HTML reports."""

import nbformat
import pytest

from idbridge.sandbox.demo import run_demo


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "run"
    return run_demo("demo", out), out


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
    import json

    _, run = demo_run
    findings = json.loads((run / "findings.json").read_text())["findings"]
    assert {f["check_id"] for f in findings} >= {"saml.certificate_expiry", "scim.nested_group_only"}
    report = (run / "reports" / "10_validate_integration.html").read_text()
    assert "What to do first" in report
    assert "<td>not checked</td>" not in report, "every check ran on a complete demo collection"
