"""Run one notebook headless with papermill's Python API, keep it as the audit record, render it to HTML.

papermill copies its parameters into the output notebook twice (the `injected-parameters` cell and
`metadata.papermill.parameters`), so only paths are ever passed. As a second line of defence every secret value
the run resolved is searched for in the output notebook (outputs, tracebacks, metadata) and redacted before the
notebook is rendered or kept.
"""

from __future__ import annotations

import ast
import asyncio
import json
import logging
import os
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import papermill

from idbridge.core.paths import NOTEBOOKS_DIR
from idbridge.kit.render import render_report
from idbridge.core.files import naming, storage_error, write_text_atomic
# Redaction lives with the secrets; these names stay importable from here.
from idbridge.core.secrets import redact_file_text, redact_text

log = logging.getLogger(__name__)


@dataclass
class NotebookRun:
    name: str
    output: Path
    html: Path | None
    error: str | None = None
    error_name: str | None = None
    seconds: float = 0.0
    title: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


def declared_parameters(source: Path) -> set[str]:
    """The names in the notebook's `parameters` cell: a notebook is given only what it declares."""
    return set(papermill.inspect_notebook(str(source)))


def execute(name: str, parameters: dict, out_dir: Path, cwd: Path, *, source: Path | None = None,
            secrets: list[str] = (), title: str = "", kernel=None) -> NotebookRun:
    """Execute notebooks/<name>.ipynb into out_dir/notebooks/ and render out_dir/reports/<name>.html.
    `kernel`: a kernel manager already started (KernelPool, in its own working folder); else papermill starts
    one in `cwd`."""
    source = source or NOTEBOOKS_DIR / f"{name}.ipynb"
    output = out_dir / "notebooks" / f"{name}.ipynb"
    output.parent.mkdir(parents=True, exist_ok=True)
    # papermill writes the notebook itself, several times: into a temporary file beside it, put in place (redacted)
    # only once written whole, so that a full disk or a killed run never leaves a truncated notebook.
    partial = output.with_name(f".{output.stem}.{os.getpid()}.partial.ipynb")
    error = error_name = None
    started = time.monotonic()
    try:
        try:
            # request_save_on_cell_execute=False: papermill would otherwise rewrite the whole notebook (5 MB once
            # plotly.js is in it) at every cell; the notebook is written once at the end, failed or not.
            where = {"km": kernel, "engine_name": _ENGINE} if kernel is not None else {"cwd": str(cwd)}
            papermill.execute_notebook(str(source), str(partial), parameters=parameters, kernel_name="python3",
                                       progress_bar=False, log_output=False, request_save_on_cell_execute=False,
                                       **where)
        except papermill.PapermillExecutionError as exc:
            # papermill still writes the output notebook, with the failing cell marked: keep it as the record.
            error, error_name = f"{exc.ename}: {exc.evalue}", exc.ename
        except Exception as exc:  # the kernel died or would not start: there may be no output notebook at all
            if failed := storage_error(exc):  # the disk, not the notebook: the run stops (exit 3)
                raise naming(failed, output) from exc
            error, error_name = f"{type(exc).__name__}: {exc}", type(exc).__name__
        if partial.exists():
            _put_in_place(partial, output, secrets)
    finally:
        partial.unlink(missing_ok=True)
    seconds = round(time.monotonic() - started, 1)
    if error:
        log.error("notebook %s failed after %.1f s: %s", name, seconds, redact_text(error, secrets))
        error = redact_text(error, secrets)
    html = None
    if output.exists():
        html = render_report(output, out_dir / "reports" / f"{name}.html", title=title or name)
    return NotebookRun(name, output, html, error, error_name, seconds, title or name)


def _put_in_place(partial: Path, output: Path, secrets: list[str]) -> None:
    """The executed notebook, redacted, written atomically where it belongs; papermill's record of where it
    wrote it names the notebook, not the temporary file."""
    text = partial.read_text(encoding="utf-8")
    text = text.replace(json.dumps(str(partial))[1:-1], json.dumps(str(output))[1:-1])
    text, redacted = redact_file_text(text, secrets)
    if redacted:
        log.warning("%s held a secret value: redacted", output)
    write_text_atomic(output, text)


# ---------------------------------------------------------------------------------------------------- kernels
_ENGINE = "idbridge-prepared-kernel"


def _register_engine() -> None:
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class PreparedKernelEngine(NBClientEngine):
        """papermill's nbclient engine for a kernel it did not start: nbclient leaves its client of such a
        kernel connected (sockets and a heartbeat thread per notebook); this one disconnects it at the end."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
            for unused in ("input_path", "timeout", "startup_timeout"):
                kwargs.pop(unused, None)
            client = PapermillNotebookClient(nb_man, timeout=execution_timeout, startup_timeout=start_timeout,
                                             kernel_name=kernel_name, log=logging.getLogger("papermill"),
                                             log_output=log_output, stdout_file=stdout_file,
                                             stderr_file=stderr_file, **kwargs)
            try:
                return client.execute()
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()

    papermill_engines.register(_ENGINE, PreparedKernelEngine)


_register_engine()

def imported_modules(source: Path) -> list[str]:
    """Top-level modules a notebook's code cells import (what a warm kernel should have loaded already)."""
    import nbformat

    names: list[str] = ["pandas", "nbformat", "plotly.io", "plotly.graph_objects"]
    for cell in nbformat.read(source, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # top-level await and magics: the cell is simply not scanned
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
    return list(dict.fromkeys(names))


class KernelPool:
    """Starts the kernel of the next notebook, and imports what that notebook imports, while the current one
    runs. A kernel costs ~1.5 s to start and the kit's imports ~5 s more (plotly -> nbformat -> jsonschema
    builds a grammar at import): on two cores that time overlaps the previous notebook instead of adding up.
    The kernel runs only that notebook and is shut down after it; state is never shared between notebooks."""

    def __init__(self, cwd: Path):
        import tempfile

        self.cwd = cwd
        # Kernels talk over Unix sockets in a private folder: over TCP without keys ipykernel warns on every
        # start, and any local user could connect.
        self._sockets = tempfile.TemporaryDirectory(prefix="idbridge-kernels-")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="idbridge-kernels", daemon=True)
        self._thread.start()
        self._open: list[tuple[Future, Path]] = []
        self._count = 0

    def prepare(self, source: Path) -> Future:
        """A kernel for this notebook, starting now (or the one already being prepared for it)."""
        for future, prepared_for in self._open:
            if prepared_for == source:
                return future
        future = asyncio.run_coroutine_threadsafe(self._start(imported_modules(source)), self._loop)
        self._open.append((future, source))
        return future

    async def _start(self, modules: list[str]):
        from jupyter_client.manager import AsyncKernelManager

        # A socket prefix per kernel: two kernels starting at once would otherwise pick the same socket files.
        self._count += 1
        km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=f"{self._sockets.name}/k{self._count}")
        await km.start_kernel(cwd=str(self.cwd))
        client = km.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            code = ("import importlib\nfor _m in %r:\n    try:\n        importlib.import_module(_m)\n"
                    "    except Exception:\n        pass\ndel _m, importlib" % (modules,))
            await client.execute_interactive(code, silent=True, store_history=False, timeout=120)
        finally:
            client.stop_channels()
        return km

    def take(self, pending: Future | None):
        """The prepared kernel manager, or None (papermill then starts its own) if preparing it failed."""
        if pending is None:
            return None
        self._open = [(f, s) for f, s in self._open if f is not pending]
        try:
            return pending.result(timeout=180)
        except Exception as exc:
            log.warning("could not start a kernel ahead (%s): papermill starts one", exc)
            return None

    def release(self, km) -> None:
        if km is not None:
            future = asyncio.run_coroutine_threadsafe(km.shutdown_kernel(now=True), self._loop)
            try:
                future.result(timeout=30)
            except Exception as exc:
                log.debug("kernel shutdown: %s", exc)

    def close(self) -> None:
        """Shut down kernels prepared but never taken (a run that stopped early), then the loop."""
        for pending, _source in list(self._open):
            self.release(self.take(pending))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._sockets.cleanup()
