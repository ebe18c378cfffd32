"""Preflight: can idbridge reach both sides with these parameters, and what does it see there?

Each probe is one cheap read through the same clients the collectors use. A probe that fails says why, so a
consultant can fix permissions or endpoints before a long collection.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from idbridge.clients.factory import AWS_PROBE_CONFIG, aws_client, aws_session, graph_adapter
from idbridge.clients.graph.raw import get_json, odata_error_code
from idbridge.core.parameters import Parameters
from idbridge.errors import EXIT_NOT_COLLECTED, IdbridgeError


@dataclass
class Probe:
    side: str
    probe: str
    ok: bool
    detail: str


async def _graph_probes(params: Parameters) -> list[Probe]:
    adapter = graph_adapter(params)
    probes: list[Probe] = []

    async def probe(name: str, path: str, describe, **kwargs) -> dict | None:
        try:
            body = await get_json(adapter, path, **kwargs)
        except Exception as exc:  # every failure is reported, none is fatal here
            status, code, message = odata_error_code(exc)
            probes.append(Probe("Entra", name, False, f"{status or ''} {code or ''} {message}".strip()))
            return None
        probes.append(Probe("Entra", name, True, describe(body)))
        return body

    await probe("tenant", "/organization", lambda b: ", ".join(
        f"{o.get('displayName')} ({o.get('id')})" for o in b.get("value", [])))
    await probe("users", "/users", lambda b: f"{b.get('@odata.count')} users",
                params={"$count": "true", "$top": "1", "$select": "id"}, headers={"ConsistencyLevel": "eventual"})
    await probe("groups", "/groups", lambda b: f"{b.get('@odata.count')} groups",
                params={"$count": "true", "$top": "1", "$select": "id"}, headers={"ConsistencyLevel": "eventual"})
    name = params.app.display_name.replace("'", "''")
    await probe("AWS app", "/servicePrincipals", lambda b: (
        f"service principal {b['value'][0]['id']} (appId {b['value'][0]['appId']})" if b.get("value")
        else f"no service principal named {params.app.display_name!r} yet"),
        params={"$filter": f"displayName eq '{name}'", "$select": "id,appId,displayName"})
    return probes


def _aws_probes(params: Parameters) -> list[Probe]:
    probes: list[Probe] = []
    try:
        session = aws_session(params)
    except Exception as exc:
        return [Probe("AWS", "credentials", False, str(exc))]

    def client(service: str):
        return aws_client(session, service, params, config=AWS_PROBE_CONFIG)

    def probe(name: str, call, describe) -> dict | None:
        try:
            body = call()
        except Exception as exc:
            probes.append(Probe("AWS", name, False, str(exc)))
            return None
        probes.append(Probe("AWS", name, True, describe(body)))
        return body

    probe("identity", lambda: client("sts").get_caller_identity(),
          lambda b: f"account {b['Account']} as {b['Arn']}")
    instances = probe("Identity Center instance", lambda: client("sso-admin").list_instances(),
                      lambda b: ", ".join(f"{i['InstanceArn']} (store {i['IdentityStoreId']})"
                                          for i in b["Instances"]) or "no instance in this region")
    if instances and instances["Instances"]:
        store = instances["Instances"][0]["IdentityStoreId"]
        probe("identity store", lambda: client("identitystore").list_users(
            IdentityStoreId=store, MaxResults=1), lambda b: "readable" + (" (has users)" if b["Users"] else " (empty)"))
    probe("organization", lambda: client("organizations").describe_organization(),
          lambda b: f"{b['Organization']['Id']} (management account {b['Organization']['MasterAccountId']})")
    return probes


async def run_preflight(params: Parameters) -> pd.DataFrame:
    probes = await _graph_probes(params) + _aws_probes(params)
    frame = pd.DataFrame([p.__dict__ for p in probes])
    frame["status"] = frame.pop("ok").map({True: "ok", False: "FAILED"})
    return frame[["side", "probe", "status", "detail"]]


# What to look at when a probe fails, in the order a consultant would.
HINTS = {
    "tenant": "graph.tenant_id, the audit identity's credentials (graph.client_id and its secret or certificate "
              "reference) and that this machine reaches graph.base_url",
    "users": "the audit app's Microsoft Graph application permission User.Read.All (admin consent granted)",
    "groups": "the audit app's Microsoft Graph application permission GroupMember.Read.All",
    "AWS app": "the audit app's Microsoft Graph application permission Application.Read.All",
    "credentials": "the aws section of the parameters (profile, role_arn, region) and that the credentials exist "
                   "on this machine",
    "identity": "the AWS credentials and that this machine reaches the AWS endpoints (aws.endpoint_url if set)",
    "Identity Center instance": "aws.region (the Identity Center instance's home Region) and the read-only "
                                "policy's sso:ListInstances",
    "identity store": "the read-only policy's identitystore:ListUsers",
    "organization": "organizations:DescribeOrganization in the read-only policy, and that the identity is in the "
                    "management account or the Identity Center delegated administrator",
}


class PreflightFailed(IdbridgeError):
    """A probe failed: a collection would fail the same way, only slower. Exit 3, naming each probe."""

    exit_code = EXIT_NOT_COLLECTED


def require_all_ok(probes: pd.DataFrame) -> str:
    """Raise PreflightFailed naming every failed probe and what to check; else a one-line all-clear."""
    failed = probes[probes["status"] != "ok"]
    if failed.empty:
        return f"Preflight passed: all {len(probes)} probes answered."
    lines = [f"{len(failed)} of {len(probes)} preflight probes failed, so nothing was collected:"]
    lines += [f"- {row.side} {row.probe}: {row.detail or 'no answer'} — check {HINTS.get(row.probe, 'the parameters')}"
              for row in failed.itertuples()]
    raise PreflightFailed("\n".join(lines))
