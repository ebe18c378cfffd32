"""Applications, service principals and gallery templates: reads, PATCH, instantiate, app role assignments,
token-signing certificates and (beta) the custom claims policy."""

from __future__ import annotations

from datetime import timedelta

from idbridge.sandbox import derived
from idbridge.sandbox.graph import errors, resources as R, shapes
from idbridge.sandbox.graph.certs import make_signing_key
from idbridge.sandbox.graph.core import Call, Result, Router, collection, entity, merge
from idbridge.sandbox.graph.routes_directory import _count_text, _filtered
from idbridge.sandbox.graph.store import Json
from idbridge.sandbox.scenario import stable_id
from idbridge.sandbox.timeexpr import graph_time, parse_iso
from idbridge.saml.urls import INSTANTIATED_HOME_PAGE_URL

_ID = r"(?P<oid>[^/()]+)"
_SP = r"/servicePrincipals(?:/(?P<oid>[^/()]+)|\(appId='(?P<app_id>[^']+)'\))"
_APP = r"/applications(?:/(?P<oid>[^/()]+)|\(appId='(?P<app_id>[^']+)'\))"
_SSO_MODES = {None, "saml", "password", "oidc", "notSupported"}
_READ_ONLY = {"id", "appId", "createdDateTime", "deletedDateTime", "publisherDomain", "appOwnerOrganizationId",
              "applicationTemplateId", "keyCredentials", "passwordCredentials"}


def _find(items: dict[str, Json], oid: str | None, app_id: str | None) -> Json | None:
    if oid:
        return items.get(oid.lower())
    return next((x for x in items.values() if x["appId"] == (app_id or "").lower()), None)


def find_sp(call: Call, oid: str | None, app_id: str | None = None) -> Json:
    sp = _find(call.store.service_principals, oid, app_id)
    if sp is None:
        raise errors.not_found(oid or app_id or "")
    return sp


def _check_patch(body: dict, resource) -> None:
    for key in body:
        if key.startswith("@odata"):
            continue
        if key not in resource.properties:
            raise errors.bad_request(f"Property '{key}' does not exist on type 'microsoft.graph."
                                     f"{resource.type_name}'.", "Request_BadRequest")
        if key in _READ_ONLY:
            raise errors.bad_request(f"Property '{key}' is read-only and cannot be set.", "Request_BadRequest")


# ------------------------------------------------------------------------------------------------ applications


def list_applications(call: Call) -> Json:
    return collection(call, list(call.store.applications.values()), R.APPLICATION, "applications")


def count_applications(call: Call) -> Result:
    return _count_text(call, len(_filtered(call, list(call.store.applications.values()), R.APPLICATION)))


def get_application(call: Call, oid: str | None = None, app_id: str | None = None) -> Json:
    return entity(call, _find(call.store.applications, oid, app_id), R.APPLICATION, "applications",
                  oid or app_id or "")


def patch_application(call: Call, oid: str | None = None, app_id: str | None = None) -> Result:
    app = _find(call.store.applications, oid, app_id)
    if app is None:
        raise errors.not_found(oid or app_id or "")
    body = call.json_body()
    _check_patch(body, R.APPLICATION)
    merge(app, body)
    if "web" in body and "redirectUris" in (body["web"] or {}):
        app["web"]["redirectUriSettings"] = [{"uri": u, "index": None} for u in app["web"]["redirectUris"]]
    # Entra mirrors these on the application's service principal.
    for sp in call.store.service_principals.values():
        if sp["appId"] == app["appId"]:
            sp["replyUrls"] = list(app["web"]["redirectUris"])
            sp["servicePrincipalNames"] = [app["appId"], *app["identifierUris"]]
            if "displayName" in body:
                sp["appDisplayName"] = app["displayName"]
    return Result(204)


# ------------------------------------------------------------------------------------------------ service principals


def list_sps(call: Call) -> Json:
    return collection(call, list(call.store.service_principals.values()), R.SERVICE_PRINCIPAL, "servicePrincipals")


def count_sps(call: Call) -> Result:
    items = list(call.store.service_principals.values())
    return _count_text(call, len(_filtered(call, items, R.SERVICE_PRINCIPAL)))


def get_sp(call: Call, oid: str | None = None, app_id: str | None = None) -> Json:
    return entity(call, _find(call.store.service_principals, oid, app_id), R.SERVICE_PRINCIPAL,
                  "servicePrincipals", oid or app_id or "")


def patch_sp(call: Call, oid: str | None = None, app_id: str | None = None) -> Result:
    sp = find_sp(call, oid, app_id)
    body = call.json_body()
    _check_patch(body, R.SERVICE_PRINCIPAL)
    if "preferredSingleSignOnMode" in body and body["preferredSingleSignOnMode"] not in _SSO_MODES:
        raise errors.bad_request("Invalid value specified for property 'preferredSingleSignOnMode' of resource "
                                 "'ServicePrincipal'.", "Request_BadRequest")
    merge(sp, body)
    return Result(204)


def sp_assigned_to(call: Call, oid: str | None = None, app_id: str | None = None) -> Json:
    sp = find_sp(call, oid, app_id)
    items = [a for a in call.store.app_role_assignments.values() if a["resourceId"] == sp["id"]]
    return collection(call, items, R.ASSIGNMENT, f"servicePrincipals('{sp['id']}')/appRoleAssignedTo")


def sp_assignments(call: Call, oid: str | None = None, app_id: str | None = None) -> Json:
    sp = find_sp(call, oid, app_id)
    items = [a for a in call.store.app_role_assignments.values() if a["principalId"] == sp["id"]]
    return collection(call, items, R.ASSIGNMENT, f"servicePrincipals('{sp['id']}')/appRoleAssignments")


def assign(call: Call, oid: str | None = None, app_id: str | None = None) -> Result:
    sp = find_sp(call, oid, app_id)
    store = call.store
    body = call.json_body()
    principal_id = str(body.get("principalId") or "").lower()
    role_id = str(body.get("appRoleId") or "").lower()
    resource_id = str(body.get("resourceId") or sp["id"]).lower()
    if resource_id != sp["id"]:
        raise errors.bad_request("The resourceId of the app role assignment must be the service principal it is "
                                 "created on.", "Request_BadRequest")
    if principal_id in store.users:
        principal, kind = store.users[principal_id], "User"
    elif principal_id in store.groups:
        principal, kind = store.groups[principal_id], "Group"
    elif principal_id in store.service_principals:
        principal, kind = store.service_principals[principal_id], "ServicePrincipal"
    else:
        raise errors.not_found(principal_id)
    if role_id not in {r["id"] for r in sp["appRoles"]} | {shapes.DEFAULT_ACCESS_ROLE_ID}:
        raise errors.bad_request("Permission being assigned was not found on application", "Request_BadRequest")
    for existing in store.app_role_assignments.values():
        if (existing["principalId"], existing["resourceId"], existing["appRoleId"]) == \
                (principal_id, sp["id"], role_id):
            raise errors.bad_request("Permission being assigned already exists on the object",
                                     "Request_BadRequest")
    assignment_id = shapes.assignment_id(store.tenant["id"], sp["id"], principal_id, role_id, graph_time(call.now()))
    assignment = shapes.app_role_assignment(assignment_id, principal, kind, sp, role_id, call.now())
    store.app_role_assignments[assignment_id] = assignment
    body = {"@odata.context": f"{call.service_root}/$metadata#servicePrincipals('{sp['id']}')/appRoleAssignedTo/"
                              "$entity", **assignment}
    return Result(201, body)


def get_assignment(call: Call, aid: str, oid: str | None = None, app_id: str | None = None) -> Json:
    sp = find_sp(call, oid, app_id)
    item = call.store.app_role_assignments.get(aid)
    if item is not None and item["resourceId"] != sp["id"]:
        item = None
    return entity(call, item, R.ASSIGNMENT, f"servicePrincipals('{sp['id']}')/appRoleAssignedTo", aid)


def unassign(call: Call, aid: str, oid: str | None = None, app_id: str | None = None) -> Result:
    sp = find_sp(call, oid, app_id)
    item = call.store.app_role_assignments.get(aid)
    if item is None or item["resourceId"] != sp["id"]:
        raise errors.not_found(aid)
    del call.store.app_role_assignments[aid]
    return Result(204)


def add_signing_certificate(call: Call, oid: str | None = None, app_id: str | None = None) -> Json:
    sp = find_sp(call, oid, app_id)
    body = call.body if isinstance(call.body, dict) else {}
    display_name = body.get("displayName") or shapes.DEFAULT_CERT_NAME
    if not display_name.startswith("CN="):
        raise errors.bad_request("The displayName of a token signing certificate must start with 'CN='.",
                                 "Request_BadRequest")
    start = call.now().replace(microsecond=0)
    try:
        end = parse_iso(body["endDateTime"]) if body.get("endDateTime") else start + timedelta(days=3 * 365)
    except ValueError:
        raise errors.bad_request("Invalid value specified for property 'endDateTime'.", "Request_BadRequest") from None
    if not start < end <= start + timedelta(days=3 * 365 + 1):
        raise errors.bad_request("The endDateTime of a token signing certificate must be in the future and at "
                                 "most 3 years after its creation.", "Request_BadRequest")
    store = call.store
    keys = store.signing_keys.setdefault(sp["id"], [])
    index = len(keys)
    tid = store.tenant["id"]
    key = make_signing_key(index, f"{tid}:{sp['id']}:{index}:{graph_time(start)}",
                           stable_id(tid, "signing-key", sp["id"], str(index), graph_time(start)),
                           display_name, start, end)
    keys.append(key)
    verify_id = stable_id(tid, "verify-key", sp["id"], str(index), graph_time(start))
    sp["keyCredentials"] += shapes.key_credentials(key, display_name, verify_id)
    sp["passwordCredentials"].append(shapes.password_credential(key, display_name))
    return {"@odata.context": f"{call.service_root}/$metadata#microsoft.graph.selfSignedCertificate",
            **shapes.self_signed_certificate(key, display_name, verify_id)}


# ------------------------------------------------------------------------------------------------ templates


def list_templates(call: Call) -> Json:
    return collection(call, list(call.store.application_templates.values()), R.TEMPLATE, "applicationTemplates")


def get_template(call: Call, oid: str) -> Json:
    return entity(call, call.store.application_templates.get(oid.lower()), R.TEMPLATE, "applicationTemplates", oid)


def instantiate(call: Call, oid: str) -> Result:
    template = call.store.application_templates.get(oid.lower())
    if template is None:
        raise errors.not_found(oid)
    display_name = call.json_body().get("displayName")
    if not display_name:
        raise errors.bad_request("displayName is required to instantiate an application template.",
                                 "Request_BadRequest")
    store = call.store
    tid = store.tenant["id"]
    n = str(len(store.applications))
    aws = template["id"] == derived.AWS_GALLERY_TEMPLATE_ID
    app = shapes.application(
        stable_id(tid, "instantiated-app", template["id"], n), stable_id(tid, "instantiated-appId", template["id"], n),
        display_name, call.now(), template_id=template["id"], publisher_domain=store.tenant["verifiedDomains"][0]
        ["name"], identifier_uris=[], redirect_uris=[], app_roles=shapes.aws_app_roles() if aws else [])
    sp = shapes.service_principal(
        stable_id(tid, "instantiated-sp", template["id"], n), app, tid, sso_mode=None, login_url=None,
        notification_emails=[f"admin@{store.tenant['verifiedDomains'][0]['name']}"], role_assignment_required=aws)
    # Entra gives the new app no reply URLs and no SAML settings; the AWS template's wildcard is its home page.
    sp["samlSingleSignOnSettings"] = None
    if aws:
        app["web"]["homePageUrl"] = sp["homepage"] = INSTANTIATED_HOME_PAGE_URL
    store.applications[app["id"]] = app
    store.service_principals[sp["id"]] = sp
    if aws and store.aws_sp_id is None:
        store.aws_sp_id = sp["id"]
    return Result(201, {"@odata.context": f"{call.service_root}/$metadata#microsoft.graph.applicationServicePrincipal",
                        "application": app, "servicePrincipal": sp})


# ------------------------------------------------------------------------------------------------ claims (beta)


def _policy(call: Call, oid: str | None, app_id: str | None) -> tuple[Json, Json | None]:
    if call.version != "beta":
        raise errors.no_segment("claimsPolicy")
    sp = find_sp(call, oid, app_id)
    return sp, call.store.claims_policies.get(sp["id"])


def get_claims_policy(call: Call, oid: str | None = None, app_id: str | None = None) -> Json:
    sp, policy = _policy(call, oid, app_id)
    if policy is None:
        raise errors.not_found("claimsPolicy")
    return {"@odata.context": f"{call.service_root}/$metadata#servicePrincipals('{sp['id']}')/claimsPolicy/$entity",
            "@odata.type": "#microsoft.graph.customClaimsPolicy", **policy}


def write_claims_policy(call: Call, oid: str | None = None, app_id: str | None = None) -> Result:
    sp, policy = _policy(call, oid, app_id)
    body = {k: v for k, v in call.json_body().items() if not k.startswith("@odata")}
    if call.method == "PUT" or policy is None:
        policy = {"id": stable_id(call.store.tenant["id"], "claimsPolicy", sp["id"]), "includeBasicClaimSet": False,
                  "includeApplicationIdInIssuer": False, "audienceOverride": None, "groupFilter": None,
                  "claims": [], **body}
        call.store.claims_policies[sp["id"]] = policy
    else:
        merge(policy, body)
    out = {"@odata.type": "#microsoft.graph.customClaimsPolicy", **policy}
    return Result(200 if call.method == "PUT" else 201, out)


def register(router: Router) -> None:
    router.add(r"/applications", GET=list_applications)
    router.add(r"/applications/\$count", GET=count_applications)
    router.add(_APP, GET=get_application, PATCH=patch_application)
    router.add(r"/servicePrincipals", GET=list_sps)
    router.add(r"/servicePrincipals/\$count", GET=count_sps)
    router.add(_SP, GET=get_sp, PATCH=patch_sp)
    router.add(_SP + r"/appRoleAssignedTo", GET=sp_assigned_to, POST=assign)
    router.add(_SP + r"/appRoleAssignedTo/(?P<aid>[^/]+)", GET=get_assignment, DELETE=unassign)
    router.add(_SP + r"/appRoleAssignments", GET=sp_assignments)
    router.add(_SP + r"/addTokenSigningCertificate", POST=add_signing_certificate)
    router.add(_SP + r"/claimsPolicy", GET=get_claims_policy, PATCH=write_claims_policy, PUT=write_claims_policy)
    router.add(r"/applicationTemplates", GET=list_templates)
    router.add(rf"/applicationTemplates/{_ID}", GET=get_template)
    router.add(rf"/applicationTemplates/{_ID}/instantiate", POST=instantiate)
