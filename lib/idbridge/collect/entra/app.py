"""The AWS IAM Identity Center enterprise application: finding its service principal, and turning the service
principal, application, signing keys and claims policy into the entra.app tables.

The app is looked up by params.app.app_id when given (and nothing else: a wrong id must not silently audit some
other app), else by display name, else by the gallery template it was created from.
"""

from __future__ import annotations

import pandas as pd

from idbridge.clients.graph.paging import get_with_retries, read_all
from idbridge.collect.entra.frames import dig, frame, to_json
from idbridge.core.facts import AWS_GALLERY_TEMPLATE_ID
from idbridge.saml.certs import key_credential_thumbprint
from idbridge.saml.claims import claims_rows

SP_SELECT = ("id,appId,displayName,preferredSingleSignOnMode,loginUrl,replyUrls,appRoleAssignmentRequired,"
             "preferredTokenSigningKeyThumbprint,notificationEmailAddresses,applicationTemplateId,"
             "samlSingleSignOnSettings,appRoles,keyCredentials")
APP_SELECT = "id,appId,displayName,identifierUris,web"


class AppNotFound(Exception):
    """No (or no single) service principal for the AWS IAM Identity Center app."""


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"  # OData string literal


async def _sps(adapter, odata_filter: str) -> list[dict]:
    return await read_all(adapter, "/servicePrincipals", params={"$filter": odata_filter, "$select": SP_SELECT})


def _one(found: list[dict], how: str) -> dict:
    if len(found) == 1:
        return found[0]
    ids = ", ".join(f"{sp.get('displayName')} (appId {sp.get('appId')})" for sp in found)
    raise AppNotFound(f"{len(found)} service principals match {how}: {ids}; set app.app_id in the parameters")


async def find_service_principal(adapter, app_id: str | None, display_name: str | None) -> dict:
    if app_id:
        found = await _sps(adapter, f"appId eq {_quote(app_id)}")
        if not found:
            raise AppNotFound(f"no service principal with appId {app_id} (app.app_id) in this tenant")
        return found[0]
    tried = []
    if display_name:
        found = await _sps(adapter, f"displayName eq {_quote(display_name)}")
        # Several apps may share a name; the one made from the AWS gallery template is the one we want.
        gallery = [sp for sp in found if sp.get("applicationTemplateId") == AWS_GALLERY_TEMPLATE_ID]
        if len(found) == 1 or len(gallery) == 1:
            return gallery[0] if gallery else found[0]
        if found:
            return _one(found, f"displayName '{display_name}'")
        tried.append(f"displayName '{display_name}'")
    found = await _sps(adapter, f"applicationTemplateId eq {_quote(AWS_GALLERY_TEMPLATE_ID)}")
    if found:
        return _one(found, f"the AWS IAM Identity Center gallery template ({AWS_GALLERY_TEMPLATE_ID})")
    tried.append(f"applicationTemplateId {AWS_GALLERY_TEMPLATE_ID}")
    raise AppNotFound("AWS IAM Identity Center application not found: no service principal with "
                      + " or ".join(tried) + "; set app.app_id or app.display_name in the parameters")


async def find_application(adapter, app_id: str) -> dict | None:
    """The app registration behind the service principal (absent for apps registered in another tenant)."""
    found = await read_all(adapter, "/applications",
                           params={"$filter": f"appId eq {_quote(app_id)}", "$select": APP_SELECT})
    return found[0] if found else None


async def read_key_credentials(adapter, sp_id: str) -> list[dict]:
    """The service principal's keyCredentials with `key` (the certificate): Graph returns `key` only on a
    single-object read that $select-s keyCredentials, never in a list. A certificate added as a custom signing
    key carries a SHA-256 customKeyIdentifier, so its thumbprint can only come from the certificate itself."""
    answer = await get_with_retries(adapter, f"/servicePrincipals/{sp_id}", params={"$select": "keyCredentials"})
    return (answer or {}).get("keyCredentials") or []


def key_thumbprints(keys: list[dict]) -> list[str | None]:
    """The SHA-1 thumbprint of each keyCredential. A key without a readable one (a Sign key, whose private part
    Graph never returns, beside a custom SHA-256 customKeyIdentifier) takes the thumbprint of the key with the
    same customKeyIdentifier whose certificate was returned."""
    own = [key_credential_thumbprint(k) for k in keys]
    by_identifier: dict[str, str] = {}
    for key, thumbprint in zip(keys, own):
        if thumbprint and key.get("key") and key.get("customKeyIdentifier"):
            by_identifier.setdefault(key["customKeyIdentifier"], thumbprint)
    return [t or by_identifier.get(k.get("customKeyIdentifier") or "") for k, t in zip(keys, own)]


# ------------------------------------------------------------------------------------------------ tables


def app_tables(sp: dict, application: dict | None, claims_policy: dict | None) -> dict[str, pd.DataFrame]:
    apps = [application] if application else []
    keys = sp.get("keyCredentials") or []
    keys = [{**k, "thumbprint": t} for k, t in zip(keys, key_thumbprints(keys))]
    return {
        "entra_service_principal": frame("entra_service_principal", [sp], derived={
            "samlSingleSignOnSettings_json": lambda i: to_json(i.get("samlSingleSignOnSettings")),
            "appRoles_json": lambda i: to_json(i.get("appRoles")),
        }),
        "entra_application": frame("entra_application", apps, derived={
            "redirectUris": lambda i: dig(i, "web", "redirectUris"),
        }),
        "entra_app_key_credentials": frame("entra_app_key_credentials", keys,
                                           times=("startDateTime", "endDateTime")),
        "entra_app_claims": frame("entra_app_claims", claims_rows(claims_policy)),
    }
