"""Runbook step 1, SAML single sign-on (shared reference §1a, §2a): the Enterprise app from the gallery template,
SAML mode, Identifier / reply URLs / sign-on URL from the AWS SP metadata, the NameID claim, an active signing
certificate, and Entra's federation metadata written into the run folder for the upload to AWS.

Plan logic, from what is there now (a new app is planned as the template instantiates it):
- no app (by app.app_id, else by name)             -> create entra.app (instantiate the template)
- SSO mode not saml / sign-on URL differs          -> update entra.service_principal
- identifier or reply URLs differ from the metadata -> update entra.application (a wildcard reply URL goes;
                                                      other URLs are kept here and removed by delete changes)
- a reply URL / identifier not in the metadata      -> delete entra.reply_url / entra.identifier_uri
- NameID not emailAddress from the UPN              -> create / update entra.claims_policy
- ABAC claim keys of the desired state (runbooks/abac.py) -> create / update / delete entra.abac_claim
- no active certificate valid beyond renew_within_days -> create entra.signing_certificate (and activate it), or
                                                      update (activate a valid one that exists)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from idbridge.plan import Change, Outcome, Plan, apply_plan_async
from idbridge.runbooks import abac
from idbridge.runbooks import graph as g
from idbridge.runbooks import saml_claims as claims
from idbridge.runbooks.context import Runbook, RunbookError
from idbridge.runbooks.results import Note
from idbridge.runbooks.saml_metadata import FederationMetadata, SamlUrls, read_sp_metadata, write_federation_metadata
from idbridge.saml.certs import key_credential_thumbprint
from idbridge.saml.claims import single_policy
from idbridge.saml.urls import INSTANTIATED_HOME_PAGE_URL, is_wildcard

STEP = "saml"


@dataclass
class AppTarget:
    """Ids of the app the appliers write to; a new app's are filled in by the create applier."""

    sp_id: str | None = None
    app_object_id: str | None = None
    app_id: str | None = None


@dataclass
class SamlPlan:
    plan: Plan
    target: AppTarget
    urls: SamlUrls
    notes: list[str] = field(default_factory=list)

    def frame(self):
        return self.plan.frame()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def certificates(sp: dict) -> list[dict]:
    """The app's signing certificates (one per thumbprint: the Verify keyCredential), oldest first."""
    found: dict[str, dict] = {}
    for key in sp.get("keyCredentials") or []:
        thumb = key_credential_thumbprint(key)
        if thumb and key.get("usage") in ("Verify", "Sign") and (thumb not in found or key["usage"] == "Verify"):
            found[thumb] = {"thumbprint": thumb, "start": _when(key.get("startDateTime")),
                             "end": _when(key.get("endDateTime")), "displayName": key.get("displayName")}
    return sorted(found.values(), key=lambda c: c["start"] or datetime.min.replace(tzinfo=timezone.utc))


# --------------------------------------------------------------------------------------------- planning


def _service_principal_change(sp: dict, rb: Runbook, name: str) -> Change | None:
    wanted = {"preferredSingleSignOnMode": "saml"}
    if rb.desired.saml.sign_on_url:
        wanted["loginUrl"] = rb.desired.saml.sign_on_url
    differs = {k: v for k, v in wanted.items() if sp.get(k) != v}
    if not differs:
        return None
    return Change("update", "entra.service_principal", name,
                  "SAML single sign-on" + (" and the sign-on URL" if "loginUrl" in differs else ""),
                  before={k: sp.get(k) for k in differs}, after=differs)


def _url_changes(app: dict, urls: SamlUrls, name: str) -> list[Change]:
    identifiers = list(app.get("identifierUris") or [])
    replies = list((app.get("web") or {}).get("redirectUris") or [])
    other_ids = [u for u in identifiers if u != urls.identifier]
    other_replies = [u for u in replies if u not in urls.reply_urls and not is_wildcard(u)]
    want_ids = [urls.identifier, *other_ids]
    want_replies = [*urls.reply_urls, *other_replies]
    changes = []
    if set(identifiers) != set(want_ids) or set(replies) != set(want_replies) or replies[:1] != want_replies[:1]:
        dropped = [u for u in replies if is_wildcard(u)]
        changes.append(Change(
            "update", "entra.application", name,
            f"Identifier and {len(urls.reply_urls)} reply URL(s) from the SP metadata (primary Region default)"
            + (", the wildcard reply URL removed" if dropped else ""),
            before={"identifierUris": identifiers, "redirectUris": replies},
            after={"identifierUris": want_ids, "redirectUris": want_replies}))
    changes += [Change("delete", "entra.reply_url", url, f"remove reply URL {url}: not in the SP metadata",
                       before={"redirectUri": url}) for url in other_replies]
    changes += [Change("delete", "entra.identifier_uri", uri, f"remove identifier {uri}: not the issuer URL of "
                       "the SP metadata", before={"identifierUri": uri}) for uri in other_ids]
    return changes


def _claims_change(policy: dict | None, rb: Runbook, name: str) -> Change | None:
    guest = rb.desired.saml.guest_name_id_source
    current, wanted = claims.name_id_view(policy), claims.desired_view(guest)
    if claims.matches(current, wanted):
        return None
    action = "create" if policy is None else "update"
    return Change(action, "entra.claims_policy", name, "NameID: emailAddress from the UPN"
                  + (f", {guest} for guests" if guest else ""), before=current, after=wanted)


def _certificate_change(sp: dict, rb: Runbook, name: str) -> Change | None:
    saml = rb.desired.saml
    horizon = _now() + timedelta(days=saml.renew_within_days)
    certs = certificates(sp)
    preferred = (sp.get("preferredTokenSigningKeyThumbprint") or "").upper() or None
    active = next((c for c in certs if c["thumbprint"] == preferred), None)
    if active and active["end"] and active["end"] > horizon:
        return None
    before = {"activeThumbprint": preferred, "activeEnd": active["end"].isoformat() if active and active["end"]
              else None}
    spare = [c for c in certs if c["thumbprint"] != preferred and c["end"] and c["end"] > horizon]
    if spare:
        newest = spare[-1]
        return Change("update", "entra.signing_certificate", name, f"activate the existing signing certificate "
                      f"{newest['thumbprint']}: upload the new federation metadata to Identity Center next",
                      before=before, after={"activeThumbprint": newest["thumbprint"]},
                      payload={"thumbprint": newest["thumbprint"]})
    return Change("create", "entra.signing_certificate", name,
                  f"create a signing certificate valid {saml.certificate_years} year(s) and make it active"
                  + (": upload the new federation metadata to Identity Center next" if active else ""),
                  before=before, after={"displayName": saml.certificate_name, "validYears": saml.certificate_years})


async def plan(rb: Runbook) -> SamlPlan:
    """Read the tenant and the SP metadata, and plan; writes nothing."""
    rb.section("saml")
    urls = read_sp_metadata(rb, rb.instance)
    adapter, name = rb.graph, rb.params.app.display_name
    try:
        sp, app = await g.find_app(adapter, rb.params.app.app_id, name)
    except g.AppLookupError as exc:
        raise RunbookError(str(exc)) from None
    changes: list[Change] = []
    notes = list(urls.notes)
    if sp is None:
        template = await g.gallery_template(adapter)
        changes.append(Change("create", "entra.app", name, f"create the Enterprise app {name!r} from the gallery "
                              f"template {template['displayName']!r}", after={"templateId": template["id"],
                                                                              "displayName": name}))
        # Planned against the app as instantiation makes it (shared reference §2a).
        sp = {"preferredSingleSignOnMode": None, "loginUrl": None, "keyCredentials": []}
        app = {"identifierUris": [], "web": {"redirectUris": [], "homePageUrl": INSTANTIATED_HOME_PAGE_URL}}
        policy, target = None, AppTarget()
    else:
        if app is None:
            raise RunbookError(f"the app {name!r} (appId {sp['appId']}) has no application object in this tenant "
                               "(registered elsewhere?): its identifier and reply URLs cannot be set")
        policy = single_policy(
            await g.get_or_none(adapter, g.beta(adapter, f"/servicePrincipals/{sp['id']}/claimsPolicy")))
        target = AppTarget(sp["id"], app["id"], sp["appId"])
        notes.append(f"found the app {sp.get('displayName')!r} (appId {sp['appId']})")
    changes += [c for c in (_service_principal_change(sp, rb, name),) if c]
    changes += _url_changes(app, urls, name)
    changes += [c for c in (_claims_change(policy, rb, name), _certificate_change(sp, rb, name)) if c]
    if rb.desired.abac is not None:  # after the NameID change, which creates the policy when there is none
        changes += abac.claim_changes(policy, rb.desired.abac)
    return SamlPlan(Plan(STEP, changes), target, urls, notes)


# --------------------------------------------------------------------------------------------- applying


def appliers(rb: Runbook, target: AppTarget) -> dict:
    adapter = rb.graph
    saml = rb.desired.saml

    def sp_path(suffix: str = "") -> str:
        return f"/servicePrincipals/{target.sp_id}{suffix}"

    async def create_app(change: Change) -> dict:
        made = await g.post(adapter, f"/applicationTemplates/{change.after['templateId']}/instantiate",
                            {"displayName": change.after["displayName"]})
        sp, app = made["servicePrincipal"], made["application"]
        target.sp_id, target.app_object_id, target.app_id = sp["id"], app["id"], app["appId"]
        await g.until_replicated(lambda: g.get(adapter, sp_path(), **{"$select": "id"}))
        return {"appId": app["appId"], "servicePrincipalId": sp["id"], "applicationId": app["id"]}

    async def update_sp(change: Change) -> dict:
        await g.until_replicated(lambda: g.patch(adapter, sp_path(), change.after))
        return {}

    async def update_app(change: Change) -> dict:
        body = {"identifierUris": change.after["identifierUris"],
                "web": {"redirectUris": change.after["redirectUris"]}}
        await g.until_replicated(lambda: g.patch(adapter, f"/applications/{target.app_object_id}", body))
        return {}

    async def remove_url(change: Change) -> dict:
        app = await g.get(adapter, f"/applications/{target.app_object_id}", **{"$select": g.APP_FIELDS})
        if change.kind == "entra.reply_url":
            kept = [u for u in app["web"]["redirectUris"] if u != change.key]
            body = {"web": {"redirectUris": kept}}
        else:
            body = {"identifierUris": [u for u in app["identifierUris"] if u != change.key]}
        await g.patch(adapter, f"/applications/{target.app_object_id}", body)
        return {}

    async def write_claims(change: Change) -> dict:
        url = g.beta(adapter, sp_path("/claimsPolicy"))
        current = await g.get_or_none(adapter, url)
        if current is None:
            await g.put(adapter, url, claims.new_policy(saml.guest_name_id_source))
        else:
            await g.patch(adapter, url, {"claims": claims.with_name_id(current, saml.guest_name_id_source)})
        return {}

    async def abac_claim(change: Change) -> dict:
        url = g.beta(adapter, sp_path("/claimsPolicy"))
        current = single_policy(await g.get_or_none(adapter, url)) or {}
        await g.patch(adapter, url, {"claims": abac.with_claim_change(current.get("claims") or [], change)})
        return {}

    async def certificate(change: Change) -> dict:
        thumbprint = change.payload.get("thumbprint")
        result: dict = {}
        if change.action == "create":
            end = _now() + timedelta(days=365 * saml.certificate_years)
            made = await g.post(adapter, sp_path("/addTokenSigningCertificate"),
                                {"displayName": saml.certificate_name,
                                 "endDateTime": end.strftime("%Y-%m-%dT%H:%M:%SZ")})
            thumbprint = made["thumbprint"]
            result = {"thumbprint": thumbprint, "endDateTime": made.get("endDateTime")}
        await g.patch(adapter, sp_path(), {"preferredTokenSigningKeyThumbprint": thumbprint})
        return result or {"thumbprint": thumbprint}

    return {"entra.app": create_app, "entra.service_principal": update_sp, "entra.application": update_app,
            "entra.reply_url": remove_url, "entra.identifier_uri": remove_url, "entra.claims_policy": write_claims,
            "entra.signing_certificate": certificate, "entra.abac_claim": abac_claim}


async def apply(rb: Runbook, saml_plan: SamlPlan) -> list[Outcome]:
    """Apply the plan as the desired state allows (apply, allow_removals); every write goes to the change log."""
    return await apply_plan_async(saml_plan.plan, appliers(rb, saml_plan.target), apply=rb.desired.apply,
                                  allow_removals=rb.desired.allow_removals, change_log=rb.change_log)


async def federation_metadata(rb: Runbook) -> FederationMetadata | Note:
    """Entra's federation metadata of the app, written into the run folder; a note instead while the app or its
    active certificate does not exist yet (a dry run on a new tenant)."""
    sp, _ = await g.find_app(rb.graph, rb.params.app.app_id, rb.params.app.display_name)
    if sp is None or not sp.get("preferredTokenSigningKeyThumbprint"):
        return Note("No federation metadata yet: the app or its active signing certificate does not exist (apply "
                    "the plan first).")
    return await write_federation_metadata(rb, sp)
