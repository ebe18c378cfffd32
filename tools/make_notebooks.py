"""Write the project's notebooks from their cell lists, without outputs.

Notebooks stay thin (narrative + one library call per cell); keeping their source here makes reviews of a change
read like code. Run: python tools/make_notebooks.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

PARAMETERS = '''# Parameters (papermill replaces this cell's values). Paths only: never a secret value.
params_file = "../runs/sandbox/parameters.yaml"
run_dir = "../runs/latest"'''

SNAPSHOT_PARAMETERS = PARAMETERS + '''
snapshot_dir = ""  # an existing snapshot to read; empty: collect into run_dir/snapshot first'''


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"c{index:02d}"
    return nb


def parameters_cell(source: str = PARAMETERS):
    cell = new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    return cell


PREFLIGHT = notebook([
    new_markdown_cell(
        "# Preflight: can idbridge reach both sides?\n\n"
        "One cheap read on each side of the bridge, with the identity and endpoints of the parameters file: the "
        "Entra tenant through Microsoft Graph, and AWS IAM Identity Center and Organizations through the AWS APIs. "
        "Run it before a collection: a probe that fails names the permission or endpoint to fix."),
    parameters_cell(),
    new_code_cell("from idbridge.notebook import setup\nfrom idbridge.preflight import run_preflight\n\n"
                  "params = setup(params_file)"),
    new_markdown_cell("## Probes\n\n`ok` means the read answered; the detail says what was seen."),
    new_code_cell("preflight = await run_preflight(params)\npreflight"),
])


VALIDATE = notebook([
    new_markdown_cell(
        "# Validate the Entra ID ↔ IAM Identity Center integration\n\n"
        "Does the bridge work, and what is about to break? This report checks the SAML trust, the provisioning "
        "job, Entra against Identity Center, and the SCIM pitfalls that fail users before they are provisioned. "
        "Everything is read from one snapshot; nothing is changed in either cloud. A check whose data could not "
        "be collected is shown as **not checked**, with the reason — never as a pass."),
    parameters_cell(SNAPSHOT_PARAMETERS),
    new_code_cell("from idbridge.notebook import setup\n"
                  "from idbridge.report import validation as report\n"
                  "from idbridge.report.sources import open_snapshot, sources_table\n"
                  "from idbridge.checks.settings import settings_for\n"
                  "from idbridge.validate import VALIDATION_AREAS, evaluate, write_findings\n\n"
                  "params = setup(params_file)"),
    new_code_cell("snapshot = open_snapshot(params, snapshot_dir, run_dir)\n"
                  "settings = settings_for(params, snapshot.manifest['collected_at'])\n"
                  "results = evaluate(snapshot, params, VALIDATION_AREAS)"),
    new_markdown_cell("## Summary"),
    new_code_cell("print(report.verdict(results))"),
    new_code_cell("report.summary(results)"),
    new_markdown_cell("### What to do first"),
    new_code_cell("report.first_actions(results)"),
    new_code_cell("report.findings_by_area_figure(results)"),
    new_markdown_cell("## SAML trust\n\nThe app's SAML settings against Identity Center's, and the signing "
                      "certificate AWS must hold a copy of."),
    new_code_cell("report.area_table(results, 'saml')"),
    new_code_cell("report.certificate_figure(snapshot, settings.now, params.checks.certificate_horizons_days)"),
    new_markdown_cell("## Provisioning health\n\nThe SCIM provisioning job and its recent cycles."),
    new_code_cell("report.area_table(results, 'provisioning')"),
    new_code_cell("report.provisioning_errors_figure(snapshot)"),
    new_markdown_cell("## Reconciliation: Entra ↔ Identity Center\n\nWho should be in Identity Center and is "
                      "not, who is there and should not be, and what differs."),
    new_code_cell("report.area_table(results, 'reconcile')"),
    new_markdown_cell("## SCIM pitfalls, before they fail\n\nUsers and groups that Identity Center will refuse "
                      "or that provisioning will never reach."),
    new_code_cell("report.area_table(results, 'scim')"),
    new_markdown_cell("## AWS configuration"),
    new_code_cell("report.area_table(results, 'aws')"),
    new_markdown_cell("## What was collected\n\nEvery source of the snapshot; a source not collected makes "
                      "the checks that need it *not checked*."),
    new_code_cell("sources_table(snapshot)"),
    new_code_cell("paths = write_findings(results, run_dir, stem='validation-findings')\n"
                  "print('Findings written to', paths['json'], 'and', paths['csv'])"),
])


def main() -> None:
    NOTEBOOKS.mkdir(exist_ok=True)
    for name, nb in {"00_preflight": PREFLIGHT, "10_validate_integration": VALIDATE}.items():
        nbformat.write(nb, NOTEBOOKS / f"{name}.ipynb")


if __name__ == "__main__":
    main()
