"""`idbridge sandbox check`: start the sandbox, read every emulated resource back with the real clients
(msgraph-sdk over HTTP, boto3 over HTTP), compare with what the scenario says, stop.

Expectations are computed from the scenario file alone, never from the emulators' state, so a seeding or serving
bug shows up as a difference.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from idbridge.clients.graph.adapter import SandboxCredential, make_graph_client, make_request_adapter
from idbridge.clients.graph.raw import get_json, iterate_pages, send_json
from idbridge.saml.urls import federation_metadata_url
from idbridge.sandbox import derived
from idbridge.sandbox.faults import FaultConfig
from idbridge.sandbox.scenario import Scenario
from idbridge.sandbox.server import Sandbox, SandboxEndpoints


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str


class _Results(list):
    def expect(self, name: str, got, want, detail: str = "") -> None:
        ok = got == want
        self.append(CheckResult(name, ok, detail or (f"{got}" if ok else f"got {got!r}, expected {want!r}")))

    def run(self, name: str, probe: Callable[[], tuple[bool, str]]) -> None:
        try:
            ok, detail = probe()
        except Exception as exc:  # a check that raises has failed; say how
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        self.append(CheckResult(name, ok, detail))


def _expected_users(scenario: Scenario) -> list[str]:
    return sorted(u.upn.lower() for u in scenario.entra.users if not u.deleted)


async def _check_graph(scenario: Scenario, ep: SandboxEndpoints, results: _Results) -> None:
    credential = SandboxCredential(ep.token_url, ep.client_id)
    adapter = make_request_adapter(credential, ep.graph_base_url)
    client = make_graph_client(credential, ep.graph_base_url)

    # Typed models: msgraph-sdk must deserialize the emulator's shapes with the fields we use.
    org = await client.organization.get()
    results.expect("graph: organization (typed)", [o.id for o in org.value], [scenario.tenant.id])

    users: list[dict] = []
    async for page in iterate_pages(adapter, "/users", params={
            "$select": "id,userPrincipalName,givenName,surname,displayName,mail,userType,accountEnabled,"
                       "signInActivity", "$top": "50"}):
        users.extend(page)
    results.expect("graph: users (paged raw)", sorted(u["userPrincipalName"].lower() for u in users),
                   _expected_users(scenario), f"{len(users)} users over pages of 50")
    by_upn = {u.upn.lower(): u for u in scenario.entra.users}
    mismatched = [u["userPrincipalName"] for u in users
                  if (u.get("givenName"), u.get("surname"), u.get("accountEnabled"), u.get("userType"))
                  != (by_upn[u["userPrincipalName"].lower()].given_name, by_upn[u["userPrincipalName"].lower()].surname,
                      by_upn[u["userPrincipalName"].lower()].account_enabled,
                      by_upn[u["userPrincipalName"].lower()].user_type)]
    results.expect("graph: user fields", mismatched, [], f"{len(users)} users match the scenario")

    first = scenario.entra.users[0] if scenario.entra.users else None
    if first and not first.deleted:
        typed = await client.users.by_user_id(first.upn).get()
        results.expect("graph: user (typed)", (typed.user_principal_name, typed.given_name, typed.surname),
                       (first.upn, first.given_name, first.surname))

    groups: list[dict] = []
    async for page in iterate_pages(adapter, "/groups", params={"$select": "id,displayName,groupTypes"}):
        groups.extend(page)
    results.expect("graph: groups", sorted(g["displayName"] for g in groups),
                   sorted(g.display_name for g in scenario.entra.groups))

    # Direct members of every group through $batch (20 per request), as the collector reads them.
    group_ids = {g["displayName"]: g["id"] for g in groups}
    names = sorted(group_ids)
    got_members: dict[str, int] = {}
    for start in range(0, len(names), 20):
        chunk = names[start:start + 20]
        body = {"requests": [{"id": str(i), "method": "GET", "url": f"/groups/{group_ids[n]}/members?$select=id"}
                             for i, n in enumerate(chunk)]}
        answer = await send_json(adapter, "POST", "/$batch", body=body)
        for item in answer["responses"]:
            name = chunk[int(item["id"])]
            if item["status"] != 200:
                got_members[name] = -item["status"]
                continue
            got_members[name] = len(item["body"]["value"])
            next_link = item["body"].get("@odata.nextLink")
            while next_link:  # a large group's members continue beyond the batch item's first page
                page = await get_json(adapter, next_link)
                got_members[name] += len(page["value"])
                next_link = page.get("@odata.nextLink")
    deleted = {u.upn.lower() for u in scenario.entra.users if u.deleted}
    want_members = {g.display_name: len([m for m in g.members if m.lower() not in deleted]) + len(g.member_groups)
                    for g in scenario.entra.groups}
    results.expect("graph: group members ($batch)", got_members, want_members,
                   f"{sum(want_members.values())} direct memberships in {len(names)} groups")

    filtered = await get_json(adapter, "/applicationTemplates",
                              params={"$filter": f"displayName eq '{derived.AWS_GALLERY_TEMPLATE_NAME}'"})
    results.expect("graph: gallery template ($filter)", [t["id"] for t in filtered["value"]],
                   [derived.AWS_GALLERY_TEMPLATE_ID])

    app = scenario.entra.aws_app
    sps = await get_json(adapter, "/servicePrincipals", params={"$filter": f"displayName eq '{app.display_name}'"}) \
        if app else {"value": []}
    results.expect("graph: AWS service principal", len(sps["value"]), 1 if app else 0)
    if app and sps["value"]:
        sp = sps["value"][0]
        assigned = await get_json(adapter, f"/servicePrincipals/{sp['id']}/appRoleAssignedTo")
        results.expect("graph: app role assignments", len(assigned["value"]),
                       len(app.assignments.users) + len(app.assignments.groups))
        results.expect("graph: SSO mode", sp.get("preferredSingleSignOnMode"), app.sso_mode)
        jobs = await get_json(adapter, f"/servicePrincipals/{sp['id']}/synchronization/jobs")
        want_job = app.provisioning is not None and app.provisioning.status != "NotConfigured"
        results.expect("graph: provisioning job", len(jobs["value"]), 1 if want_job else 0)
        if want_job and jobs["value"]:
            results.expect("graph: provisioning status", jobs["value"][0]["status"]["code"],
                           app.provisioning.status)
        metadata = await _fetch_text(federation_metadata_url(scenario.tenant.id, sp["appId"], root=ep.graph_root))
        results.expect("graph: federation metadata", "EntityDescriptor" in metadata and "X509Certificate" in metadata,
                       bool(app.signing_certificates), f"{len(metadata)} bytes")

    sign_ins = [s async for page in iterate_pages(adapter, "/auditLogs/signIns") for s in page] \
        if scenario.tenant.licence != "free" else []
    if scenario.tenant.licence != "free":
        results.expect("graph: sign-ins", len(sign_ins), len(scenario.entra.sign_ins))
    policies = await get_json(adapter, "/identity/conditionalAccess/policies")
    results.expect("graph: conditional access", sorted(p["displayName"] for p in policies["value"]),
                   sorted(p.display_name for p in scenario.entra.conditional_access))
    if scenario.tenant.licence != "free":
        details = [d async for page in iterate_pages(adapter, "/reports/authenticationMethods/userRegistrationDetails")
                   for d in page]
        results.expect("graph: MFA registration details", len(details), len(_expected_users(scenario)))
    count = await get_json(adapter, "/users/$count", headers={"ConsistencyLevel": "eventual"})
    results.expect("graph: $count", count, len(_expected_users(scenario)))


async def _fetch_text(url: str) -> str:
    import httpx

    async with httpx.AsyncClient() as http:
        response = await http.get(url)
        response.raise_for_status()
        return response.text


def _check_aws(scenario: Scenario, ep: SandboxEndpoints, results: _Results) -> None:
    import boto3

    from idbridge.core.parameters import SANDBOX_AWS_ACCESS_KEY_ID, SANDBOX_AWS_SECRET_ACCESS_KEY

    session = boto3.Session(aws_access_key_id=SANDBOX_AWS_ACCESS_KEY_ID,
                            aws_secret_access_key=SANDBOX_AWS_SECRET_ACCESS_KEY, region_name=ep.region)

    def client(name: str):
        return session.client(name, endpoint_url=ep.aws_endpoint_url)

    org = client("organizations")
    accounts = [a for page in org.get_paginator("list_accounts").paginate() for a in page["Accounts"]]
    want_accounts = {a.id: a.name for a in scenario.aws.accounts}
    got_accounts = {a["Id"]: a["Name"] for a in accounts if a["Id"] in want_accounts}
    results.expect("aws: accounts", got_accounts, want_accounts, f"{len(accounts)} accounts")
    tagged = [a for a in scenario.aws.accounts if a.tags][:3]
    for account in tagged:
        tags = {t["Key"]: t["Value"] for t in org.list_tags_for_resource(ResourceId=account.id)["Tags"]}
        results.expect(f"aws: tags of {account.name}", tags, account.tags)

    sso = client("sso-admin")
    instances = sso.list_instances()["Instances"]
    results.expect("aws: Identity Center instance", [(i["InstanceArn"], i["IdentityStoreId"]) for i in instances],
                   [(ep.instance_arn, ep.identity_store_id)])
    arns = [a for page in sso.get_paginator("list_permission_sets").paginate(InstanceArn=ep.instance_arn)
            for a in page["PermissionSets"]]
    described = {sso.describe_permission_set(InstanceArn=ep.instance_arn, PermissionSetArn=a)["PermissionSet"]["Name"]: a
                 for a in arns}
    results.expect("aws: permission sets", sorted(described), sorted(p.name for p in scenario.aws.permission_sets))
    for ps in scenario.aws.permission_sets:
        arn = described.get(ps.name)
        if not arn:
            continue
        managed = sorted(p["Arn"] for p in sso.list_managed_policies_in_permission_set(
            InstanceArn=ep.instance_arn, PermissionSetArn=arn)["AttachedManagedPolicies"])
        if managed != sorted(ps.managed_policies):
            results.expect(f"aws: managed policies of {ps.name}", managed, sorted(ps.managed_policies))
        if ps.boundary:
            results.run(f"aws: boundary of {ps.name}", lambda arn=arn: (True, str(sso.get_permissions_boundary_for_permission_set(
                InstanceArn=ep.instance_arn, PermissionSetArn=arn)["PermissionsBoundary"])))

    store = client("identitystore")
    idc_users = [u for page in store.get_paginator("list_users").paginate(IdentityStoreId=ep.identity_store_id)
                 for u in page["Users"]]
    names = {u["UserName"].lower() for u in idc_users}
    manual = {u.user_name.lower() for u in scenario.aws.identity_center.users}
    results.expect("aws: hand-made Identity Center users", sorted(manual - names), [],
                   f"{len(idc_users)} users in the identity store, {len(manual)} made by hand")

    want_rows = sum(len(a.accounts) for a in scenario.aws.account_assignments)
    rows = 0
    for name, arn in described.items():
        provisioned = [a for page in sso.get_paginator("list_accounts_for_provisioned_permission_set").paginate(
            InstanceArn=ep.instance_arn, PermissionSetArn=arn) for a in page["AccountIds"]]
        for account_id in provisioned:
            rows += sum(len(page["AccountAssignments"]) for page in sso.get_paginator("list_account_assignments")
                        .paginate(InstanceArn=ep.instance_arn, AccountId=account_id, PermissionSetArn=arn))
    results.expect("aws: account assignments (pair walk)", rows, want_rows)

    trail = client("cloudtrail")
    events = [e for page in trail.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "UserAuthentication"}]) for e in page["Events"]]
    want_auth = len([s for s in scenario.aws.sign_ins if s.status == "success"]) + len(
        [e for e in scenario.aws.cloudtrail if e.name == "UserAuthentication"])
    results.expect("aws: CloudTrail UserAuthentication", len(events), want_auth)


def run_check(scenario_ref: str, faults: FaultConfig | None = None) -> list[CheckResult]:
    results = _Results()
    with Sandbox.from_file(scenario_ref, faults=faults) as box:
        ep = box.endpoints
        results.run("graph", lambda: (True, "reads follow") if asyncio.run(
            _check_graph(box.scenario, ep, results)) is None else (False, ""))
        results.run("aws", lambda: (True, "reads follow") if _check_aws(box.scenario, ep, results) is None
                    else (False, ""))
    # The two umbrella rows only say whether a side raised; drop them when it did not.
    return [r for r in results if r.name not in ("graph", "aws") or not r.ok]
