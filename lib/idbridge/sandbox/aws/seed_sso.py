"""Seed Identity Center: the instance (derived ARN and identity store id), its Regions, permission sets with all
their policies, and the users and groups an administrator created by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from moto.identitystore.models import identitystore_backends
from moto.ssoadmin.models import CustomerManagedPolicy, Instance, ManagedPolicy, PermissionSet

from idbridge.sandbox import derived
from idbridge.sandbox.aws import sso_state as st
from idbridge.sandbox.aws.identity_store import IdentityStore
from idbridge.sandbox.aws.naming import admin_arn, epoch, permission_set_arn
from idbridge.sandbox.aws.store_records import IdentityStoreError
from idbridge.sandbox.scenario import PermissionSet as PermissionSetSpec
from idbridge.sandbox.scenario import Scenario, SeedError


def seed_instance(scenario: Scenario, now: datetime) -> st.SsoState:
    """Replace moto's instance list with the scenario's one instance, in the primary Region; extra Regions share
    the same objects (a multi-Region instance is one instance replicated)."""
    account = scenario.instance_account
    regions = derived.all_regions(scenario)
    enabled = now - timedelta(days=700)
    primary = st.backend_for(account, regions[0])
    instance = Instance(account, regions[0])
    instance.instance_arn = derived.instance_arn(scenario)
    instance.identity_store_id = derived.identity_store_id(scenario)
    instance.name = scenario.aws.identity_center.instance_name
    instance.created_date = epoch(enabled)
    primary.instances[:] = [instance]
    state = st.SsoState(instance.instance_arn)
    state.regions = [{"RegionName": r, "Status": "ACTIVE", "AddedDate": epoch(enabled + timedelta(days=30 if i else 0)),
                      "IsPrimaryRegion": i == 0} for i, r in enumerate(regions)]
    state.valid_accounts = {a.id for a in scenario.aws.accounts} | {scenario.aws.management_account}
    st.states(primary)[instance.instance_arn] = state
    abac = scenario.aws.identity_center.access_control_attributes
    if abac is not None:  # ABAC enabled, with these keys (possibly none)
        state.abac = {"Status": "ENABLED", "StatusReason": "",
                      "InstanceAccessControlAttributeConfiguration": {"AccessControlAttributes": [
                          {"Key": key, "Value": {"Source": [source]}} for key, source in abac.items()]}}
    primary_store = identitystore_backends[account][regions[0]]
    for region in regions[1:]:
        replica = st.backend_for(account, region)
        replica.instances = primary.instances
        replica.permission_sets = primary.permission_sets
        replica.idbridge = primary.idbridge  # type: ignore[attr-defined]
        identitystore_backends[account][region].identity_stores = primary_store.identity_stores
    return state


def _permission_set(spec: PermissionSetSpec, instance_arn: str, created: datetime) -> PermissionSet:
    ps = PermissionSet(spec.name, spec.description, instance_arn, spec.session_duration, spec.relay_state,
                       [{"Key": k, "Value": v} for k, v in spec.tags.items()])
    ps.permission_set_arn = permission_set_arn(instance_arn, spec.name)
    ps.created_date = epoch(created)
    # Built directly: moto's attach validates managed policies against its bundled list (slow to load, and a
    # scenario may name a job-function policy moto does not know).
    ps.managed_policies = [ManagedPolicy(arn, arn.rsplit("/", 1)[-1]) for arn in spec.managed_policies]
    ps.customer_managed_policies = [CustomerManagedPolicy(p.name, p.path) for p in spec.customer_managed_policies]
    ps.total_managed_policies_attached = len(ps.managed_policies) + len(ps.customer_managed_policies)
    ps.inline_policy = json.dumps(spec.inline_policy) if spec.inline_policy else ""
    ps.permissions_boundary = None
    if spec.boundary is not None:
        if spec.boundary.managed_policy_arn:
            ps.permissions_boundary = {"ManagedPolicyArn": spec.boundary.managed_policy_arn}
        else:
            ref = spec.boundary.customer_managed
            ps.permissions_boundary = {"CustomerManagedPolicyReference": {"Name": ref.name, "Path": ref.path}}
    return ps


def seed_permission_sets(scenario: Scenario, now: datetime) -> dict[str, str]:
    """Returns permission set name -> ARN."""
    account = scenario.instance_account
    backend = st.backend_for(account, scenario.aws.identity_center.region)
    instance_arn = derived.instance_arn(scenario)
    created = now - timedelta(days=600)
    arns = {}
    for index, spec in enumerate(scenario.aws.permission_sets):
        ps = _permission_set(spec, instance_arn, created + timedelta(minutes=index))
        backend.permission_sets.append(ps)
        arns[spec.name] = ps.permission_set_arn
    return arns


def seed_manual_principals(scenario: Scenario, store: IdentityStore, now: datetime) -> None:
    """Identity Center users and groups created in the console, not by SCIM (no ExternalIds). What the identity
    store refuses (a forbidden character, a duplicate) is a SeedError naming the scenario key."""
    ic = scenario.aws.identity_center
    who = admin_arn(scenario.instance_account)
    at = now - timedelta(days=500)
    base = ("aws", "identity_center")
    for index, user in enumerate(ic.users):
        emails = [{"Value": user.email, "Type": "work", "Primary": True}] if user.email else None
        with _refused_as_seed_error(base + ("users", index)):
            store.create_user(user_name=user.user_name, display_name=user.display_name, given_name=user.given_name,
                              family_name=user.family_name, emails=emails, phone_numbers=None, addresses=None,
                              external_id=None, external_id_issuer=None, created_by=who, at=at)
    for index, group in enumerate(ic.groups):
        with _refused_as_seed_error(base + ("groups", index)):
            group_id = store.create_group(display_name=group.display_name, description=group.description,
                                          created_by=who, at=at)
        for m_index, member in enumerate(group.members):
            with _refused_as_seed_error(base + ("groups", index, "members", m_index)):
                store.add_member(group_id, store.find_user(user_name=member), at=at, created_by=who)


@contextmanager
def _refused_as_seed_error(path: tuple) -> Iterator[None]:
    try:
        yield
    except IdentityStoreError as exc:
        raise SeedError(path, f"Identity Center refuses it: {exc.message}") from None
