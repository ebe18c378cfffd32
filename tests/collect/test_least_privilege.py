"""Every API operation a whole collection uses is in docs/permissions.md and is a read."""

from __future__ import annotations

import json
import re

import pytest
from support.sandbox import ROOT, running_sandbox, sandbox_parameters

from idbridge.collect.run import collect
from idbridge.snapshot.store import Snapshot

pytestmark = pytest.mark.integration
IAM_PREFIX = {"sso-admin": "sso", "identitystore": "identitystore", "organizations": "organizations",
              "cloudtrail": "cloudtrail"}
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}
READ_VERBS = ("List", "Describe", "Get", "Lookup", "Is")


def documented_graph_requests() -> set[str]:
    text = (ROOT / "docs" / "permissions.md").read_text()
    return set(re.findall(r"^\| `((?:GET|POST) [^`]+)` \|", text, flags=re.M))


def policy_actions() -> set[str]:
    policy = json.loads((ROOT / "docs" / "policies" / "idbridge-audit-aws.json").read_text())
    return {a for statement in policy["Statement"] if statement["Effect"] == "Allow" for a in statement["Action"]}


def test_policy_itself_is_read_only():
    for action in policy_actions():
        assert action.split(":")[1].startswith(READ_VERBS), action


def test_a_whole_collection_uses_only_documented_read_operations(tmp_path):
    box = running_sandbox("demo")
    try:
        snap = Snapshot(collect(sandbox_parameters(box), tmp_path / "snap"))
        server_side = box.aws_calls
    finally:
        box.stop()
    used = snap.manifest["api_calls"]
    graph = {key.removeprefix("graph:") for key in used if key.startswith("graph:")}
    # moto's server also saw the calls; STS speaks the query protocol, which its counter cannot name.
    aws = {key for key in used if not key.startswith("graph:")} | {
        key for key in server_side if key.split(":")[0] in IAM_PREFIX}
    assert graph and aws

    undocumented = graph - documented_graph_requests()
    assert not undocumented, f"Graph requests missing from docs/permissions.md: {sorted(undocumented)}"
    writes = {r for r in graph if not r.startswith("GET ") and r != "POST /$batch"}
    assert not writes, f"the collection must only read Graph: {sorted(writes)}"

    actions = policy_actions()
    for operation in sorted(aws - NEEDS_NO_PERMISSION):
        service, name = operation.split(":")
        action = f"{IAM_PREFIX[service]}:{name}"
        assert action in actions, f"{operation} is used but {action} is not in the audit policy"
        assert name.startswith(READ_VERBS), f"{operation} is not a read"
