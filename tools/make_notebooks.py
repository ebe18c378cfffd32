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
params_file = "../parameters/demo.yaml"
run_dir = "../runs/latest"'''


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"c{index:02d}"
    return nb


def parameters_cell():
    cell = new_code_cell(PARAMETERS)
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


def main() -> None:
    NOTEBOOKS.mkdir(exist_ok=True)
    for name, nb in {"00_preflight": PREFLIGHT}.items():
        nbformat.write(nb, NOTEBOOKS / f"{name}.ipynb")


if __name__ == "__main__":
    main()
