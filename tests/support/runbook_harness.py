"""Shared by the runbook tests: a runbook on the sandbox's empty scenario, the console's part, and a fingerprint of
the sandbox's state (to prove a dry run wrote nothing)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from idbridge.core.parameters import load_parameters
from idbridge.runbooks.context import Runbook, open_runbook
from idbridge.sandbox import console
from idbridge.sandbox import derived
from idbridge.sandbox.setup_run import write_desired_state
from support import sandbox as sandbox_support
from support.sandbox import running_sandbox

console.load_aws_managed_policies()  # before moto's IAM is first used in this process


WRITE_PREFIXES = ("Create", "Update", "Delete", "Put", "Attach", "Detach", "Provision", "Tag", "Untag")


def empty_sandbox():
    return running_sandbox("empty")


def open_for(box, run_dir: Path, *, apply: bool, allow_removals: bool = False, edit=None) -> Runbook:
    """A runbook on `box` with the demo desired state (edited by `edit(doc)` if given)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    params_file = run_dir / "parameters.yaml"
    if not params_file.exists():
        box.write_parameters(params_file)
    desired = write_desired_state(box, run_dir, apply=apply, allow_removals=allow_removals)
    if edit is not None:
        doc = yaml.safe_load(desired.read_text())
        edit(doc)
        desired.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return open_runbook(load_parameters(params_file), desired, run_dir)


def scim_env(monkeypatch, box) -> str:
    token = derived.scim_token(box.scenario)
    monkeypatch.setenv("IDBRIDGE_SCIM_ENDPOINT", derived.scim_endpoint(box.scenario))
    monkeypatch.setenv("IDBRIDGE_SCIM_TOKEN", token)
    return token


def do_console_steps(box, run_dir: Path) -> None:
    console.change_identity_source(box, run_dir / "entra-federation-metadata.xml")
    console.enable_automatic_provisioning(box)


def fingerprint(box) -> str:
    """Everything the runbooks could write, on both sides, as text."""
    graph = box.world.graph
    aws = box.world.aws
    sso = aws.sso
    from moto.ssoadmin.models import ssoadmin_backends

    backend = ssoadmin_backends[aws.account_id][aws.region]
    sets = sorted((p.name, p.session_duration, sorted(m.arn for m in p.managed_policies), p.inline_policy,
                   str(getattr(p, "permissions_boundary", None))) for p in backend.permission_sets)
    state = {
        "graph": {k: getattr(graph, k) for k in ("applications", "service_principals", "app_role_assignments",
                                                 "claims_policies", "sync_jobs", "sync_secrets", "sync_schemas")},
        "signing_keys": {k: [key.thumbprint for key in v] for k, v in graph.signing_keys.items()},
        "provisioning_logs": len(graph.provisioning_logs),
        "permission_sets": sets,
        "assignments": sorted(map(str, sso.assignments)),
        "provisioned": sso.provisioned, "requests": [len(sso.ps_requests), len(sso.creations), len(sso.deletions)],
        "identity_store": [len(aws.identity_store.data.users), len(aws.identity_store.data.groups)],
        "cloudtrail": len(aws.cloudtrail),
    }
    return json.dumps(state, sort_keys=True, default=str)


def aws_writes(box) -> dict[str, int]:
    return {k: v for k, v in box.aws_calls.items() if k.split(":", 1)[-1].startswith(WRITE_PREFIXES)}


def change_log(run_dir: Path) -> list[dict]:
    path = run_dir / "changes.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
