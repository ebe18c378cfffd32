"""What Entra's provisioning service keeps between cycles for one job, and how it reaches the SCIM endpoint.

The memory is the service's own (Entra's "escrow" and anchor cache): which Identity Center object each Entra
object was matched to, and what was last exported for it. A cycle only processes objects whose state changed
since — which is why drift planted in Identity Center stays until something changes in Entra or the job is
restarted (forget_job), as it does for real.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from idbridge.sandbox.scim.endpoint import ScimEndpoint

_ATTRIBUTE = "_scim_job_memory"  # kept on the world object: the service's state lives as long as the sandbox


@dataclass
class JobMemory:
    user_anchors: dict[str, str] = field(default_factory=dict)    # Entra user id -> Identity Center user id
    group_anchors: dict[str, str] = field(default_factory=dict)   # Entra group id -> Identity Center group id
    exported: dict[str, Any] = field(default_factory=dict)        # Entra id -> fingerprint last exported
    members: dict[str, set[str]] = field(default_factory=dict)    # Entra group id -> IdC user ids exported
    failures: dict[str, int] = field(default_factory=dict)        # Entra id -> failed attempts so far
    skipped: set[str] = field(default_factory=set)                # logged once as not entitled


def job_memory(world: Any, sp_id: str, job_id: str) -> JobMemory:
    memories = world.__dict__.setdefault(_ATTRIBUTE, {})
    return memories.setdefault((sp_id, job_id), JobMemory())


def forget_job(world: Any, sp_id: str, job_id: str) -> None:
    """Graph's restart: "force the job to start over and re-process all the objects in the directory"."""
    world.__dict__.setdefault(_ATTRIBUTE, {}).pop((sp_id, job_id), None)


@dataclass(frozen=True)
class Connection:
    """The job's saved credentials (synchronization secrets)."""

    base_address: str
    token: str
    sync_all: bool


def connection(world: Any, sp_id: str) -> Connection:
    secrets = {s.get("key"): s.get("value") for s in world.graph.sync_secrets.get(sp_id, [])}
    sync_all = str(secrets.get("SyncAll", "false")).lower() == "true"
    return Connection(secrets.get("BaseAddress") or "", secrets.get("SecretToken") or "", sync_all)


def _tenant_of(url: str) -> tuple[str, str]:
    parsed = urlparse(url.strip())
    host = (parsed.hostname or "").lower()
    return host, parsed.path.rstrip("/").split("/scim/v2")[0].strip("/")


def reach(world: Any, base_address: str) -> str:
    """'ok', 'wrong-tenant' (AWS answers 401: "…also occurs if the tenant ID is incorrect") or 'unreachable'
    (not the Identity Center SCIM host at all). The IPv4 and dual-stack (api.aws) hosts are the same endpoint."""
    want_host, want_tenant = _tenant_of(world.aws.scim_endpoint)
    host, tenant = _tenant_of(base_address)
    region = want_host.split(".")[1] if want_host.count(".") >= 2 else ""
    if host not in (want_host, f"scim.{region}.api.aws"):
        return "unreachable"
    return "ok" if tenant == want_tenant else "wrong-tenant"


TRAIL_RETENTION = timedelta(days=90)  # CloudTrail event history (LookupEvents)


def log_retention(world: Any) -> timedelta:
    """Entra keeps provisioning logs 30 days with a P1/P2 licence, 7 days without (howto-analyze-provisioning-logs)."""
    return timedelta(days=7 if world.scenario.tenant.licence == "free" else 30)


def endpoint(world: Any, seed: str, also_accepted: frozenset[str] = frozenset()) -> ScimEndpoint:
    """The world's SCIM endpoint; `seed` keeps the request / event ids of one cycle distinct from another's.
    `also_accepted`: tokens valid at the (past) moment being replayed, though no longer now."""
    scenario = world.scenario
    cloudtrail = getattr(world.aws, "cloudtrail", None)
    return ScimEndpoint(store=world.aws.identity_store, tenant_id=_tenant_of(world.aws.scim_endpoint)[1],
                        tokens=frozenset(world.aws.scim_tokens) | also_accepted,
                        region=scenario.aws.identity_center.region, account_id=scenario.instance_account,
                        trail=cloudtrail.record if cloudtrail is not None else None, seed=seed,
                        trail_since=world.now - TRAIL_RETENTION)
