"""The README's main command: the kit on the sandbox, end to end."""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path

from idbridge.errors import IdbridgeError
from idbridge.runner import NotebookRun, execute
from idbridge.sandbox.server import Sandbox

DEMO_NOTEBOOKS = ["00_preflight", "10_validate_integration"]


def _write_index(out_dir: Path, scenario: str, runs: list[NotebookRun]) -> Path:
    rows = "\n".join(
        f"<tr><td><a href='{html.escape(str(r.html.relative_to(out_dir)))}'>{html.escape(r.name)}</a></td>"
        f"<td>{'ok' if r.ok else 'failed: ' + html.escape(r.error or '')}</td></tr>"
        for r in runs if r.html)
    index = out_dir / "index.html"
    index.write_text(
        "<!doctype html><meta charset='utf-8'><title>idbridge run</title>"
        f"<h1>idbridge run on the sandbox ({html.escape(scenario)})</h1>"
        f"<p>{datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}</p>"
        f"<table><tr><th>report</th><th>status</th></tr>{rows}</table>", encoding="utf-8")
    return index


def run_demo(scenario: str = "demo", out_dir: Path | None = None) -> Path:
    out_dir = (out_dir or Path("runs") / f"demo-{datetime.now():%Y%m%d-%H%M%S}").resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    with Sandbox.from_file(scenario) as box:
        params_file = box.write_parameters(out_dir / "parameters.yaml")
        runs = [execute(name, {"params_file": str(params_file), "run_dir": str(out_dir)}, out_dir, out_dir)
                for name in DEMO_NOTEBOOKS]
    index = _write_index(out_dir, scenario, runs)
    failed = [r for r in runs if not r.ok]
    if failed:
        raise IdbridgeError("notebook(s) failed: " + "; ".join(f"{r.name}: {r.error}" for r in failed)
                            + f" (output notebooks kept in {out_dir / 'notebooks'})")
    return index
