"""The one kit run of a test session, shared by the tests of `idbridge run`, the HTML reports, secrets and history;
and the kit without kernels, for the tests of what `idbridge run` does around its notebooks.

`kit_run` is the demo (setup runbooks on the `empty` sandbox, then the review notebooks on `demo`) with a secret
planted in the environment-referenced parameters. It takes a minute and a half, so it runs once per test
session, whichever xdist worker asks first; the HTML, secret, history, demo and runbook tests read the same folder.

`without_notebooks` replaces the kit's notebooks with a stand-in that records what each was given, and
`unreachable_parameters` writes parameters that reach nothing and collect one source: for the tests of run
folders and of what the runner hands a notebook, which are not about the notebooks themselves.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from pathlib import Path

import yaml

SECRET_VARIABLE = "IDBRIDGE_TEST_SECRET"
REVIEW_KEY_VARIABLE = "IDBRIDGE_TEST_REVIEW_KEY"  # review.signing_key: packs signed with a planted key
ENGAGEMENT = "kit-test"


def kit_run(tmp_path_factory) -> dict:
    """{run_dir, setup_dir, run_root, secret, scim_token, exit_code, setup_exit_code, seconds} of the one demo
    run of this session (built under a file lock by the first worker that needs it)."""
    from support.sandbox import shared_root

    root = shared_root(tmp_path_factory)
    with open(root / "idbridge-kit-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = root / "idbridge-kit-run.json"
        if not record.exists():
            record.write_text(json.dumps(_build_kit_run(root / "idbridge-kit-run")), encoding="utf-8")
        return json.loads(record.read_text(encoding="utf-8"))


def _build_kit_run(base: Path) -> dict:
    import time

    from idbridge.sandbox import derived
    from idbridge.sandbox.demo import demo_run
    from idbridge.sandbox.scenario import load_scenario, resolve_scenario_path

    secret = "planted-" + secrets.token_hex(16)
    review_key = "planted-review-" + secrets.token_hex(16)
    os.environ[SECRET_VARIABLE] = secret  # the kernels inherit it, as they would a real credential's
    os.environ[REVIEW_KEY_VARIABLE] = review_key
    started = time.monotonic()
    try:
        result = demo_run("demo", base / "runs" / ENGAGEMENT / "20260101T000000Z",
                          parameters={"run_root": str(base / "runs"), "engagement": ENGAGEMENT,
                                      "graph": {"certificate_password": f"env:{SECRET_VARIABLE}"},
                                      "review": {"signing_key": f"env:{REVIEW_KEY_VARIABLE}"}})
    finally:
        os.environ.pop(SECRET_VARIABLE, None)
        os.environ.pop(REVIEW_KEY_VARIABLE, None)
    setup = result.related[0] if result.related else None
    return {"run_dir": str(result.run_dir), "setup_dir": str(setup.run_dir) if setup else None,
            "run_root": str(base / "runs"), "secret": secret, "review_key": review_key,
            "scim_token": derived.scim_token(load_scenario(resolve_scenario_path("empty"))),
            "exit_code": result.exit_code, "setup_exit_code": setup.exit_code if setup else None,
            "failed": [f"{r.name}: {r.error}" for run in [result, *result.related] for r in run.notebooks
                       if not r.ok],
            "seconds": round(time.monotonic() - started, 1)}


# --------------------------------------------------------------------------------------- the kit without kernels
class NoKernels:
    """Stands in for kit.execute.KernelPool: no kernel is started."""

    def __init__(self, cwd=None):
        pass

    def prepare(self, source):
        return None

    def take(self, pending):
        return None

    def release(self, km):
        pass

    def close(self):
        pass


def without_notebooks(monkeypatch) -> dict[str, dict]:
    """`idbridge run` with every notebook replaced by a stand-in that succeeds at once; returns notebook name ->
    the parameters the runner gave it (filled in as the run goes)."""
    from idbridge.kit import run as kit
    from idbridge.kit.execute import NotebookRun

    given: dict[str, dict] = {}

    def stand_in(name, parameters, out_dir, cwd, *, source=None, secrets=(), title="", kernel=None):
        given[name] = dict(parameters)
        return NotebookRun(name, out_dir / "notebooks" / f"{name}.ipynb", None, None, None, 0.0, title or name)

    monkeypatch.setattr(kit, "KernelPool", NoKernels)
    monkeypatch.setattr(kit, "execute", stand_in)
    return given


def unreachable_parameters(folder: Path, engagement: str | None = None, *,
                           sources: tuple[str, ...] | None = ("entra.tenant",), **updates) -> Path:
    """parameters/sandbox.yaml pointed at a port nothing listens on (every probe and source fails at once, as with
    no network), with its run root in `folder`; `engagement` None keeps the file's; `sources` None collects every
    source, else only those; `updates` replace top-level keys, or update sections given as dicts. Written to
    `folder`/<engagement or "unreachable">.yaml."""
    from idbridge.core.paths import PARAMETERS_DIR

    document = yaml.safe_load((PARAMETERS_DIR / "sandbox.yaml").read_text(encoding="utf-8"))
    closed = "http://127.0.0.1:9"
    document["graph"]["base_url"] = f"{closed}/v1.0"
    document["graph"]["token_url"] = f"{closed}/{document['graph']['tenant_id']}/oauth2/v2.0/token"
    document["aws"]["endpoint_url"] = closed
    document["run_root"] = str(folder / "runs")
    if engagement is not None:
        document["engagement"] = engagement
    if sources is not None:
        document["collection"] = {"sources": list(sources)}
    for key, value in updates.items():
        document[key] = {**document.get(key, {}), **value} if isinstance(value, dict) else value
    path = folder / f"{engagement or 'unreachable'}.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path
