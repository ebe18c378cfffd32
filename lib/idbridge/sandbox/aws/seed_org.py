"""Seed AWS Organizations from the scenario: the organisation, the OU tree from the accounts' `ou` paths, and the
accounts with the scenario's ids, names, emails, tags and status.

Objects are built directly (moto's create_account makes an IAM role per account and draws random ids); ids here
are derived from names so every seeding gives the same ones.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from moto.core.utils import unix_time
from moto.organizations import utils as org_utils
from moto.organizations.models import (FakeAccount, FakeDelegatedAdministrator, FakeOrganization,
                                       FakeOrganizationalUnit, FakePolicy, FakeRoot, OrganizationsBackend,
                                       organizations_backends)

from idbridge.sandbox.aws.naming import digest, naive_utc
from idbridge.sandbox.scenario import Account, Scenario

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def _alnum(*parts: str, length: int) -> str:
    raw = int(digest(*parts, length=32), 16)
    out = []
    for _ in range(length):
        raw, rest = divmod(raw, len(_ALNUM))
        out.append(_ALNUM[rest])
    return "".join(out)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "account"


def default_email(scenario: Scenario, name: str) -> str:
    domain = (scenario.tenant.domains or [scenario.tenant.default_domain])[0]
    return f"aws+{_slug(name)}@{domain}"


def _default_policies(org: FakeOrganization) -> list[FakePolicy]:
    """The two AWS-managed policies every organisation starts with, as moto's create_organization makes them."""
    policies = []
    for policy_id, name, kind, statement in (
        (org_utils.DEFAULT_SCP_POLICY_ID, "FullAWSAccess", "SERVICE_CONTROL_POLICY",
         {"Effect": "Allow", "Action": "*", "Resource": "*"}),
        (org_utils.DEFAULT_RCP_POLICY_ID, "RCPFullAWSAccess", "RESOURCE_CONTROL_POLICY",
         {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}),
    ):
        policy = FakePolicy(org, Name=name, Description="AWS managed default policy", Type=kind,
                            Content=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
        policy.id = policy_id
        policy.aws_managed = True
        policies.append(policy)
    return policies


def _attach(policies: list[FakePolicy], target) -> None:
    for policy in policies:
        target.attached_policies.append(policy)
        policy.attachments.append(target)


def _account(org: FakeOrganization, spec: Account, email: str, parent_id: str, joined: datetime,
             method: str) -> FakeAccount:
    account = FakeAccount.__new__(FakeAccount)  # skip __init__: it creates an IAM role per account
    account.type = "ACCOUNT"
    account.region = org.region
    account.organization_id = org.id
    account.master_account_id = org.master_account_id
    account.create_account_status_id = "car-" + _alnum(org.id, spec.id, length=8)
    account.id = spec.id
    account.name = spec.name
    account.email = email
    account.create_time = joined
    account.status = spec.status
    account.state = spec.status
    account.joined_method = method
    account.parent_id = parent_id
    account.attached_policies = []
    account.tags = dict(spec.tags)
    return account


def _ou_tree(backend: OrganizationsBackend, org: FakeOrganization, root: FakeRoot, paths: set[str],
             policies: list[FakePolicy]) -> dict[str, str]:
    """OU path ('Workloads/Prod') -> OU id, creating every level once; '' is the root."""
    ids = {"": root.id}
    for path in sorted(paths):
        parts = [p for p in path.split("/") if p]
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            if sub in ids:
                continue
            parent = ids["/".join(parts[:depth - 1])]
            ou = FakeOrganizationalUnit(org, Name=parts[depth - 1], ParentId=parent)
            ou.id = f"ou-{root.id.removeprefix('r-')}-{_alnum(org.id, sub, length=8)}"
            backend.ou.append(ou)
            _attach(policies, ou)
            ids[sub] = ou.id
    return ids


def seed_organization(scenario: Scenario, now: datetime) -> dict[str, str]:
    """Writes the organisation into the management account's backend. Returns OU path -> OU id."""
    aws = scenario.aws
    mgmt = aws.management_account
    backend = organizations_backends[mgmt]["aws"]
    backend._reset()
    org = FakeOrganization(mgmt, region_name="us-east-1", feature_set="ALL")
    org.id = "o-" + _alnum(scenario.tenant.id, mgmt, length=10)
    org.root_id = "r-" + _alnum(org.id, "root", length=4)
    mgmt_spec = scenario.account_by_ref(mgmt) or Account(id=mgmt, name="Management")
    org.master_account_email = mgmt_spec.email or default_email(scenario, mgmt_spec.name)
    backend.org = org
    root = FakeRoot(org)
    backend.ou.append(root)
    policies = _default_policies(org)
    backend.policies.extend(policies)
    _attach(policies, root)

    ou_ids = _ou_tree(backend, org, root, {a.ou.strip("/") for a in aws.accounts}, policies)
    # Distinct join times: moto pages list_accounts on JoinedTimestamp.
    first = naive_utc(now) - timedelta(days=900)
    members = [a for a in aws.accounts if a.id != mgmt]
    for index, spec in enumerate([mgmt_spec, *members]):
        joined = first + timedelta(minutes=index)
        method = "INVITED" if spec.id == mgmt else "CREATED"
        account = _account(org, spec, spec.email or default_email(scenario, spec.name), ou_ids[spec.ou.strip("/")],
                           joined, method)
        backend.accounts.append(account)
        _attach(policies, account)
        if spec.id != mgmt:
            organizations_backends.master_accounts[spec.id] = (mgmt, "aws")

    seed_service_control_policies(scenario, backend, org, root, ou_ids)
    backend.services.append({"ServicePrincipal": "sso.amazonaws.com", "DateEnabled": unix_time(first)})
    instance_account = scenario.instance_account
    if instance_account != mgmt:
        admin = FakeDelegatedAdministrator(backend.get_account_by_id(instance_account))
        admin.enabled_date = first + timedelta(days=1)
        admin.services["sso.amazonaws.com"] = {"ServicePrincipal": "sso.amazonaws.com",
                                               "DelegationEnabledDate": unix_time(first + timedelta(days=1))}
        backend.admins.append(admin)
    return ou_ids


def seed_service_control_policies(scenario: Scenario, backend: OrganizationsBackend, org: FakeOrganization,
                                  root: FakeRoot, ou_ids: dict[str, str]) -> None:
    """The scenario's SCPs, with ids derived from their names, attached where `targets` says."""
    for spec in scenario.aws.service_control_policies:
        policy = FakePolicy(org, Name=spec.name, Description=spec.description, Type="SERVICE_CONTROL_POLICY",
                            Content=json.dumps({"Version": "2012-10-17", "Statement": spec.statements}))
        policy.id = "p-" + _alnum(org.id, "scp", spec.name, length=8)
        backend.policies.append(policy)
        for ref in spec.targets:
            if ref == "root":
                target = root
            elif ref.strip("/") in ou_ids:
                target = next(ou for ou in backend.ou if ou.id == ou_ids[ref.strip("/")])
            else:
                account = scenario.account_by_ref(ref)
                target = next(a for a in backend.accounts if a.id == account.id)
            _attach([policy], target)
