"""The README's main command, end to end: sandbox up, notebooks headless through papermill, HTML reports."""

import nbformat
import pytest

from idbridge.demo import run_demo


@pytest.mark.notebook
def test_demo_runs_preflight_against_the_sandbox(tmp_path):
    index = run_demo("demo", tmp_path / "run")
    assert index.exists()
    output = nbformat.read(tmp_path / "run" / "notebooks" / "00_preflight.ipynb", as_version=4)
    html_table = "".join(o.get("data", {}).get("text/html", "") for c in output.cells if c.cell_type == "code"
                         for o in c.get("outputs", []))
    assert html_table.count("<td>ok</td>") == 8 and "FAILED" not in html_table
    report = (tmp_path / "run" / "reports" / "00_preflight.html").read_text()
    assert "Northwind Analytics" in report
    assert "params_file" not in report, "reports carry no code"
