"""Run notebooks headless with papermill's Python API and render them to HTML without code."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import nbformat
import papermill
from nbconvert import HTMLExporter

from idbridge.paths import NOTEBOOKS_DIR

log = logging.getLogger(__name__)


@dataclass
class NotebookRun:
    name: str
    output: Path
    html: Path | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def execute(name: str, parameters: dict, out_dir: Path, cwd: Path) -> NotebookRun:
    """Execute notebooks/<name>.ipynb into out_dir/notebooks/. Only paths are passed as parameters: papermill
    copies parameters into the output notebook, so no value in them may be a secret."""
    source = NOTEBOOKS_DIR / f"{name}.ipynb"
    output = out_dir / "notebooks" / f"{name}.ipynb"
    output.parent.mkdir(parents=True, exist_ok=True)
    error = None
    try:
        papermill.execute_notebook(str(source), str(output), parameters=parameters, kernel_name="python3",
                                   progress_bar=False, cwd=str(cwd), log_output=False)
    except papermill.PapermillExecutionError as exc:
        # papermill still writes the output notebook, with the failing cell marked: keep it as the record.
        error = f"{exc.ename}: {exc.evalue}"
        log.error("notebook %s failed: %s", name, error)
    html = render_html(output, out_dir / "reports" / f"{name}.html")
    return NotebookRun(name, output, html, error)


def render_html(notebook_path: Path, html_path: Path) -> Path:
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(notebook_path, as_version=4))
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    return html_path
