#!/usr/bin/env python3
"""Move idbridge's modules (and their tests) into the target layout and rewrite every reference to them.

    python tools/relayout.py            # from anywhere; acts on the repository this file is in
    python tools/relayout.py --dry-run  # say what would move and which files would change, change nothing

Re-runnable: a file whose old path is gone (moved already, or deleted on the tree being relaid) is skipped, a file
already at its new path is left alone, and a second run changes nothing. Uses only the standard library and git.

What it does, in order:
1. `git mv` every module of MODULES (old dotted name -> new dotted name, relative to `idbridge`) and every test
   file of TESTS that exists. A moved file's `Path(__file__).resolve().parents[N]` (and `.parent`) is adjusted by
   the change in depth, so paths computed from a file's location still point where they did.
2. The packages the moves need (lib/idbridge/... and tests/support/) get an __init__.py whose docstring opens
   with a map of its modules, one line each, from each module's own docstring (step 5); so does an empty
   __init__.py of a package that receives modules (sandbox/). An __init__.py that says something is never
   rewritten.
3. Rewrites references in lib/, tests/, tools/, benchmarks/, examples/, notebooks/*.ipynb (the cells' sources),
   docs/*.md, parameters/*.yaml, README.md, Makefile and pyproject.toml, longest old name first:
   - `from idbridge.old import x` -> `from idbridge.new import x`; `from idbridge.pkg import old` -> `from
     idbridge.newpkg import new as old` (a statement importing several names is split as needed);
   - every other dotted mention, `import idbridge.old`, "idbridge.old.name" strings (monkeypatch targets,
     importorskip, logger names), docstrings: `idbridge.old` -> `idbridge.new`. A mention followed by `.name`
     where `new package.name` is a module of the new layout is left alone: for a module that became a package
     of the same name (snapshot.py -> snapshot/store.py), `idbridge.snapshot.store` is already new. So a bare
     `idbridge.snapshot` is read as the old module: name the new packages by path (snapshot/) in prose;
   - paths: `lib/idbridge/old/path.py`, `old/path.py` relative to lib/idbridge (when it has a folder), and the
     test files' `tests/...py`;
   - the tests' shared helpers, imported by module name (`from sandbox_support import ...`, `import
     bridge_tables as bt`), become the package `support` (`from support.sandbox import ...`, `from support import
     bridge_tables as bt`): pytest puts tests/ on sys.path (tests/conftest.py, rootdir-relative, no
     tests/__init__.py), which is where `support` is found, under xdist too.
4. FIXUPS: the hand fixes the move needs beyond renaming, done here so that they are reproducible (each is a
   no-op when its pattern is absent):
   - tests/model/test_signins.py and tests/model/test_scope_model.py loaded tests/checks/bridge_tables.py by
     path (importlib / sys.path.insert): now `from support import bridge_tables`; imports left unused go;
   - tests/test_layering.py: OUTSIDE_FOR_NOW (sandbox-only modules outside sandbox/) becomes empty, as the
     modules are now under sandbox/;
   - the helpers' docstrings that said "importable as `sandbox_support`" name `support.sandbox`.
   In each Python file the rewrite changed, runs of one-line `from idbridge... import` lines are sorted by
   module again (a new name may not sort where the old one did).
5. Packages get their __init__.py last, so that the map reads the modules as rewritten.

By hand, once (not repeatable by a script, and not needed again on a merged tree that has them): README's Layout
section and the module paths named in docs/; the pre-move commits before this script (facts.py, secrets.py,
the sandbox and runbooks no longer importing across layers, aws_tables.py / saml_claims.py split out, kit_support.py)
made every move here a pure move.

Already in place before this script (kit/ holds run, execute, notebook, preflight, registry, render, index;
checks/ holds evaluate and artifact): nothing to map for them.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib"
PKG = "idbridge"

# ------------------------------------------------------------------------------------------------ the mapping

# old module -> new module, dotted, relative to idbridge. A package's __init__ is not mapped.
MODULES: dict[str, str] = {
    # core: imports nothing above it
    "parameters": "core.parameters",
    "secrets": "core.secrets",
    "yamlfile": "core.yamlfile",
    "paths": "core.paths",
    "facts": "core.facts",
    "files": "core.files",
    "vocabulary": "core.vocabulary",
    # snapshot: the contract between collection and analysis
    "snapshot": "snapshot.store",
    "collect.catalogue": "snapshot.schema",
    # saml: metadata documents, certificates, URL shapes, claims
    "metadata": "saml.metadata",
    "metadata_certs": "saml.certs",
    "metadata_compare": "saml.compare",
    "metadata_urls": "saml.urls",
    "metadata_xml": "saml.safexml",
    "saml_claims": "saml.claims",
    # history
    "history": "history.runs",
    "history_access": "history.access",
    "history_diff": "history.diff",
    "history_report": "history.report",
    # clients: building, paging, batching, pacing, retries; used by collect and runbooks alike
    "clients.graph": "clients.graph.adapter",
    "clients.graph_raw": "clients.graph.raw",
    "collect.graph_batch": "clients.graph.batch",
    "collect.graph_pacer": "clients.graph.pacer",
    "collect.graph_paging": "clients.graph.paging",
    "collect.pacing": "clients.pacing",
    "collect.aws_pacing": "clients.aws.pacing",
    "collect.aws_calls": "clients.aws.calls",
    "collect.aws_org": "clients.aws.organizations",
    # collect: one source -> the tables snapshot/schema names
    "collect.entra": "collect.entra.collectors",
    "collect.entra_app": "collect.entra.app",
    "collect.entra_frames": "collect.entra.frames",
    "collect.entra_sync": "collect.entra.sync",
    "collect.aws": "collect.aws.collectors",
    "collect.aws_trail": "collect.aws.trail",
    "collect.aws_tables": "collect.aws.tables",
    # model
    "model.access": "model.access.build",
    "model.access_activity": "model.access.activity",
    "model.access_ca": "model.access.ca",
    "model.access_columns": "model.access.columns",
    "model.access_dims": "model.access.dims",
    "model.access_hash": "model.access.hashing",
    "model.access_paths": "model.access.paths",
    "model.access_views": "model.access.views",
    "signins": "model.signins",
    "signins_people": "model.signins_people",
    # checks: the units apart from the framework
    "checks.access": "checks.rules.access",
    "checks.aws_config": "checks.rules.aws_config",
    "checks.provisioning": "checks.rules.provisioning",
    "checks.reconcile": "checks.rules.reconcile",
    "checks.saml": "checks.rules.saml",
    "checks.scim": "checks.rules.scim",
    # runbooks: the desired state inside; Plan / Change / apply shared with review and report
    "desired_state": "runbooks.desired.state",
    "desired_state_checks": "runbooks.desired.checks",
    "desired_state_policies": "runbooks.desired.policies",
    "runbooks.plan": "plan",
    # kit: the notebook generator beside the registry it shares with `idbridge run`
    "notebook_sources": "kit.notebook_sources",
    # sandbox: everything only the sandbox uses
    "demo": "sandbox.demo",
    "timeexpr": "sandbox.timeexpr",
    "runbooks.sandbox_console": "sandbox.console",
    "runbooks.sandbox_setup": "sandbox.setup_run",
    "sandbox.scim_clock": "sandbox.scim.clock",
    "sandbox.scim_cloudtrail": "sandbox.scim.cloudtrail",
    "sandbox.scim_cycle": "sandbox.scim.cycle",
    "sandbox.scim_endpoint": "sandbox.scim.endpoint",
    "sandbox.scim_jobstatus": "sandbox.scim.jobstatus",
    "sandbox.scim_logs": "sandbox.scim.logs",
    "sandbox.scim_mapping": "sandbox.scim.mapping",
    "sandbox.scim_patch": "sandbox.scim.patch",
    "sandbox.scim_resources": "sandbox.scim.resources",
    "sandbox.scim_rules": "sandbox.scim.rules",
    "sandbox.scim_scope": "sandbox.scim.scope",
    "sandbox.scim_seed": "sandbox.scim.seed",
    "sandbox.scim_state": "sandbox.scim.state",
}

# old test file -> new test file, relative to the repository. Test folders have no __init__.py (basenames stay
# unique); tests/support/ is a package of the helpers the tests share.
TESTS: dict[str, str] = {
    # the shared helpers
    "tests/sandbox_support.py": "tests/support/sandbox.py",
    "tests/kit_support.py": "tests/support/kit.py",
    "tests/checks/bridge_tables.py": "tests/support/bridge_tables.py",
    "tests/collect/aws_harness.py": "tests/support/aws_harness.py",
    "tests/sandbox/graph_harness.py": "tests/support/graph_harness.py",
    "tests/runbooks/runbook_harness.py": "tests/support/runbook_harness.py",
    "tests/review/review_tables.py": "tests/support/review_tables.py",
    # top-level tests into the folder of what they test
    "tests/test_secret_references.py": "tests/core/test_secret_references.py",
    "tests/test_inputs.py": "tests/core/test_inputs.py",
    "tests/test_snapshot.py": "tests/snapshot/test_snapshot.py",
    "tests/test_metadata.py": "tests/saml/test_metadata.py",
    "tests/test_metadata_compare.py": "tests/saml/test_metadata_compare.py",
    "tests/test_metadata_sandbox.py": "tests/saml/test_metadata_sandbox.py",
    "tests/test_history_changes.py": "tests/history/test_history_changes.py",
    "tests/test_scope_model.py": "tests/model/test_scope_model.py",
    "tests/test_signins.py": "tests/model/test_signins.py",
    "tests/test_check_catalogue.py": "tests/checks/test_check_catalogue.py",
    "tests/test_html_report.py": "tests/report/test_html_report.py",
    "tests/test_html_browser.py": "tests/report/test_html_browser.py",
    "tests/test_demo.py": "tests/sandbox/test_demo.py",
    "tests/test_run_kit.py": "tests/kit/test_run_kit.py",
    "tests/test_run_examples.py": "tests/kit/test_run_examples.py",
    "tests/test_secrets_in_runs.py": "tests/kit/test_secrets_in_runs.py",
    "tests/test_access_notebooks.py": "tests/kit/test_access_notebooks.py",
    "tests/collect/test_aws_pacing.py": "tests/clients/test_aws_pacing.py",
    "tests/sandbox/test_scim_endpoint.py": "tests/sandbox/scim/test_scim_endpoint.py",
    "tests/sandbox/test_scim_logs.py": "tests/sandbox/scim/test_scim_logs.py",
    "tests/sandbox/test_scim_mapping.py": "tests/sandbox/scim/test_scim_mapping.py",
    "tests/sandbox/test_scim_patch.py": "tests/sandbox/scim/test_scim_patch.py",
    "tests/sandbox/test_scim_rules.py": "tests/sandbox/scim/test_scim_rules.py",
}
SUPPORT = "tests/support"  # the one test package (has an __init__.py)

# Where references are rewritten (relative to the repository; globs).
PYTHON_FILES = ("lib/**/*.py", "tests/**/*.py", "tools/**/*.py", "benchmarks/**/*.py", "examples/**/*.py")
NOTEBOOK_FILES = ("notebooks/*.ipynb",)
TEXT_FILES = ("docs/*.md", "README.md", "Makefile", "pyproject.toml", "parameters/*.yaml", "examples/**/*.yaml",
              "examples/**/*.yml", "examples/**/*.sh", "examples/**/crontab")
SKIP = {"tools/relayout.py"}

# ------------------------------------------------------------------------------------------------ names


def _path_of(dotted: str) -> Path:
    return LIB / PKG / (dotted.replace(".", "/") + ".py")


def _test_module(path: str) -> str:
    """How the tests import a helper file: by basename (test folders are on sys.path), or support.<name>."""
    p = Path(path).with_suffix("")
    return ".".join(p.parts[1:]) if path.startswith(SUPPORT + "/") else p.name


OLD = {f"{PKG}.{o}": f"{PKG}.{n}" for o, n in MODULES.items()}
HELPERS = {_test_module(o): _test_module(n) for o, n in TESTS.items()
           if not Path(o).name.startswith("test_") and n.startswith(SUPPORT + "/")}


def new_modules() -> set[str]:
    """Every module and package of the new layout (the mapping's targets and their packages, and what is on disk
    now), dotted from idbridge, and the tests' support modules."""
    names = set(OLD.values()) | {f"support.{m.split('.', 1)[1]}" for m in HELPERS.values()} | {"support"}
    for target in list(names):
        parts = target.split(".")
        names |= {".".join(parts[:i]) for i in range(1, len(parts))}
    for path in (LIB / PKG).rglob("*.py"):
        parts = list(path.relative_to(LIB).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.add(".".join(parts))
    return names


# ------------------------------------------------------------------------------------------------ rewriting

_FROM = re.compile(r"^(?P<indent>[ \t]*)from[ \t]+(?P<module>[\w.]+)[ \t]+import[ \t]+"
                   r"(?P<names>\([^)]*\)|(?:[^\n\\#]|\\\n)*?)(?P<comment>[ \t]*#[^\n]*)?$", re.M)
# The same inside a string literal (code a generator writes into a notebook cell): after a quote or a \n escape.
_NAMES = r"\w+(?:[ \t]+as[ \t]+\w+)?(?:[ \t]*,[ \t]*\w+(?:[ \t]+as[ \t]+\w+)?)*"
_FROM_INLINE = re.compile(r"(?:(?<=[\"'])|(?<=\\n))(?P<indent>)from[ \t]+(?P<module>[\w.]+)[ \t]+import[ \t]+"
                          rf"(?P<names>{_NAMES})(?P<comment>)")
_IMPORT = re.compile(r"^(?P<indent>[ \t]*)import[ \t]+(?P<module>[\w.]+)(?:[ \t]+as[ \t]+(?P<alias>\w+))?"
                     r"(?P<comment>[ \t]*#[^\n]*)?$", re.M)


class Rewriter:
    def __init__(self) -> None:
        self.new = new_modules()
        self.modules = {**OLD, **HELPERS}
        olds = sorted(OLD, key=len, reverse=True)
        self._dotted = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, olds)) + r")(?![\w])")
        paths = {}
        for old, new in MODULES.items():
            paths[f"lib/{PKG}/{old.replace('.', '/')}.py"] = f"lib/{PKG}/{new.replace('.', '/')}.py"
        paths.update(TESTS)
        self._full_paths = paths
        relative = {f"{o.replace('.', '/')}.py": f"{n.replace('.', '/')}.py" for o, n in MODULES.items() if "." in o}
        self._relative = relative
        self._full_re = re.compile(r"(?<![\w/.-])(" + "|".join(map(re.escape, sorted(paths, key=len, reverse=True)))
                                   + r")(?![\w/-])")
        self._relative_re = re.compile(r"(?<![\w/.-])(" + "|".join(map(re.escape, sorted(relative, key=len,
                                                                                       reverse=True)))
                                       + r")(?![\w/-])")

    # -- the three kinds of reference
    def dotted(self, text: str) -> str:
        def replace(match: re.Match) -> str:
            old = match[1]
            rest = re.match(r"\.(\w+)", text[match.end():])
            if rest and f"{old}.{rest[1]}" in self.new:
                return old  # already a name of the new layout (old module -> package of the same name)
            return OLD[old]

        return self._dotted.sub(replace, text)

    def paths(self, text: str) -> str:
        text = self._full_re.sub(lambda m: self._full_paths[m[1]], text)
        return self._relative_re.sub(lambda m: self._relative[m[1]], text)

    def text(self, text: str) -> str:
        return self.paths(self.dotted(text))

    # -- Python: import statements first, then the rest as text
    def _from_statement(self, match: re.Match) -> str:
        module, raw = match["module"], match["names"]
        if not (module.split(".")[0] == PKG or module in self.modules):
            return match[0]
        body = raw.strip()
        if body.startswith("("):
            body = body[1:-1]
        body = body.replace("\\\n", " ")
        items = [item.strip() for item in re.split(r",", re.sub(r"#[^\n]*", "", body)) if item.strip()]
        if not items or items == ["*"]:
            return match[0]
        parsed = []
        for item in items:
            name, _, alias = (part.strip() for part in item.partition(" as "))
            parsed.append((name, alias or None))
        groups: dict[str, list[str]] = {}
        order: list[str] = []

        def add(target: str, piece: str) -> None:
            if target not in groups:
                groups[target] = []
                order.append(target)
            groups[target].append(piece)

        changed = False
        for name, alias in parsed:
            child = f"{module}.{name}"
            if child in self.modules:  # an old module imported from its package
                parent, _, leaf = self.modules[child].rpartition(".")
                local = alias or name
                add(parent, leaf if local == leaf else f"{leaf} as {local}")
                changed = True
            elif module in self.modules and child not in self.new:  # a name of an old module
                add(self.modules[module], name if not alias else f"{name} as {alias}")
                changed = True
            else:  # unchanged, or a module of the new package that has the old module's name
                add(module, name if not alias else f"{name} as {alias}")
        if not changed:
            return match[0]
        indent, comment = match["indent"], match["comment"] or ""
        if match.re is _FROM_INLINE:  # inside a string: one statement per line of the cell
            return "\\n".join(f"from {target} import {', '.join(groups[target])}" for target in order)
        return "\n".join(self._format_from(indent, target, groups[target], comment) for target in order)

    @staticmethod
    def _format_from(indent: str, module: str, names: list[str], comment: str) -> str:
        line = f"{indent}from {module} import {', '.join(names)}{comment}"
        if len(line) <= 120:
            return line
        out, current = [], f"{indent}from {module} import ("
        for i, name in enumerate(names):
            piece = name + (", " if i < len(names) - 1 else ")")
            if len(current) + len(piece) > 120:
                out.append(current.rstrip())
                current = indent + " " * (len(f"from {module} import (")) + piece
            else:
                current += piece
        out.append(current + comment)
        return "\n".join(out)

    def _import_statement(self, match: re.Match) -> str:
        module, alias = match["module"], match["alias"]
        if module not in HELPERS:
            return self.dotted(match[0])
        parent, _, leaf = HELPERS[module].rpartition(".")
        return f"{match['indent']}from {parent} import {leaf} as {alias or module}{match['comment'] or ''}"

    def python(self, text: str) -> str:
        """Any text that may hold Python: import statements (also inside string literals), then the rest."""
        pieces, last = [], 0
        spans = sorted([(m.start(), m.end(), self._from_statement(m)) for m in _FROM.finditer(text)]
                       + [(m.start(), m.end(), self._from_statement(m)) for m in _FROM_INLINE.finditer(text)]
                       + [(m.start(), m.end(), self._import_statement(m)) for m in _IMPORT.finditer(text)])
        for start, end, replacement in spans:
            if start < last:
                continue
            pieces.append(self.text(text[last:start]))
            pieces.append(self.paths(replacement))
            last = end
        pieces.append(self.text(text[last:]))
        return "".join(pieces)

    def notebook(self, text: str) -> str:
        nb = json.loads(text)
        changed = False
        for cell in nb.get("cells", []):
            source = cell.get("source", "")
            joined = "".join(source) if isinstance(source, list) else source
            new = self.python(joined)
            if new != joined:
                cell["source"] = new.splitlines(keepends=True) if isinstance(source, list) else new
                changed = True
        return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n" if changed else text


_IDBRIDGE_IMPORT = re.compile(rf"^(?P<indent>[ \t]*)from (?P<module>{PKG}(?:\.[\w.]+)?) import [^\n(\\]*$")


def sort_import_blocks(text: str) -> str:
    """Sort each run of one-line `from idbridge... import` statements (same indentation) by module, as the
    project's imports are: a rewritten module name may no longer sort where the old one did."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        match = _IDBRIDGE_IMPORT.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        j = i
        while j < len(lines) and (m := _IDBRIDGE_IMPORT.match(lines[j])) and m["indent"] == match["indent"]:
            j += 1
        out += sorted(lines[i:j], key=lambda line: _IDBRIDGE_IMPORT.match(line)["module"])
        i = j
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------ fixups


def _drop_unused_imports(text: str, names: dict[str, str]) -> str:
    """Remove import lines (name -> exact line) whose name is no longer used elsewhere in the file."""
    for name, line in names.items():
        if line in text and len(re.findall(rf"\b{re.escape(name)}\b", text.replace(line, ""))) == 0:
            text = text.replace(line, "", 1)
    return re.sub(r"\n\n\n+(?=(?:import|from) )", "\n\n", text)


def _fix_signins(text: str) -> str:
    text = re.sub(r'(def _bridge\(\):\n    """)[^\n]*(\n)    if "bridge_tables" not in sys\.modules:\n'
                  r'(?:        [^\n]*\n)+    return sys\.modules\["bridge_tables"\]\n',
                  r'\1support/bridge_tables.py: a tiny organisation as rows (alice direct, bob and carol through '
                  r'AWS-Devs)."""\n    from support import bridge_tables\n\n    return bridge_tables\n', text)
    return _drop_unused_imports(text, {"importlib": "import importlib.util\n", "sys": "import sys\n",
                                       "Path": "from pathlib import Path\n"})


def _fix_scope_model(text: str) -> str:
    if re.search(r'sys\.path\.insert\(0, str\(Path\(__file__\)[^\n]*"checks"\)\)\n', text):
        text = re.sub(r'sys\.path\.insert\(0, str\(Path\(__file__\)[^\n]*"checks"\)\)\n', "", text)
        text = text.replace("  # noqa: E402\n", "\n")  # the imports are at the top again
    return _drop_unused_imports(text, {"sys": "import sys\n", "Path": "from pathlib import Path\n"})


def _fix_layering(text: str) -> str:
    return re.sub(r"(OUTSIDE_FOR_NOW(?:: [^=]+)? = )\{[^}]*\}", r"\1set()", text)


def _fix_helper_docstrings(text: str) -> str:
    return (text.replace("(importable as `sandbox_support` from any test folder: pytest puts tests/ on the path\n"
                         "when it loads tests/conftest.py)",
                         "(importable as `support.sandbox` from any test folder: pytest puts tests/ on the path\n"
                         "when it loads tests/conftest.py)")
            .replace("the helpers they use live in sandbox_support.py (import them from there",
                     "the helpers they use live in support/sandbox.py (import them from there")
            .replace("lives beside sandbox_support.py", "lives in support/"))


FIXUPS: list[tuple[str, Callable[[str], str]]] = [
    ("tests/model/test_signins.py", _fix_signins),
    ("tests/model/test_scope_model.py", _fix_scope_model),
    ("tests/test_layering.py", _fix_layering),
    ("tests/support/sandbox.py", _fix_helper_docstrings),
    ("tests/conftest.py", _fix_helper_docstrings),
]

# ------------------------------------------------------------------------------------------------ moving


def _git(*args: str) -> None:
    subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True)


def _adjust_depth(path: Path, delta: int) -> None:
    if not delta or path.suffix != ".py":
        return
    text = path.read_text(encoding="utf-8")
    new = re.sub(r"Path\(__file__\)\.resolve\(\)\.parents\[(\d+)\]",
                 lambda m: f"Path(__file__).resolve().parents[{int(m[1]) + delta}]", text)
    new = re.sub(r"Path\(__file__\)(?:\.resolve\(\))?\.parent\b(?!s)",
                 f"Path(__file__).resolve().parents[{delta}]", new)
    if new != text:
        path.write_text(new, encoding="utf-8")


def _first_line(path: Path, width: int) -> str:
    """The module's docstring, first sentence, within `width` characters."""
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    except SyntaxError:
        doc = ""
    line = doc.strip().split("\n\n")[0].replace("\n", " ")
    line = re.split(r"[.;](?:\s|$)", line)[0].strip()
    if len(line) > width:
        line = line[:width - 1].rsplit(" ", 1)[0].rstrip(",;") + "…"
    return line


def _init_text(folder: Path, title: str) -> str:
    modules = sorted(p for p in folder.glob("*.py") if p.name != "__init__.py")
    packages = sorted(p for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    width = max([len(p.name) for p in modules] + [len(p.name) + 1 for p in packages] + [0]) + 2
    lines = [f"{p.name:<{width}}{_first_line(p, 116 - width)}" for p in modules]
    lines += [f"{p.name + '/':<{width}}{_first_line(p / '__init__.py', 116 - width)}" for p in packages]
    body = "\n".join(f"    {line}".rstrip() for line in lines)
    return f'"""{title}\n\n{body}\n"""\n'


INIT_TITLES = {
    "tests/support": "The helpers the tests share (pytest puts tests/ on sys.path: `from support.sandbox import ...`).",
    "clients": "Clients for both clouds, used by the collectors and the runbooks alike: building, paging, batching,\n"
               "pacing.",
    "core": "The core: parameters, secrets, YAML files and paths. Imports nothing of idbridge above it.",
    "snapshot": "The snapshot: the contract between collection and analysis.",
    "saml": "SAML: the metadata documents, certificates, URL shapes and claims of the bridge.",
    "history": "History of an engagement: its runs, and what changed between two of them.",
    "runbooks/desired": "The desired state of the bridge that the setup runbooks make true.",
    "clients/graph": "Microsoft Graph: the request adapter, raw JSON calls, paging, $batch and pacing.",
    "clients/aws": "AWS through boto3: paging, fan-out, CloudTrail lookups, pacing, the organisation walk.",
    "collect/entra": "The Entra ID collectors (Microsoft Graph) and the tables they write.",
    "collect/aws": "The AWS collectors (Identity Center, identity store, Organizations, CloudTrail) and their tables.",
    "model/access": "The access model: every path from an Entra user to an AWS account and permission set.",
    "checks/rules": "The check units, one module per area (the framework is in checks/).",
    "sandbox/scim": "The emulated SCIM side: Identity Center's SCIM endpoint and Entra's provisioning cycles.",
    "sandbox": "The offline sandbox: an emulated Entra tenant (graph/) and AWS organisation (aws/), seeded from a\n"
               "scenario. A product feature beside the library: it may import the library, nothing in the library\n"
               "imports it (tests/test_layering.py).",
}


def _ensure_packages(created_dirs: set[Path], dry_run: bool, log: list[str]) -> None:
    for folder in sorted(created_dirs, key=lambda p: len(p.parts), reverse=True):
        init = folder / "__init__.py"
        if init.exists() and init.read_text(encoding="utf-8").strip():
            continue  # never rewrite an __init__ that says something
        if folder.is_relative_to(ROOT / "tests") and folder != ROOT / SUPPORT:
            continue  # test folders stay plain folders
        key = folder.relative_to(LIB / PKG).as_posix() if folder.is_relative_to(LIB / PKG) else "tests/support"
        title = INIT_TITLES.get(key, f"The {key} package.")
        log.append(f"create {init.relative_to(ROOT)}")
        if not dry_run:
            init.write_text(_init_text(folder, title), encoding="utf-8")
            _git("add", str(init.relative_to(ROOT)))


def move_files(dry_run: bool, log: list[str]) -> set[Path]:
    moves = [(_path_of(o), _path_of(n)) for o, n in MODULES.items()]
    moves += [(ROOT / o, ROOT / n) for o, n in TESTS.items()]
    created: set[Path] = set()
    for src, dst in moves:
        if not src.exists():
            continue
        if dst.exists():
            log.append(f"SKIP {src.relative_to(ROOT)}: {dst.relative_to(ROOT)} exists already (merge them by hand)")
            continue
        log.append(f"git mv {src.relative_to(ROOT)} {dst.relative_to(ROOT)}")
        folder = dst.parent
        while not folder.exists() or not (folder / "__init__.py").exists():
            if folder in (LIB / PKG, ROOT / "tests") or not (folder.is_relative_to(LIB / PKG)
                                                          or folder.is_relative_to(ROOT / "tests")):
                break
            created.add(folder)
            folder = folder.parent
        if dst.parent.is_relative_to(LIB / PKG) and dst.parent != LIB / PKG:
            created.add(dst.parent)  # an empty __init__ of a package that receives modules gets its map too
        if dry_run:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        _git("mv", str(src.relative_to(ROOT)), str(dst.relative_to(ROOT)))
        _adjust_depth(dst, len(dst.relative_to(ROOT).parts) - len(src.relative_to(ROOT).parts))
    # A package of the new layout whose __init__ is missing or empty (e.g. the tree changed since an earlier run).
    for new in MODULES.values():
        folder, init = _path_of(new).parent, _path_of(new).parent / "__init__.py"
        if folder != LIB / PKG and _path_of(new).exists() and (not init.exists()
                                                               or not init.read_text(encoding="utf-8").strip()):
            created.add(folder)
    if (ROOT / SUPPORT).exists():
        created.add(ROOT / SUPPORT)
    return created


def rewrite(dry_run: bool, log: list[str]) -> None:
    rewriter = Rewriter()
    kinds = [(PYTHON_FILES, rewriter.python), (NOTEBOOK_FILES, rewriter.notebook), (TEXT_FILES, rewriter.python)]
    seen: set[Path] = set()
    for patterns, function in kinds:
        for pattern in patterns:
            for path in sorted(ROOT.glob(pattern)):
                rel = path.relative_to(ROOT).as_posix()
                if path in seen or rel in SKIP or not path.is_file() or "/." in f"/{rel}":
                    continue
                seen.add(path)
                text = path.read_text(encoding="utf-8")
                new = function(text)
                if new != text and path.suffix == ".py":
                    new = sort_import_blocks(new)
                if new != text:
                    log.append(f"rewrite {rel}")
                    if not dry_run:
                        path.write_text(new, encoding="utf-8")
    for rel, fix in FIXUPS:
        path = ROOT / rel
        if path.exists():
            text = path.read_text(encoding="utf-8")
            new = fix(text)
            if new != text:
                log.append(f"fixup {rel}")
                if not dry_run:
                    path.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    args = parser.parse_args(argv)
    log: list[str] = []
    created = move_files(args.dry_run, log)
    rewrite(args.dry_run, log)
    _ensure_packages(created, args.dry_run, log)
    print("\n".join(log) if log else "nothing to do: the tree is already in the new layout")
    return 0


if __name__ == "__main__":
    sys.exit(main())
