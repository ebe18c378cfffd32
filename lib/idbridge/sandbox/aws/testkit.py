"""Helpers for tests and benchmarks that drive the AWS sandbox with real boto3 clients.

    handle = start_moto_server(world)
    sso = client(handle, "sso-admin", world.aws.region)
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import boto3
import yaml
from botocore.config import Config

from idbridge.core.parameters import SANDBOX_AWS_ACCESS_KEY_ID, SANDBOX_AWS_SECRET_ACCESS_KEY
from idbridge.sandbox.aws.identity_store import IdentityStore
from idbridge.sandbox.faults import FaultConfig
from idbridge.sandbox.scenario import Scenario

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
CREDENTIALS = {"aws_access_key_id": SANDBOX_AWS_ACCESS_KEY_ID, "aws_secret_access_key": SANDBOX_AWS_SECRET_ACCESS_KEY}
# botocore counts `max_attempts` as retries (1 = one retry); `total_max_attempts: 1` means a single attempt.
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})

# A small organisation exercising every part of the `aws` section; tests copy and vary it.
SMALL_SCENARIO = """
scenario: aws-small
tenant: {id: 0c1d2e3f-1111-4222-8333-944455556666, display_name: Contoso, default_domain: contoso.onmicrosoft.com,
         domains: [contoso.com]}
entra:
  users:
    - {upn: alice@contoso.com, given_name: Alice, surname: Archer, display_name: Alice Archer, mail: alice@contoso.com}
    - {upn: bob@contoso.com, given_name: Bob, surname: Baker, display_name: Bob Baker, idc: {recreated: true}}
    - {upn: carol@contoso.com, given_name: Carol, surname: Cook, display_name: Carol Cook,
       idc: {user_name: carol.cook@contoso.com}}
    - {upn: dave@contoso.com, given_name: Dave, surname: Dunn, idc: {present: false}}
  groups:
    - {display_name: AWS-Admins, members: [alice@contoso.com, bob@contoso.com]}
    - {display_name: AWS-Readers, members: [carol@contoso.com], idc: {recreated: true}}
    - {display_name: AWS-Ghosts, idc: {present: false}}
  aws_app:
    signing_certificates:
      - {start: now-400d, end: now-35d, uploaded_to_aws: now-399d}
      - {start: now-40d, end: now+1055d, active: true, uploaded_to_aws: now-39d}
    provisioning: {token_created: now-30d}
aws:
  management_account: "111111111111"
  identity_center:
    region: eu-west-1
    extra_regions: [eu-central-1]
    instance_name: contoso
    users:
      - {user_name: breakglass, display_name: Break Glass, given_name: Break, family_name: Glass,
         email: breakglass@contoso.com}
    groups:
      - {display_name: Local-Ops, description: made by hand, members: [breakglass]}
  accounts:
    - {id: "111111111111", name: Management, email: aws-root@contoso.com}
    - {id: "222222222222", name: Prod, ou: Workloads/Prod, tags: {env: prod, owner: platform}}
    - {id: "333333333333", name: Dev, ou: Workloads/Dev, tags: {env: dev}}
    - {id: "444444444444", name: Sandbox, ou: Sandbox, status: SUSPENDED}
  permission_sets:
    - name: AdministratorAccess
      description: full admin
      session_duration: PT2H
      relay_state: https://console.aws.amazon.com/
      managed_policies: ["arn:aws:iam::aws:policy/AdministratorAccess"]
      customer_managed_policies: [{name: AuditExtras, path: /idbridge/}]
      inline_policy: {Version: "2012-10-17", Statement: [{Effect: Deny, Action: "iam:CreateUser", Resource: "*"}]}
      boundary: {managed_policy_arn: "arn:aws:iam::aws:policy/PowerUserAccess"}
      tags: {tier: privileged}
      not_reprovisioned_in: [Dev]
    - name: ReadOnly
      session_duration: PT8H
      managed_policies: ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
      boundary: {customer_managed: {name: ReadBoundary}}
  account_assignments:
    - {group: AWS-Admins, accounts: [Prod, Dev], permission_set: AdministratorAccess}
    - {group: AWS-Readers, accounts: [Prod, "333333333333"], permission_set: ReadOnly}
    - {user: bob@contoso.com, accounts: [Prod], permission_set: ReadOnly}
    - {user: carol@contoso.com, accounts: [Dev], permission_set: ReadOnly}
    - {idc_user: breakglass, accounts: [Management], permission_set: AdministratorAccess}
    - {idc_group: Local-Ops, accounts: [Sandbox], permission_set: ReadOnly}
  sign_ins:
    - {user: alice@contoso.com, at: now-1h}
    - {user: carol@contoso.com, at: now-2d}
    - {user: alice@contoso.com, at: now-3d, status: failure, failure_reason: InvalidSignature}
  cloudtrail:
    - {name: CreatePermissionSet, source: sso.amazonaws.com, at: now-10d, user: admin-jane}
    - {name: Federate, source: sso.amazonaws.com, at: now-1h, user: alice@contoso.com, detail: {role: Admin}}
    - {name: DeleteUser, source: identitystore.amazonaws.com, at: now-5d, error_code: AccessDenied,
       error_message: not allowed}
"""


def small_scenario(mutate=None) -> Scenario:
    """The small scenario, optionally changed by `mutate(doc: dict)` before validation."""
    doc = yaml.safe_load(SMALL_SCENARIO)
    if mutate is not None:
        mutate(doc)
    return Scenario.model_validate(doc)


def build_aws_world(scenario: Scenario, now: datetime = NOW, faults: FaultConfig | None = None,
                    provision: bool = True):
    """seed_aws -> (stand-in) SCIM provisioning through the facade -> seed_account_assignments."""
    from idbridge.sandbox.aws.seed import seed_account_assignments, seed_aws
    from idbridge.sandbox.world import SandboxWorld

    aws = seed_aws(scenario, now)
    if provision:
        with aws.identity_store.bulk():
            provision_like_scim(scenario, aws.identity_store, now)
    world = SandboxWorld(scenario=scenario, now=now, faults=faults or FaultConfig(), graph=None, aws=aws)
    seed_account_assignments(world)
    return world




def client(handle: Any, service: str, region: str, config: Config | None = None):
    return boto3.client(service, endpoint_url=handle.endpoint_url, region_name=region, config=config,
                        **CREDENTIALS)


def provision_like_scim(scenario: Scenario, store: IdentityStore, at) -> None:
    """A stand-in for the emulated SCIM cycle (sandbox/provisioning.py, built elsewhere): every Entra user and
    group with `idc.present` not false goes into Identity Center through the facade, with the scenario's `idc`
    overrides, and groups get their direct members. Enough for tests of the AWS side on its own."""
    user_ids = {}
    for user in scenario.entra.users:
        idc = user.idc
        if idc is not None and not idc.present:
            continue
        emails = [{"value": (idc and idc.email) or user.mail or user.upn, "type": "work", "primary": True}]
        user_ids[user.upn.lower()] = store.create_user(
            user_name=(idc and idc.user_name) or user.upn, display_name=(idc and idc.display_name)
            or user.display_name or user.upn, given_name=(idc and idc.given_name) or user.given_name or "-",
            family_name=(idc and idc.family_name) or user.surname or "-", emails=emails, phone_numbers=None,
            addresses=None, title=user.job_title, preferred_language=user.preferred_language,
            external_id=(idc and idc.external_id) or user.id or user.upn, external_id_issuer=None,
            active=user.account_enabled if idc is None or idc.active is None else idc.active, at=at)
    for group in scenario.entra.groups:
        idc = group.idc
        if idc is not None and not idc.present:
            continue
        group_id = store.create_group(display_name=(idc and idc.display_name) or group.display_name,
                                      description=group.description, external_id=group.id or group.display_name,
                                      at=at)
        for member in group.members:
            if member.lower() in user_ids:
                store.add_member(group_id, user_ids[member.lower()], at=at)
