"""The library's imports keep its shape: the sandbox sealed off, no import circles, data flowing one way.

Every module under lib/idbridge is parsed (ast): module-level imports, imports inside functions, and imports under
`if TYPE_CHECKING:` (a circle of type names is still a circle for the reader). `from package import name` counts as
an import of the submodule when `name` is one, else of the package.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path

LIB = Path(__file__).resolve().parents[1] / "lib"
PACKAGE = "idbridge"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(LIB).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((LIB / PACKAGE).rglob("*.py"))}


def _known(name: str) -> str | None:
    """The module a dotted name refers to: itself, or the longest prefix that is a module of the library."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


@cache
def imports() -> dict[str, dict[str, int]]:
    """module -> {imported library module: first line}"""
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules().items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: dict[str, int] = {}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    origin = ".".join(base + ([node.module] if node.module else []))
                else:
                    origin = node.module or ""
                targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in modules() else origin for a in node.names]
            for target in targets:
                module = _known(target) if target.split(".")[0] == PACKAGE else None
                if module and module != name:
                    found.setdefault(module, node.lineno)
        graph[name] = found
    return graph


def _where(importer: str, imported: str) -> str:
    path = modules()[importer].relative_to(LIB.parent)
    return f"{path}:{imports()[importer][imported]}: {importer} imports {imported}"


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# ------------------------------------------------------------------------------------------------- the sandbox

SANDBOX = f"{PACKAGE}.sandbox"
SANDBOX_USERS = {f"{PACKAGE}.cli"}  # the front door starts the sandbox (lazily: see test_production_imports_...)
# Sandbox-only code still outside sandbox/: part of the sandbox here (tools/relayout.py moves it in; then this set
# is empty).
OUTSIDE_FOR_NOW = set()


def in_sandbox(module: str) -> bool:
    return _inside(module, SANDBOX) or module in OUTSIDE_FOR_NOW


def test_nothing_outside_the_sandbox_imports_it():
    offenders = [_where(m, t) for m, targets in imports().items() for t in targets
                 if in_sandbox(t) and not in_sandbox(m) and m not in SANDBOX_USERS]
    assert not offenders, "the library imports the sandbox (move the shared fact into the library):\n" + \
        "\n".join(offenders)
    stale = sorted(m for m in OUTSIDE_FOR_NOW if m not in modules() or _inside(m, SANDBOX))
    assert not stale, f"remove from OUTSIDE_FOR_NOW: {stale}"


def test_production_imports_load_neither_moto_nor_flask():
    """The sandbox's dependencies are an extra (pip install 'idbridge[sandbox]'): what a real engagement imports
    must not need them."""
    production = ["idbridge.cli", "idbridge.collect.run", "idbridge.checks.evaluate", "idbridge.checks.artifact",
                  "idbridge.kit.run", "idbridge.kit.preflight", "idbridge.kit.index",
                  "idbridge.checks", "idbridge.report.access", "idbridge.report.validation",
                  "idbridge.report.signins", "idbridge.report.decisions", "idbridge.review",
                  "idbridge.runbooks.saml", "idbridge.runbooks.provisioning", "idbridge.runbooks.aws_access",
                  "idbridge.runbooks.aws_apply", "idbridge.runbooks.checkpoints", "idbridge.runbooks.context"]
    code = textwrap.dedent(f"""
        import importlib, sys
        for name in {production!r}:
            importlib.import_module(name)
        import idbridge.checks
        idbridge.checks.load_all()
        print(sorted(m for m in ("moto", "flask", "flask_cors", "werkzeug") if m in sys.modules))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={**__import__("os").environ, "PYTHONPATH": str(LIB)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"loaded by production imports: {result.stdout.strip()}"


# ------------------------------------------------------------------------------------------------- circles

# Import circles tolerated for now, each as the sorted tuple of its modules (none: keep it so).
ALLOWED_CIRCLES: set[tuple[str, ...]] = set()


def _circles(edges: dict[str, dict[str, int]] | None = None) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    graph = {m: sorted(t) for m, t in (imports() if edges is None else edges).items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for j in range(i, len(graph[node])):
                nxt = graph[node][j]
                if nxt not in index:
                    work.append((node, j + 1))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_no_import_circles():
    circles = [c for c in _circles() if tuple(c) not in ALLOWED_CIRCLES]
    lines = []
    for circle in circles:
        lines.append("circle: " + ", ".join(circle))
        lines += ["    " + _where(m, t) for m in circle for t in imports()[m] if t in circle]
    assert not circles, "\n".join(lines)
    stale = ALLOWED_CIRCLES - {tuple(c) for c in _circles()}
    assert not stale, f"remove from ALLOWED_CIRCLES: {sorted(stale)}"


def test_the_circle_finder_finds_circles():
    graph = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}, "e": {"e": 1}}
    assert _circles(graph) == [["a", "b", "c"]]


# ------------------------------------------------------------------------------------------------- layers

# Lowest first: a module imports modules of its own layer or of a lower one. Prefixes are relative to idbridge;
# the names of the flat layout (before tools/relayout.py) and of the packages after it are both listed.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("core", ("core", "errors", "parameters", "secrets", "yamlfile", "paths", "facts", "files", "vocabulary")),
    ("saml", ("saml", "metadata", "metadata_certs", "metadata_compare", "metadata_urls", "metadata_xml",
              "saml_claims")),
    ("snapshot", ("snapshot", "collect.catalogue")),
    ("clients", ("clients", "collect.aws_calls", "collect.aws_pacing", "collect.aws_org", "collect.graph_batch",
                 "collect.graph_pacer", "collect.graph_paging", "collect.pacing")),
    ("collect", ("collect",)),
    ("model", ("model", "signins", "signins_people")),
    ("checks", ("checks", "validate")),
    ("report/review/runbooks", ("report", "review", "runbooks", "exports", "history", "history_access",
                                "history_diff", "history_report", "desired_state", "desired_state_checks", "desired_state_policies",
                                "plan")),
    ("kit", ("kit", "run", "runner", "notebook", "notebook_sources", "preflight")),
    ("cli", ("cli",)),
]
# The sandbox stands beside the layers: it may import anything, and nothing imports it (test above).

# Known violations, "importer -> imported" (the lead shrinks this list; a fixed one must be removed from it).
ALLOWED_VIOLATIONS: set[str] = {
    # CollectionParams validates source names against the catalogue (function-level import).
    "idbridge.core.parameters -> idbridge.snapshot.schema",
}


def layer_of(module: str) -> int | None:
    if module == PACKAGE or in_sandbox(module):
        return None
    relative = module.removeprefix(PACKAGE + ".")
    best = max(((len(prefix), rank) for rank, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes
                if relative == prefix or relative.startswith(prefix + ".")), default=None)
    return None if best is None else best[1]


def test_every_module_has_a_layer():
    missing = [m for m in modules() if layer_of(m) is None and not in_sandbox(m) and m != PACKAGE]
    assert not missing, f"give these modules a layer in LAYERS: {missing}"


def _violations() -> dict[str, str]:
    found = {}
    for module, targets in imports().items():
        low = layer_of(module)
        for target in targets:
            high = layer_of(target)
            if low is not None and high is not None and high > low:
                found[f"{module} -> {target}"] = (f"{_where(module, target)}  "
                                                  f"({LAYERS[low][0]} imports {LAYERS[high][0]})")
    return found


def test_imports_go_down_the_layers():
    found = _violations()
    new = sorted(k for k in found if k not in ALLOWED_VIOLATIONS)
    assert not new, "imports against the layer order " + " -> ".join(n for n, _ in LAYERS) + ":\n" + \
        "\n".join(found[k] for k in new)
    stale = sorted(ALLOWED_VIOLATIONS - set(found))
    assert not stale, f"fixed: remove from ALLOWED_VIOLATIONS: {stale}"
