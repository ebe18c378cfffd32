"""Runbook step 2, SCIM provisioning (shared reference §1b, §2a): the app's groups, the provisioning job from the
template discovered at run time, the SCIM endpoint and token (Test Connection first), scope "assigned users and
groups", a test user provisioned on demand, then the job started.

Plan logic, from what is there now:
- a desired group not assigned to the app             -> create entra.app_role_assignment
- an assignment of anything else                      -> delete entra.app_role_assignment (allow_removals)
- no job from the template                            -> create entra.sync_job
- job NotConfigured, or its saved credentials fail    -> update entra.sync_secrets (endpoint, token, scope, mail)
- the test user not in Identity Center                -> create entra.provision_on_demand
- job schedule not Active (new, paused, quarantined)  -> update entra.sync_job_start
Saved credentials cannot be read back (Graph has no GET for them): they are re-sent only when Test Connection with
the saved ones fails. Before anything is planned the given credentials are tested (validateCredentials: a probe,
it writes nothing); a refusal stops the step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import quote as url_quote

from idbridge.core import secrets
from idbridge.core.secrets import Secret
from idbridge.errors import InputError
from idbridge.plan import Change, Outcome, Plan, apply_plan_async
from idbridge.runbooks import graph as g
from idbridge.runbooks.aws_state import store_id
from idbridge.runbooks.context import Runbook, RunbookError

STEP = "provisioning"
DEFAULT_ACCESS_ROLE_ID = "00000000-0000-0000-0000-000000000000"  # Graph's "Default Access" for apps without a User role
NOT_STARTED = ("NotConfigured", "NotRun", "Paused", "Quarantine")


@dataclass
class JobTarget:
    """What the appliers need: the service principal, and the job once created."""

    sp_id: str | None
    template_id: str | None
    job_id: str | None = None


@dataclass
class ProvisioningPlan:
    plan: Plan
    target: JobTarget
    test_user_id: str | None
    notes: list[str] = field(default_factory=list)

    def frame(self):
        return self.plan.frame()


@dataclass(frozen=True)
class Credentials:
    base_address: str
    token: Secret

    def as_graph(self) -> list[dict]:
        return [{"key": "BaseAddress", "value": self.base_address}, {"key": "SecretToken", "value": self.token}]


def credentials(rb: Runbook) -> Credentials:
    """The SCIM endpoint and token from their references (InputError naming the key when one is not set)."""
    prov = rb.desired.provisioning

    def resolve(key: str, value: str) -> str:
        if value.startswith("https://"):
            return value
        return secrets.resolve(value, file=rb.file, key=rb.doc.where(("provisioning", key)), aws=rb.params.aws)

    return Credentials(resolve("scim_endpoint", prov.scim_endpoint), Secret(resolve("scim_token", prov.scim_token)))


def secrets_body(rb: Runbook, creds: Credentials) -> list[dict]:
    """synchronization/secrets: endpoint, token, quarantine mail with accidental-deletion prevention on, and
    SyncAll false = scope "Sync only assigned users and groups"."""
    prov = rb.desired.provisioning
    notify = {"Enabled": bool(prov.notification_email), "Recipients": prov.notification_email or "",
              "DeleteThresholdEnabled": True, "DeleteThresholdValue": 500,
              "HumanResourcesLookaheadQueryEnabled": False}
    return [*creds.as_graph(), {"key": "SyncNotificationSettings", "value": json.dumps(notify, separators=(",", ":"))},
            {"key": "SyncAll", "value": "false"}]


# --------------------------------------------------------------------------------------------- reading


async def _groups(rb: Runbook) -> dict[str, str]:
    """Desired group name -> Entra object id; InputError at the key of an unknown or ambiguous name."""
    found, problems = {}, []
    for index, name in enumerate(rb.desired.provisioning.groups):
        hits = await g.listing(rb.graph, "/groups", **{"$filter": f"displayName eq {g.quote(name)}",
                                                      "$select": "id,displayName"})
        where = rb.doc.where(("provisioning", "groups", index))
        if not hits:
            problems.append(f"{where}: no Entra group is named {name!r}")
        elif len(hits) > 1:
            problems.append(f"{where}: {len(hits)} Entra groups are named {name!r}: rename one")
        else:
            found[name] = hits[0]["id"]
    if problems:
        raise InputError(rb.file, problems)
    return found


async def _test_user(rb: Runbook, groups: dict[str, str]) -> dict:
    upn = rb.desired.provisioning.test_user
    where = rb.doc.where(("provisioning", "test_user"))
    user = await g.get_or_none(rb.graph, f"/users/{url_quote(upn, safe='@.')}",
                               **{"$select": "id,userPrincipalName,accountEnabled"})
    if user is None:
        raise InputError(rb.file, f"{where}: no Entra user {upn}")
    member_of = await g.listing(rb.graph, f"/users/{user['id']}/memberOf", **{"$select": "id"})
    if not {m["id"] for m in member_of} & set(groups.values()):
        raise InputError(rb.file, f"{where}: {upn} is not a direct member of any of provisioning.groups: it would "
                                  "not be in scope (nested groups are not provisioned)")
    return user


def in_identity_center(rb: Runbook, user_name: str) -> str | None:
    return store_id(rb, "user", "userName", user_name)


async def _template_id(rb: Runbook, sp_id: str) -> str:
    """The synchronization template of the app, discovered (its id is not documented: shared reference §2a)."""
    templates = await g.listing(rb.graph, f"/servicePrincipals/{sp_id}/synchronization/templates")
    chosen = [t for t in templates if t.get("default")] or templates
    if len(chosen) != 1:
        raise RunbookError(f"the app offers {len(templates)} provisioning templates "
                           f"({', '.join(t['id'] for t in templates) or 'none'}): cannot tell which to use")
    return chosen[0]["id"]


async def _validate(rb: Runbook, sp_id: str, template_id: str, creds: Credentials | None,
                    job_id: str | None = None) -> str | None:
    """Test Connection: None when Entra can use the credentials (given, or saved when creds is None)."""
    path = f"/servicePrincipals/{sp_id}/synchronization/jobs/" + (f"{job_id}/" if job_id else "") + \
        "validateCredentials"
    body = {"useSavedCredentials": creds is None, "templateId": template_id,
            "credentials": creds.as_graph() if creds else []}
    try:
        await g.post(rb.graph, path, body)
    except Exception as exc:
        return g.odata_error_code(exc)[2]
    return None


# --------------------------------------------------------------------------------------------- planning


def _assignment_changes(current: list[dict], groups: dict[str, str], role_id: str) -> list[Change]:
    have = {a["principalId"] for a in current}
    wanted = set(groups.values())
    changes = [Change("create", "entra.app_role_assignment", name, f"assign group {name!r} to the app",
                      after={"group": name, "appRoleId": role_id}, payload={"principalId": oid})
               for name, oid in groups.items() if oid not in have]
    changes += [Change("delete", "entra.app_role_assignment", a.get("principalDisplayName") or a["principalId"],
                       f"unassign {a['principalType'].lower()} {a.get('principalDisplayName')!r}: not in "
                       "provisioning.groups", before={"principalType": a["principalType"],
                                                      "principal": a.get("principalDisplayName")},
                       payload={"assignmentId": a["id"]})
                for a in current if a["principalId"] not in wanted]
    return changes


async def plan(rb: Runbook) -> ProvisioningPlan:
    """Read Entra and Identity Center, test the SCIM credentials, and plan; writes nothing."""
    prov = rb.section("provisioning")
    creds = credentials(rb)
    groups = await _groups(rb)
    user = await _test_user(rb, groups)
    sp, _ = await g.find_app(rb.graph, rb.params.app.app_id, rb.params.app.display_name)
    notes: list[str] = []
    if sp is None:
        if rb.desired.apply:
            raise RunbookError(f"the app {rb.params.app.display_name!r} does not exist yet: run 01_setup_saml "
                               "with apply: true first")
        notes.append("the app does not exist yet (01_setup_saml creates it): planned against a new app; the SCIM "
                     "credentials are tested once it exists")
        target, current, jobs, role_id = JobTarget(None, None), [], [], DEFAULT_ACCESS_ROLE_ID
    else:
        template_id = await _template_id(rb, sp["id"])
        target = JobTarget(sp["id"], template_id)
        problem = await _validate(rb, sp["id"], template_id, creds)
        if problem:
            raise RunbookError(f"Test Connection with provisioning.scim_endpoint / scim_token failed: {problem}")
        notes.append(f"Test Connection to {creds.base_address} succeeded")
        current = await g.listing(rb.graph, f"/servicePrincipals/{sp['id']}/appRoleAssignedTo")
        jobs = [j for j in await g.listing(rb.graph, f"/servicePrincipals/{sp['id']}/synchronization/jobs")
                if j.get("templateId") == template_id]
        role_id = next((r["id"] for r in sp.get("appRoles") or [] if r.get("displayName") == "User"
                        and r.get("isEnabled", True)), DEFAULT_ACCESS_ROLE_ID)
    changes = _assignment_changes(current, groups, role_id)
    job = jobs[0] if jobs else None
    if job is None:
        changes.append(Change("create", "entra.sync_job", "provisioning job",
                              f"create the provisioning job from template {target.template_id or '(discovered)'}",
                              after={"templateId": target.template_id}))
    else:
        target.job_id = job["id"]
        notes.append(f"provisioning job {job['id']}: {job['status']['code']}, schedule {job['schedule']['state']}")
    saved_ok = job is not None and job["status"]["code"] != "NotConfigured" and \
        await _validate(rb, target.sp_id, target.template_id, None, job["id"]) is None
    if not saved_ok:
        body = secrets_body(rb, creds)
        changes.append(Change("update", "entra.sync_secrets", "provisioning credentials",
                              "save the SCIM endpoint and token; scope: assigned users and groups",
                              before=None if job is None else {"saved": "not usable or none"},
                              after={s["key"]: s["value"] for s in body}, payload={"secrets": body}))
    if in_identity_center(rb, user["userPrincipalName"]) is None:
        changes.append(Change("create", "entra.provision_on_demand", prov.test_user,
                              f"provision {prov.test_user} on demand (the test user) and check the result",
                              after={"user": prov.test_user}, payload={"userId": user["id"]}))
    if job is None or job["schedule"]["state"] != "Active" or job["status"]["code"] in ("Paused", "Quarantine"):
        changes.append(Change("update", "entra.sync_job_start", "provisioning job", "start provisioning",
                              before={"schedule": job["schedule"]["state"] if job else None,
                                      "status": job["status"]["code"] if job else None},
                              after={"schedule": "Active"}))
    return ProvisioningPlan(Plan(STEP, changes), target, user["id"], notes)


# --------------------------------------------------------------------------------------------- applying


def on_demand_outcome(response: dict) -> tuple[str, str]:
    """(result, details) of provisionOnDemand's stringKeyStringValuePair: Success, Skipped or Failure."""
    key = json.loads(response.get("key") or "{}")
    details = key.get("details") or {}
    return key.get("result") or "Unknown", details.get("errorMessage") or details.get("errorCode") or ""


def appliers(rb: Runbook, target: JobTarget) -> dict:
    adapter = rb.graph

    def sync(suffix: str) -> str:
        return f"/servicePrincipals/{target.sp_id}/synchronization{suffix}"

    async def assignment(change: Change) -> dict:
        if change.action == "delete":
            await g.delete(adapter, f"/servicePrincipals/{target.sp_id}/appRoleAssignedTo/"
                                    f"{change.payload['assignmentId']}")
            return {}
        made = await g.post(adapter, f"/servicePrincipals/{target.sp_id}/appRoleAssignedTo", {
            "principalId": change.payload["principalId"], "resourceId": target.sp_id,
            "appRoleId": change.after["appRoleId"]})
        return {"assignmentId": made["id"]}

    async def create_job(change: Change) -> dict:
        made = await g.post(adapter, sync("/jobs"), {"templateId": target.template_id})
        target.job_id = made["id"]
        return {"jobId": made["id"]}

    async def save_secrets(change: Change) -> dict:
        await g.put(adapter, sync("/secrets"), {"value": change.payload["secrets"]})
        return {}

    async def on_demand(change: Change) -> dict:
        schema = await g.get(adapter, sync(f"/jobs/{target.job_id}/schema"))
        rule = schema["synchronizationRules"][0]["id"]
        response = await g.post(adapter, sync(f"/jobs/{target.job_id}/provisionOnDemand"), {"parameters": [{
            "ruleId": rule, "subjects": [{"objectId": change.payload["userId"], "objectTypeName": "User"}]}]})
        result, details = on_demand_outcome(response)
        if result != "Success":
            raise RunbookError(f"provisioning {change.key} on demand: {result}" + (f": {details}" if details else ""))
        return {"result": result}

    async def start(change: Change) -> dict:
        await g.post(adapter, sync(f"/jobs/{target.job_id}/start"))
        return {}

    return {"entra.app_role_assignment": assignment, "entra.sync_job": create_job,
            "entra.sync_secrets": save_secrets, "entra.provision_on_demand": on_demand,
            "entra.sync_job_start": start}


async def apply(rb: Runbook, prov_plan: ProvisioningPlan) -> list[Outcome]:
    return await apply_plan_async(prov_plan.plan, appliers(rb, prov_plan.target), apply=rb.desired.apply,
                                  allow_removals=rb.desired.allow_removals, change_log=rb.change_log)
