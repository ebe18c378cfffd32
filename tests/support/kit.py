"""The one kit run of a test session, shared by the tests of `idbridge run`, the HTML reports, secrets and history.

`kit_run` is the demo (setup runbooks on the `empty` sandbox, then the review notebooks on `demo`) with a secret
planted in the environment-referenced parameters. It takes a minute and a half, so it runs once per test
session, whichever xdist worker asks first; the HTML, secret and history tests read the same folder.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from pathlib import Path

SECRET_VARIABLE = "IDBRIDGE_TEST_SECRET"
REVIEW_KEY_VARIABLE = "IDBRIDGE_TEST_REVIEW_KEY"  # review.signing_key: packs signed with a planted key
ENGAGEMENT = "kit-test"


def _shared_root(tmp_path_factory) -> Path:
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def kit_run(tmp_path_factory) -> dict:
    """{run_dir, setup_dir, run_root, secret, scim_token, exit_code, setup_exit_code, seconds} of the one demo
    run of this session (built under a file lock by the first worker that needs it)."""
    root = _shared_root(tmp_path_factory)
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
