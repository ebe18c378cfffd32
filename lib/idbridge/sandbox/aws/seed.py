"""Seed the AWS side of a scenario straight into moto's backends (no HTTP: ~70x faster).

`seed_aws` runs before the emulated SCIM provisioning, `seed_account_assignments` after it (assignments need the
provisioned principals); see world.build_world for the order.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from moto.cloudtrail.models import cloudtrail_backends
from moto.identitystore.models import identitystore_backends
from moto.organizations.models import organizations_backends
from moto.ssoadmin.models import ssoadmin_backends

from idbridge.sandbox import derived
from idbridge.sandbox.aws import store_records as ids
from idbridge.sandbox.aws import sso_state as st
from idbridge.sandbox.aws import trail
from idbridge.sandbox.aws.identity_store import IdentityStore
from idbridge.sandbox.aws.naming import epoch
from idbridge.sandbox.aws.patches import apply_patches
from idbridge.sandbox.aws.seed_org import seed_organization
from idbridge.sandbox.aws.seed_sso import seed_instance, seed_manual_principals, seed_permission_sets
from idbridge.sandbox.aws.side import AwsSide
from idbridge.sandbox.aws.trail_events import fill_user_ids, seed_trail, token_is_valid
from idbridge.sandbox.scenario import Scenario, SeedError

if TYPE_CHECKING:
    from idbridge.sandbox.state import SandboxWorld

_SYSTEM_KEYS = {"UserId", "GroupId", "Revision", "CreatedAt", "CreatedBy", "UpdatedAt", "UpdatedBy"}


# The accounts of the latest seeding: a server started without a world routes requests to them.
SEEDED_ACCOUNTS: dict[str, str] = {}


def reset_backends() -> None:
    """Forget everything moto holds for the services the sandbox emulates, so seeding twice starts clean."""
    for backends in (ssoadmin_backends, identitystore_backends, organizations_backends, cloudtrail_backends):
        backends.clear()
    organizations_backends.master_accounts.clear()
    trail.clear_stores()


def seed_aws(scenario: Scenario, now: datetime) -> AwsSide:
    apply_patches()
    reset_backends()
    ic = scenario.aws.identity_center
    account, region = scenario.instance_account, ic.region
    SEEDED_ACCOUNTS.update(management=scenario.aws.management_account, instance=account)
    ou_ids = seed_organization(scenario, now)
    seed_instance(scenario, now)
    scim_endpoint = derived.scim_endpoint(scenario)
    store = IdentityStore(account, region, derived.identity_store_id(scenario),
                          scim_issuer=scim_endpoint.removesuffix("/scim/v2"), default_time=now)
    permission_sets = seed_permission_sets(scenario, now)
    with store.bulk():
        seed_manual_principals(scenario, store, now)
    events = trail.EventStore(account, region)
    pending = seed_trail(scenario, now, events)
    return AwsSide(
        account_id=account, management_account=scenario.aws.management_account, region=region,
        regions=derived.all_regions(scenario), instance_arn=derived.instance_arn(scenario),
        identity_store_id=derived.identity_store_id(scenario),
        organization_id=organizations_backends[scenario.aws.management_account]["aws"].org.id,
        ou_ids=ou_ids, permission_sets=permission_sets, identity_store=store, cloudtrail=events,
        scim_endpoint=scim_endpoint,
        scim_tokens=[derived.scim_token(scenario)] if token_is_valid(scenario, now) else [],
        scim_issuer=store.scim_issuer, identity_source=ic.identity_source, pending_sign_ins=pending)


# --------------------------------------------------------------------------------------------- assignments


def _principal(world: "SandboxWorld", index: int, item, entra_groups: dict, entra_users: dict) -> tuple[str, str]:
    """An assignment's principal -> (USER | GROUP, identity-store id). Names resolve as SCIM would have written
    them, including the scenario's planted `idc` overrides."""
    store = world.aws.identity_store
    where = ("aws", "account_assignments", index)
    if item.group:
        entra = entra_groups[item.group]
        name = entra.idc.display_name if entra.idc and entra.idc.display_name else entra.display_name
        found = store.find_group(display_name=name)
        if found is None:
            raise SeedError(where + ("group",), f"group '{item.group}' is not in Identity Center (never "
                                               f"provisioned{_refusal(world, 'group', item.group)})")
        return "GROUP", found
    if item.user:
        entra = entra_users[item.user.lower()]
        name = entra.idc.user_name if entra.idc and entra.idc.user_name else entra.upn
        found = store.find_user(user_name=name)
        if found is None:
            raise SeedError(where + ("user",), f"user '{item.user}' is not in Identity Center (never "
                                              f"provisioned{_refusal(world, 'user', item.user)})")
        return "USER", found
    if item.idc_user:
        found = store.find_user(user_name=item.idc_user)
        if found is None:
            raise SeedError(where + ("idc_user",), f"Identity Center user '{item.idc_user}' does not exist")
        return "USER", found
    found = store.find_group(display_name=item.idc_group)
    if found is None:
        raise SeedError(where + ("idc_group",), f"Identity Center group '{item.idc_group}' does not exist")
    return "GROUP", found


def _refusal(world: "SandboxWorld", kind: str, name: str) -> str:
    """Why the emulated provisioning did not create an Entra user / group: AWS's answer to its last attempt, from
    the provisioning log (', provisioning was refused: ...'), or '' when it never tried (out of scope, no job)."""
    graph = getattr(world, "graph", None)
    if graph is None:
        return ""
    if kind == "group":
        ids = {gid for gid, g in graph.groups.items() if g.get("displayName") == name}
    else:
        ids = {uid for uid, u in {**graph.users, **graph.deleted_users}.items()
               if str(u.get("userPrincipalName", "")).lower() == name.lower()}
    for entry in reversed(graph.provisioning_logs):
        if (entry.get("sourceIdentity") or {}).get("id") not in ids:
            continue
        info = entry.get("provisioningStatusInfo") or {}
        error = info.get("errorInformation") or {}
        if info.get("status") != "failure" or not error:
            return ""
        return f"; provisioning was refused: {_scim_detail(error)}"
    return ""


def _scim_detail(error: dict) -> str:
    """The SCIM endpoint's `detail` inside Entra's errorInformation reason, else the error code."""
    reason = str(error.get("reason") or "")
    body = reason.partition("Web Response: ")[2].rpartition(". This operation was retried")[0]
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        detail = None
    return detail or str(error.get("errorCode") or "an error")


def seed_account_assignments(world: "SandboxWorld") -> None:
    """Assignments, provisioning status (drift from `not_reprovisioned_in`), sign-in user ids, then principals
    deleted and recreated (`idc.recreated`) — which leaves their assignments pointing at ids that no longer
    exist, as in real life."""
    with IdentityStore.bulk():
        _seed_account_assignments(world)


def _seed_account_assignments(world: "SandboxWorld") -> None:
    scenario, aws, now = world.scenario, world.aws, world.now
    state = aws.sso
    created = epoch(now - timedelta(days=90))
    groups = {g.display_name: g for g in scenario.entra.groups}
    users = {u.upn.lower(): u for u in scenario.entra.users}
    accounts = {ref: a.id for a in scenario.aws.accounts for ref in (a.id, a.name)}
    for index, item in enumerate(scenario.aws.account_assignments):
        principal_type, principal_id = _principal(world, index, item, groups, users)
        ps_arn = aws.permission_sets[item.permission_set]
        for ref in item.accounts:
            st.add_assignment(state, accounts[ref], ps_arn, principal_type, principal_id, at=created)
    for spec in scenario.aws.permission_sets:
        ps_arn = aws.permission_sets[spec.name]
        if state.provisioned.get(ps_arn):
            st.record_ps_request(state, ps_arn, None, at=created)
        stale = [accounts[ref] for ref in spec.not_reprovisioned_in]
        st.mark_outdated(state, ps_arn, stale)
        for ref in spec.provisioning_failed_in:  # an attempt to provision where its policy does not exist
            st.record_ps_request(state, ps_arn, accounts[ref], at=created + 86400,
                                 failure=_missing_policy_reason(spec, accounts[ref]))
    fill_user_ids(aws.cloudtrail, aws.pending_sign_ins, aws.identity_store.find_user)
    aws.pending_sign_ins = []
    recreate_principals(world, at=now - timedelta(days=1))


def _missing_policy_reason(spec, account_id: str) -> str:
    """FailureReason for a set whose customer-managed policy (or boundary) is missing in the account. AWS
    documents the field, not its wording for this case: the text says what happened in our own words."""
    refs = [*spec.customer_managed_policies, *([spec.boundary.customer_managed] if spec.boundary and
                                              spec.boundary.customer_managed else [])]
    ref = refs[0]
    return (f"Received a 400 status error: customer managed policy {ref.path}{ref.name} does not exist in "
            f"account {account_id}.")


def recreate_principals(world: "SandboxWorld", at: datetime) -> None:
    """Delete and create again, with the same attributes and group memberships (SCIM re-syncs those), every
    provisioned Entra user / group marked `idc.recreated`. New ids; assignments keep the old ones."""
    scenario, store = world.scenario, world.aws.identity_store
    data = store.data
    when = epoch(at)
    for user in scenario.entra.users:
        if not (user.idc and user.idc.recreated):
            continue
        old = store.find_user(user_name=user.idc.user_name or user.upn)
        if old is None:
            continue
        record = ids.get_user(data, old)
        groups = store.groups_of(old)
        fields = {k: copy.deepcopy(v) for k, v in record.items() if k not in _SYSTEM_KEYS}
        ids.remove_user(data, old)
        new = ids.insert_user(data, fields, created_by=record["CreatedBy"], at=when)
        for group_id in groups:
            ids.insert_membership(data, group_id, new, created_by=record["CreatedBy"], at=when)
    for group in scenario.entra.groups:
        if not (group.idc and group.idc.recreated):
            continue
        old = store.find_group(display_name=group.idc.display_name or group.display_name)
        if old is None:
            continue
        record = ids.get_group(data, old)
        members = store.members(old)
        fields = {k: copy.deepcopy(v) for k, v in record.items() if k not in _SYSTEM_KEYS}
        ids.remove_group(data, old)
        new = ids.insert_group(data, fields, created_by=record["CreatedBy"], at=when)
        for user_id in members:
            ids.insert_membership(data, new, user_id, created_by=record["CreatedBy"], at=when)
