"""Metadata files against the app as collected: the differences, one sentence each, for the notebook and the setup
runbook. An empty list means the file and the app agree on everything compared.

The SP metadata is the only place the ACS id can be read (no API returns it), so here the ACS URLs are compared
exactly, where the saml.reply_url_missing check can only compare Regions and path shapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from idbridge.saml.metadata import IdpMetadata, SpMetadata
from idbridge.saml.urls import is_wildcard, items, login_url_problem, parse_acs, parse_issuer, text


def _get(row: Mapping[str, Any] | None, key: str) -> Any:
    if row is None:
        return None
    try:
        return row.get(key)
    except AttributeError:
        return None


def _records(rows: Any) -> list[Mapping[str, Any]]:
    if rows is None:
        return []
    if hasattr(rows, "to_dict"):  # a DataFrame
        return rows.to_dict("records")
    return list(rows) if isinstance(rows, Iterable) else []


def compare_sp_metadata_with_app(sp_meta: SpMetadata, service_principal_row: Mapping[str, Any] | None,
                                 application_row: Mapping[str, Any] | None) -> list[str]:
    """Differences between the AWS SP metadata and the Entra app (entra_service_principal / entra_application
    rows, as dicts or pandas Series)."""
    out: list[str] = []
    mode = text(_get(service_principal_row, "preferredSingleSignOnMode"))
    if service_principal_row is not None and (mode or "").lower() != "saml":
        out.append(f"single sign-on mode is {mode or 'not set'}, not saml")

    if application_row is None:
        out.append("no application object was collected: identifierUris cannot be compared")
        identifiers: list[str] = []
    else:
        identifiers = items(_get(application_row, "identifierUris"))
        if sp_meta.entity_id not in identifiers:
            out.append(f"Identifier (Entity ID): the metadata's issuer URL {sp_meta.entity_id} is not among "
                       f"identifierUris {identifiers or '(none)'}")
        for uri in identifiers:
            other = parse_issuer(uri)
            if uri != sp_meta.entity_id and other:
                out.append(f"identifierUris also hold {uri}, the issuer URL of identity store {other.store_id} in "
                           f"{other.region}")

    replies = items(_get(application_row, "redirectUris")) if application_row is not None else []
    replies = replies or items(_get(service_principal_row, "replyUrls"))
    for endpoint in sp_meta.acs:
        if endpoint.location not in replies:
            out.append(f"Reply URL (ACS): the metadata's {endpoint.location} is not among the reply URLs")
    meta_ids = {a.acs_id for a in (parse_acs(u) for u in sp_meta.acs_urls) if a}
    for url in replies:
        acs = parse_acs(url)
        if acs and meta_ids and acs.acs_id not in meta_ids:
            out.append(f"reply URL {url} has ACS id {acs.acs_id}, the metadata's is {', '.join(sorted(meta_ids))}: "
                       "it belongs to another instance or an older configuration")
    out += [f"the wildcard reply URL {u} is among the reply URLs (Entra never puts it there itself)" for u in replies
            if is_wildcard(u)]

    login = text(_get(service_principal_row, "loginUrl"))
    if login and sp_meta.identity_store_id and sp_meta.region:
        problem = login_url_problem(login, sp_meta.identity_store_id, [sp_meta.region], None)
        if problem:
            out.append(f"Sign-on URL {login}: {problem}")
    return out


def compare_idp_metadata_with_app(idp_meta: IdpMetadata, key_credentials: Any, preferred_thumbprint: str | None,
                                  tenant_id: str | None) -> list[str]:
    """Differences between Entra's federation metadata file and the app's signing certificates
    (entra_app_key_credentials rows) and tenant."""
    out: list[str] = []
    if tenant_id and idp_meta.tenant_id != tenant_id.lower():
        out.append(f"the metadata is from tenant {idp_meta.tenant_id or idp_meta.entity_id}, the audited tenant "
                   f"is {tenant_id}")
    known = {t.upper() for t in (text(_get(k, "thumbprint")) for k in _records(key_credentials)) if t}
    active = (text(preferred_thumbprint) or "").upper() or None
    cert = idp_meta.signing_certificate
    if active is None:
        out.append("the app has no active signing certificate (preferredTokenSigningKeyThumbprint is empty)")
    elif cert.thumbprint != active:
        if cert.thumbprint in known:
            out.append(f"the metadata's signing certificate {cert.describe()} is one of the app's certificates "
                       f"but not the active one ({active}): download the metadata again")
        else:
            out.append(f"the metadata's signing certificate {cert.describe()} is not one of the app's "
                       "certificates: the file comes from another app or tenant")
    for extra in idp_meta.signing_certificates[1:]:
        if extra.thumbprint not in known:
            out.append(f"the metadata also holds {extra.describe()}, which is not one of the app's certificates")
    if cert.expired:
        out.append(f"the metadata's signing certificate {cert.describe()} has expired")
    return out
