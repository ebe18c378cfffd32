"""SAML trust between Entra ID and IAM Identity Center (shared reference §1a, §2a, §3 checks #1–#3).

Each unit reads the collected app tables and, where it needs the AWS side, the audited instance (the first row of
idc_instances). All findings are about the app, `settings.app_subject`. Values absent from a snapshot (no
application object, no instance row, no claims policy) make a check "not checked" with the reason, never a pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from idbridge.checks.base import Hit, Severity, check
from idbridge.checks.common import iso as _iso, when as _when
from idbridge.checks.controls import cis_aws, iso, nist
from idbridge.saml.urls import (EMAIL_FORMAT, WILDCARD_REPLY_URL, instance_id_of, is_wildcard, issuer_url, items,
                                login_url_problem, parse_acs, parse_issuer, partition_of, text)
from idbridge.snapshot.store import NotCollected

MS_SSO = "https://learn.microsoft.com/en-us/entra/identity/saas-apps/aws-single-sign-on-tutorial"
AWS_ENTRA = "https://docs.aws.amazon.com/singlesignon/latest/userguide/idp-microsoft-entra.html"
AWS_TROUBLESHOOTING = "https://docs.aws.amazon.com/singlesignon/latest/userguide/troubleshooting.html"
AWS_MULTI_REGION = "https://docs.aws.amazon.com/singlesignon/latest/userguide/replicate-to-additional-region.html"
AWS_MULTI_REGION_ACS = "https://docs.aws.amazon.com/singlesignon/latest/userguide/multi-region-workforce-access.html"
MS_CERTIFICATES = ("https://learn.microsoft.com/en-us/entra/identity/enterprise-apps/"
                   "tutorial-manage-certificates-for-federated-single-sign-on")
GRAPH_ADD_CERTIFICATE = "https://learn.microsoft.com/en-us/graph/api/serviceprincipal-addtokensigningcertificate"
GRAPH_SAML_SSO = "https://learn.microsoft.com/en-us/graph/application-saml-sso-configure-api"
MS_CLAIMS = "https://learn.microsoft.com/en-us/entra/identity-platform/saml-claims-customization"

SP = "entra_service_principal"
APP = "entra_application"
KEYS = "entra_app_key_credentials"
CLAIMS = "entra_app_claims"
INSTANCES = "idc_instances"
TRAIL = "cloudtrail_events"
UPLOAD_EVENTS = ("CreateExternalIdPConfigurationForDirectory", "UpdateExternalIdPConfigurationForDirectory")
UPN_SOURCE = "user.userprincipalname"


# ------------------------------------------------------------------------------------------------ reading


def _first(data, table: str, source: str, why: str) -> dict[str, Any]:
    frame = data.table(table)
    if frame.empty:
        raise NotCollected(source, why)
    return frame.iloc[0].to_dict()


def _service_principal(data) -> dict[str, Any]:
    return _first(data, SP, "entra.app", "no service principal row for the AWS app")


def _application(data) -> dict[str, Any]:
    # Absent when the app is registered in another tenant: identifierUris / redirectUris cannot be read then.
    return _first(data, APP, "entra.app", "no application object for the AWS app (registered in another "
                                          "tenant?): its identifierUris and redirectUris cannot be read")


def _instance(data) -> dict[str, Any]:
    return _first(data, INSTANCES, "aws.instances", "no Identity Center instance row")


def _commercial_instance(data) -> dict[str, Any]:
    """The instance row, for checks that compare URL shapes: those shapes are known for the commercial partition
    only. GovCloud and China instances make the check "not checked" (partition not supported), never a finding."""
    instance = _instance(data)
    partition = partition_of(text(instance.get("region")), text(instance.get("instanceArn")))
    if partition != "aws":
        raise NotCollected("aws.instances", f"partition not supported: the instance is in {partition} (Region "
                           f"{text(instance.get('region'))}); its SAML URL shapes are not checked, compare the app's "
                           "Identifier, Reply URL and Sign on URL with that instance's SP metadata by hand")
    return instance


def _regions(data, instance: dict[str, Any]) -> list[str]:
    """The audited instance's Regions, primary first. idc_instances keeps one row per instance (its primary
    Region); rows of the same store and a list column `regions` (ListRegions), if a collection has them, add the
    others."""
    frame = data.table(INSTANCES)
    store = text(instance.get("identityStoreId"))
    same = frame[frame["identityStoreId"] == store] if store and "identityStoreId" in frame else frame.head(1)
    regions = [text(instance.get("region"))] + [text(r) for r in same.get("region", [])]
    if "regions" in frame.columns:
        for value in same["regions"]:
            regions += items(value)
    return [r for r in dict.fromkeys(regions) if r]


def _reply_urls(data) -> list[str]:
    """web.redirectUris of the application, else the service principal's replyUrls (the same list in Graph)."""
    app = data.table(APP)
    urls = items(app.iloc[0]["redirectUris"]) if not app.empty and "redirectUris" in app else []
    return urls or items(_service_principal(data).get("replyUrls"))


def _now(settings) -> datetime:
    now = settings.now
    return now if now.tzinfo else now.replace(tzinfo=timezone.utc)


def _certificates(data) -> list[dict[str, Any]]:
    """One entry per signing certificate: Entra keeps a Sign (private) and a Verify (public) keyCredential with
    the same thumbprint for each; the Verify one carries the certificate, so its dates win."""
    frame = data.table(KEYS)
    certs: dict[str, dict[str, Any]] = {}
    for row in frame.to_dict("records"):
        thumbprint = (text(row.get("thumbprint")) or "").upper()
        usage = text(row.get("usage"))
        kind = text(row.get("type"))
        if not thumbprint or usage not in ("Verify", "Sign") or (kind and "X509" not in kind):
            continue
        entry = {"thumbprint": thumbprint, "displayName": text(row.get("displayName")),
                 "start": _when(row.get("startDateTime")), "end": _when(row.get("endDateTime"))}
        if thumbprint not in certs or usage == "Verify":
            certs[thumbprint] = entry
    return sorted(certs.values(), key=lambda c: c["start"] or datetime.min.replace(tzinfo=timezone.utc))


def _unreadable_certificates(data) -> int:
    """Certificate keyCredentials whose thumbprint could not be read (their certificate was not returned)."""
    count = 0
    for row in data.table(KEYS).to_dict("records"):
        kind = text(row.get("type")) or ""
        if not text(row.get("thumbprint")) and text(row.get("usage")) in ("Verify", "Sign") and "X509" in kind:
            count += 1
    return count


def _active(data) -> tuple[str | None, dict[str, Any] | None, list[dict[str, Any]]]:
    preferred = (text(_service_principal(data).get("preferredTokenSigningKeyThumbprint")) or "").upper() or None
    certs = _certificates(data)
    return preferred, next((c for c in certs if c["thumbprint"] == preferred), None), certs


# ------------------------------------------------------------------------------------------------ checks


@check(id="saml.sso_mode", title="The AWS app is not in SAML single sign-on mode",
       passed="The AWS app's service principal has preferredSingleSignOnMode set to saml.",
       severity="high", area="saml", subject_kind="app",
       controls=nist("CM-6", "IA-2") + iso("8.5") + cis_aws("1.21"),
       meaning="The service principal's preferredSingleSignOnMode is not saml: Entra does not treat the app as a "
               "SAML application (My Apps launch, the SAML settings blade), so sign-in to the AWS access portal "
               "through Entra is broken or unmanaged.",
       fix="Entra admin center › Enterprise applications › the AWS app › Single sign-on › select SAML (or PATCH "
           "/servicePrincipals/{id} {\"preferredSingleSignOnMode\": \"saml\"}), then re-check the Basic SAML "
           "Configuration values against the Identity Center SP metadata.",
       references=(MS_SSO, GRAPH_SAML_SSO), tables=(SP,))
def sso_mode(data, settings) -> Iterator[Hit]:
    mode = text(_service_principal(data).get("preferredSingleSignOnMode"))
    if (mode or "").lower() != "saml":
        yield Hit(settings.app_subject, evidence={"preferredSingleSignOnMode": mode},
                  detail=f"preferredSingleSignOnMode is {mode or 'not set'}; it must be saml")


@check(id="saml.identifier_mismatch", title="Identifier (Entity ID) is not the Identity Center issuer URL",
       passed="The AWS app's identifierUris include this instance's issuer URL "
              "(https://<region>.signin.aws.amazon.com/platform/saml/<identity store id>).",
       severity="critical", area="saml", subject_kind="app",
       controls=nist("CM-6", "SC-23") + iso("8.5"),
       meaning="Entra puts the app's identifier in the assertion's Audience; Identity Center accepts only its own "
               "issuer URL. Without it, Entra refuses the sign-in (AADSTS700016) or AWS rejects the assertion.",
       fix="Upload the Identity Center SP metadata in Single sign-on › Basic SAML Configuration, or set the "
           "Identifier to https://<region>.signin.aws.amazon.com/platform/saml/<identity store id> (Identity Center "
           "console › Settings › Identity source › the issuer URL). Remove values from IAM SAML federation "
           "(https://signin.aws.amazon.com/saml).",
       references=(MS_SSO, AWS_ENTRA, GRAPH_SAML_SSO), tables=(APP, INSTANCES))
def identifier_mismatch(data, settings) -> Iterator[Hit]:
    instance = _commercial_instance(data)
    store, region = text(instance.get("identityStoreId")), text(instance.get("region"))
    if not store or not region:
        raise NotCollected("aws.instances", "the instance row has no identity store id or Region")
    expected = issuer_url(region, store)
    identifiers = items(_application(data).get("identifierUris"))
    if expected in identifiers:
        return
    others = [f"{u} (store {p.store_id}, {p.region})" for u in identifiers if (p := parse_issuer(u))]
    detail = f"identifierUris {identifiers or '(none)'} lack the issuer URL {expected}"
    if others:
        detail += f"; Identity Center issuer URL(s) present: {', '.join(others)}"
    yield Hit(settings.app_subject, detail=detail,
              evidence={"expected": expected, "identifierUris": identifiers, "otherIssuers": others})


@check(id="saml.reply_url_missing", title="An Identity Center Region's ACS URL is not among the reply URLs",
       passed="Every Region of the Identity Center instance has an ACS URL of that Region among the AWS app's reply "
              "URLs (Region and URL shape compared; the ACS id is not readable by API and was not compared).",
       severity="high", area="saml", subject_kind="app",
       controls=nist("CM-6") + iso("8.5", "8.9"),
       graded={"critical": "the primary Region is the one without an ACS URL: nobody can sign in"},
       meaning="Entra only posts assertions to listed reply URLs. A Region without its ACS URL cannot be signed in "
               "to (AADSTS50011 reply URL mismatch); for the primary Region that is everyone.",
       fix="Add https://<region>.signin.aws/platform/saml/acs/<id> (dual-stack: <region>.sso.signin.aws) for every "
           "Identity Center Region, as each Region's SP metadata gives it, in Basic SAML Configuration › Reply URL, "
           "primary Region as default. https://<region>.signin.aws.amazon.com/platform/saml/acs/<id> is an "
           "alternative for the primary Region only (and not used for instances enabled from February 2026): it "
           "does not serve an additional Region. Compare the ACS id with the SP metadata: no API can read it.",
       references=(MS_SSO, AWS_ENTRA, AWS_MULTI_REGION, AWS_MULTI_REGION_ACS), tables=(SP, APP, INSTANCES))
def reply_url_missing(data, settings) -> Iterator[Hit]:
    regions = _regions(data, _commercial_instance(data))
    if not regions:
        raise NotCollected("aws.instances", "the instance row has no Region")
    replies = _reply_urls(data)
    parsed = [a for a in (parse_acs(u) for u in replies) if a]
    # <region>.signin.aws.amazon.com serves the primary Region only; <region>[.sso].signin.aws serves any Region.
    covered = {a.region for a in parsed if not a.primary_only or a.region == regions[0]}
    primary_form_only = sorted({a.region for a in parsed if a.primary_only and a.region != regions[0]})
    missing = [r for r in regions if r not in covered]
    if not missing:
        return
    primary = regions[0] in missing
    detail = (f"no ACS URL for {', '.join(missing)}" + (" (the primary Region)" if primary else "")
              + f" among the reply URLs {replies or '(none)'}")
    wrong_form = [r for r in missing if r in primary_form_only]
    if wrong_form:
        detail += (f"; {', '.join(wrong_form)} only has the <region>.signin.aws.amazon.com form, which AWS documents "
                   "for the primary Region only: add https://<region>.signin.aws/platform/saml/acs/<id>")
    yield Hit(settings.app_subject, severity="critical" if primary else None, detail=detail, evidence={
        "regions": regions, "missing": missing, "replyUrls": replies, "primaryFormOnly": wrong_form,
        "compared": "the host Region and path shape https://<region>.signin.aws/platform/saml/acs/<id> (any Region; "
                    "dual-stack <region>.sso.signin.aws) or https://<region>.signin.aws.amazon.com/platform/saml/acs/"
                    "<id> (primary Region only); the ACS id itself cannot be read by API, compare it with the SP "
                    "metadata (idbridge.saml.compare.compare_sp_metadata_with_app); the wildcard does not count"})


@check(id="saml.wildcard_reply_url", title="A wildcard reply URL is configured",
       passed="None of the AWS app's reply URLs contains a wildcard (*). The wildcard Entra puts in the home page "
              "URL when the gallery app is created is not a reply URL and is not reported.",
       severity="medium", area="saml", subject_kind="app",
       controls=nist("CM-6", "SC-23") + iso("8.5", "8.9"),
       meaning="Entra creates the gallery app with no reply URLs: the template's pattern "
               "https://*.signin.aws.amazon.com/platform/saml/acs/* sits only in its home page URL "
               "(web.homePageUrl). A wildcard among the reply URLs was put there by hand or by a script (often "
               "copied from that pattern). Left in place, Entra accepts sign-in requests naming any matching ACS URL, "
               "not only this instance's, and the reply URLs no longer show which Regions are really configured.",
       fix="Remove the wildcard from Basic SAML Configuration › Reply URL and keep one ACS URL per Identity "
           "Center Region, as the Identity Center SP metadata gives them (upload the metadata file).",
       references=(MS_SSO, GRAPH_SAML_SSO), tables=(SP, APP))
def wildcard_reply_url(data, settings) -> Iterator[Hit]:
    wildcards = [u for u in _reply_urls(data) if is_wildcard(u)]
    if wildcards:
        note = " (the gallery template's home-page pattern, copied into the reply URLs)" \
            if any(u.split("?", 1)[0] == WILDCARD_REPLY_URL for u in wildcards) else ""
        yield Hit(settings.app_subject, detail=f"reply URLs hold {', '.join(wildcards)}{note}",
                  evidence={"wildcards": wildcards})


@check(id="saml.login_url_mismatch", title="The sign-on URL is not this instance's access portal",
       passed="The AWS app's sign-on URL is empty or points to this instance's access portal (its Regions, identity "
              "store or instance; a custom awsapps.com alias cannot be tied to a store and is accepted).",
       severity="medium", area="saml", subject_kind="app",
       controls=nist("CM-6") + iso("8.5", "8.9"),
       meaning="The sign-on URL is where My Apps and SP-initiated sign-in send users. Pointing at another identity "
               "store, Region or a non-portal URL sends them to the wrong instance (often a decommissioned pilot) "
               "or to IAM federation, where their sign-in fails.",
       fix="Set Basic SAML Configuration › Sign on URL to this instance's AWS access portal sign-in URL "
           "(Identity Center console › Settings › Identity source: https://portal.sso.<region>.amazonaws.com/saml/"
           "assertion/<id>), or clear it.",
       references=(MS_SSO, AWS_ENTRA), tables=(SP, INSTANCES))
def login_url_mismatch(data, settings) -> Iterator[Hit]:
    url = text(_service_principal(data).get("loginUrl"))
    if not url:
        return  # optional in Entra: without it, My Apps signs in IdP-initiated
    instance = _commercial_instance(data)
    store = text(instance.get("identityStoreId"))
    if not store:
        raise NotCollected("aws.instances", "the instance row has no identity store id")
    regions = _regions(data, instance)
    problem = login_url_problem(url, store, regions, instance_id_of(text(instance.get("instanceArn"))))
    if problem:
        yield Hit(settings.app_subject, detail=f"sign-on URL {url}: {problem}",
                  evidence={"loginUrl": url, "identityStoreId": store, "regions": regions})


def _format_name(value: str | None) -> str | None:
    return value.rsplit(":", 1)[-1] if value else None


@check(id="saml.name_id_format", title="NameID is not emailAddress from the user principal name",
       passed="The AWS app's claims policy sends NameID in the emailAddress format, taken from "
              "user.userprincipalname.",
       severity="high", area="saml", subject_kind="app",
       controls=nist("CM-6", "IA-2") + iso("5.16", "8.5"),
       graded={"medium": "the only problem is the format left at \"default\" (Entra follows the SP's request)"},
       meaning="Identity Center matches the NameID against its user names, which SCIM fills with the UPN; it "
               "requires the emailAddress format. Another format or source means sign-ins fail (\"No user in the "
               "identity store matches the SAML NameID\") or land on the wrong user.",
       fix="Single sign-on › Attributes & Claims › Unique User Identifier (Name ID): format Email address, source "
           "user.userprincipalname (and a claim condition sending user.mail for guests).",
       references=(AWS_TROUBLESHOOTING, AWS_ENTRA, MS_CLAIMS), tables=(CLAIMS,))
def name_id_format(data, settings) -> Iterator[Hit]:
    claims = data.table(CLAIMS)
    if claims.empty:
        # The claims policy answered 404: the app has none of its own, so what Entra sends is not readable.
        raise NotCollected("entra.app", "the app has no claims policy to read: check Attributes & Claims by hand")
    row = claims.iloc[0].to_dict()
    fmt, source = text(row.get("nameIdFormat")), text(row.get("nameIdSource"))
    problems = []
    severity: Severity | None = None
    if (_format_name(fmt) or "").lower() != "emailaddress":
        problems.append(f"format {fmt or 'not set'} (required: {EMAIL_FORMAT})")
        if (fmt or "default").lower() == "default":
            severity = "medium"  # "default" lets Entra follow the SP's request: not certain to fail, not pinned
    if (source or "").lower() != UPN_SOURCE:
        problems.append(f"source {source or 'not a plain user attribute'} (expected {UPN_SOURCE})")
        severity = None
    if problems:
        yield Hit(settings.app_subject, severity=severity, detail="NameID " + "; ".join(problems),
                  evidence={"nameIdFormat": fmt, "nameIdSource": source})


def _horizon_severity(days_left: float, horizons: list[int]) -> Severity | None:
    """Expired or inside the smallest horizon: critical; then high, medium, low for the wider ones."""
    if days_left <= 0:
        return "critical"
    ladder: list[Severity] = ["critical", "high", "medium", "low"]
    for rank, horizon in enumerate(sorted(horizons)):
        if days_left <= horizon:
            return ladder[min(rank, len(ladder) - 1)]
    return None


@check(id="saml.certificate_expiry", title="The active SAML signing certificate expires soon",
       passed="The active SAML signing certificate is valid for longer after collection than the widest of "
              "checks.certificate_horizons_days (60 days by default); an app with no signing certificate at all also "
              "passes.",
       severity="high", area="saml", subject_kind="app",
       controls=nist("IA-5", "SC-12") + iso("8.24"),
       graded={"critical": "it has expired or expires within the smallest of checks.certificate_horizons_days (7 days "
                           "by default)",
               "medium": "it expires within the third-smallest horizon only (60 days by default)",
               "low": "it expires within a fourth or wider horizon only (none by default)"},
       meaning="Entra signs every assertion with the active certificate. When it expires, AWS rejects the "
               "assertions and nobody can sign in to the AWS access portal until a new certificate is made "
               "active in Entra and uploaded to Identity Center.",
       fix="Create a new certificate (Single sign-on › SAML Certificates › Edit › New Certificate, or "
           "addTokenSigningCertificate), upload the new federation metadata to Identity Center (Settings › "
           "Identity source › Actions › Manage authentication), then make it active in Entra.",
       references=(MS_CERTIFICATES, GRAPH_ADD_CERTIFICATE, AWS_ENTRA), tables=(SP, KEYS))
def certificate_expiry(data, settings) -> Iterator[Hit]:
    preferred, active, certs = _active(data)
    subject = settings.app_subject
    if active is None:
        if preferred and _unreadable_certificates(data):
            raise NotCollected("entra.app", f"the active thumbprint {preferred} cannot be matched: "
                               f"{_unreadable_certificates(data)} signing keyCredential(s) came without a readable "
                               "thumbprint (no certificate `key`, customKeyIdentifier not a SHA-1 thumbprint, as for "
                               "custom signing keys); read them with GET /servicePrincipals/{id}"
                               "?$select=keyCredentials")
        if preferred:
            yield Hit(subject, severity="high", evidence={"preferredThumbprint": preferred,
                                                          "thumbprints": [c["thumbprint"] for c in certs]},
                      detail=f"the active thumbprint {preferred} matches none of the app's signing certificates")
        elif certs:
            yield Hit(subject, severity="high", evidence={"thumbprints": [c["thumbprint"] for c in certs]},
                      detail="no certificate is active (preferredTokenSigningKeyThumbprint is empty)")
        return
    if active["end"] is None:
        raise NotCollected("entra.app", f"the active certificate {preferred} has no end date")
    days_left = (active["end"] - _now(settings)).total_seconds() / 86400
    severity = _horizon_severity(days_left, list(settings.checks.certificate_horizons_days))
    if severity is None:
        return
    when = "has expired" if days_left <= 0 else f"expires in {round(days_left)} day(s)"
    yield Hit(subject, severity=severity,
              detail=f"the active signing certificate {preferred} {when} ({_iso(active['end'])})",
              evidence={"thumbprint": preferred, "endDateTime": _iso(active["end"]),
                        "daysLeft": round(days_left, 1),
                        "horizonsDays": sorted(settings.checks.certificate_horizons_days)})


def _last_upload(data) -> tuple[datetime | None, datetime | None, str]:
    """The newest Identity Center IdP-configuration upload in CloudTrail, the oldest event collected (how far
    back the window reaches), and what could be read, in words."""
    try:
        trail = data.table(TRAIL)
    except (NotCollected, KeyError) as exc:
        return None, None, f"CloudTrail not collected ({exc}): upload time unknown"
    if trail.empty:
        return None, None, "no CloudTrail events collected: upload time unknown"
    uploads = [t for t in map(_when, trail.loc[trail["eventName"].isin(UPLOAD_EVENTS), "eventTime"]) if t]
    oldest = min((t for t in map(_when, trail["eventTime"]) if t), default=None)
    if uploads:
        return max(uploads), oldest, "newest Create/UpdateExternalIdPConfigurationForDirectory event in CloudTrail"
    return None, oldest, f"no IdP configuration upload in CloudTrail since {_iso(oldest)}"


_CONSOLE_COMPARE = ("No API can read the certificate Identity Center holds: in the Identity Center console › "
                    "Settings › Identity source › Actions › Manage authentication, compare the IdP certificate "
                    "shown there with the active thumbprint {thumbprint} (valid until {end}).")


@check(id="saml.certificate_rotation_pending", title="A signing-certificate rotation is unfinished",
       passed="No unexpired signing certificate newer than the active one is left inactive, and CloudTrail, when "
              "collected, does not show the active certificate created after the last upload to Identity Center (the "
              "certificate AWS holds cannot be read by API).",
       severity="medium", area="saml", subject_kind="app",
       controls=nist("IA-5", "SC-12") + iso("8.24"),
       graded={"critical": "CloudTrail shows the active certificate created after the last upload to Identity Center "
                           "(or no upload since): AWS most likely still trusts the previous one"},
       meaning="The active certificate is inside the rotation horizon (the widest of checks."
               "certificate_horizons_days) and a newer Entra certificate is waiting, not active yet; or the active "
               "one was made after the last upload to Identity Center (read from CloudTrail when collected). Until "
               "both sides hold the same certificate, the rotation is half done: activating a certificate AWS does "
               "not have breaks every sign-in (\"It's not you, it's us\"). A newer certificate staged while the "
               "active one is far from expiry is good practice and is not reported.",
       fix="Download the federation metadata with the new certificate, upload it to Identity Center (Settings › "
           "Identity source › Actions › Manage authentication), make the certificate active in Entra, then remove "
           "the old one. Confirm the thumbprint in the console: no API reads it.",
       references=(MS_CERTIFICATES, AWS_ENTRA, AWS_TROUBLESHOOTING), tables=(SP, KEYS))
def certificate_rotation_pending(data, settings) -> Iterator[Hit]:
    preferred, active, certs = _active(data)
    if active is None:
        return  # saml.certificate_expiry reports a missing or unknown active certificate
    compare = _CONSOLE_COMPARE.format(thumbprint=preferred, end=_iso(active["end"]) or "unknown")
    start = active["start"]
    horizon = max(settings.checks.certificate_horizons_days)
    days_left = (active["end"] - _now(settings)).total_seconds() / 86400 if active["end"] else None
    # A staged certificate only means an unfinished rotation once the active one is due (or its end is unknown).
    due = days_left is None or days_left <= horizon
    newer = [c for c in certs if c["thumbprint"] != preferred and start and c["start"] and c["start"] > start
             and (c["end"] is None or c["end"] > _now(settings))] if due else []
    upload, oldest, upload_note = _last_upload(data)
    reasons, severity = [], None
    if newer:
        reasons.append("a newer certificate " + ", ".join(f"{c['thumbprint']} (created {_iso(c['start'])})"
                                                          for c in newer) + " is not active"
                       + (f", and the active one expires in {round(days_left)} day(s)" if days_left is not None
                          else ", and the active one has no end date"))
    if start and upload and start > upload:
        reasons.append(f"the active certificate was created {_iso(start)}, after the last upload to Identity "
                       f"Center ({_iso(upload)})")
        severity = "critical"  # AWS most likely still trusts the previous certificate: sign-ins fail
    elif start and upload is None and oldest and oldest <= start:
        # The collected CloudTrail reaches back past the certificate's creation and holds no upload since.
        reasons.append(f"the active certificate was created {_iso(start)} and no upload to Identity Center has "
                       "been recorded since")
        severity = "critical"
    if reasons:
        yield Hit(settings.app_subject, severity=severity, detail="; ".join(reasons) + ". " + compare, evidence={
            "activeThumbprint": preferred, "activeCreated": _iso(start), "activeEnd": _iso(active["end"]),
            "activeDaysLeft": round(days_left, 1) if days_left is not None else None,
            "rotationHorizonDays": horizon,
            "newerInactive": [c["thumbprint"] for c in newer], "lastUpload": _iso(upload),
            "uploadSource": upload_note})
