"""The AWS console, for the sandbox: what a consultant does by hand in IAM Identity Center (no API can), done to a
running Sandbox so the setup runbooks run headless end to end.

- sp_metadata_xml / write_sp_metadata: the service-provider metadata Identity Center offers for download, built
  from the sandbox's derived values (issuer URL, one ACS URL per Region, emailAddress NameID).
- sign_on_url: the AWS access portal sign-in URL the console shows beside it.
- change_identity_source: "Change identity source › External identity provider", uploading Entra's federation
  metadata; recorded in CloudTrail as AWS does (CreateExternalIdPConfigurationForDirectory, then Update…).
- enable_automatic_provisioning: "Automatic provisioning › Enable": the SCIM endpoint and access token, accepted
  from now on by the emulated SCIM endpoint; CloudTrail CreateBearerToken.

These act on the sandbox's state in this process (the console is not an API): they are the only code that does,
and are used by tests and the sandbox setup run, never by a runbook.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

from idbridge.saml.metadata import parse_idp_metadata
from idbridge.saml.urls import EMAIL_FORMAT
from idbridge.sandbox import derived
from idbridge.sandbox.aws.naming import ADMIN_ROLE, ADMIN_SESSION
from idbridge.sandbox.timeexpr import utc_now

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
CONSOLE_AGENT = "AWS Internal"
IDP_NAME = "Microsoft Entra ID"


def sp_metadata_xml(scenario) -> bytes:
    """Identity Center's SP metadata for the sandbox instance: every Region's ACS URL, the primary one default."""
    default = ' isDefault="true"'
    acs = "".join(
        f'<md:AssertionConsumerService Binding="{POST}" Location={quoteattr(derived.acs_url(scenario, region))} '
        f'index="{i}"{default if i == 0 else ""}/>' for i, region in enumerate(derived.all_regions(scenario)))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<md:EntityDescriptor xmlns:md="{MD}" '
            f'entityID={quoteattr(derived.issuer_url(scenario))}><md:SPSSODescriptor AuthnRequestsSigned="false" '
            f'WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            f"<md:NameIDFormat>{EMAIL_FORMAT}</md:NameIDFormat>{acs}</md:SPSSODescriptor></md:EntityDescriptor>\n"
            ).encode()


def write_sp_metadata(box, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sp_metadata_xml(box.scenario))
    return path


def sign_on_url(box) -> str:
    return derived.portal_login_url(box.scenario)


def _now(world) -> datetime:
    return max(world.now, utc_now())


def _admin(world) -> dict:
    account = world.scenario.instance_account
    return {"type": "AssumedRole", "arn": f"arn:aws:sts::{account}:assumed-role/{ADMIN_ROLE}/{ADMIN_SESSION}",
            "accountId": account, "userName": ADMIN_SESSION}


def change_identity_source(box, idp_metadata: str | Path) -> str:
    """Upload Entra's federation metadata as the external IdP; returns the CloudTrail event name recorded."""
    meta = parse_idp_metadata(Path(idp_metadata))  # the console refuses a file that is not IdP metadata
    world = box.world
    with world.lock:
        first = world.aws.identity_source != "external_idp"
        world.aws.identity_source = "external_idp"
        name = ("Create" if first else "Update") + "ExternalIdPConfigurationForDirectory"
        world.aws.cloudtrail.record({
            "eventName": name, "eventSource": "sso-directory.amazonaws.com", "eventTime": _now(world),
            "userIdentity": _admin(world), "userAgent": CONSOLE_AGENT,
            "requestParameters": {"directoryId": world.aws.identity_store_id,
                                  "externalIdPConfigurationName": IDP_NAME},
            "additionalEventData": {"certificateNotAfter":
                                    meta.signing_certificate.not_after.strftime("%Y-%m-%dT%H:%M:%SZ")}})
    return name


def enable_automatic_provisioning(box) -> tuple[str, str]:
    """Turn on automatic provisioning: (SCIM endpoint, access token), shown once as in the console."""
    world = box.world
    token = derived.scim_token(box.scenario)
    with world.lock:
        if token not in world.aws.scim_tokens:
            world.aws.scim_tokens.append(token)
        tenant = world.aws.scim_endpoint.split("/")[3]
        world.aws.cloudtrail.record({
            "eventName": "CreateBearerToken", "eventSource": "sso-directory.amazonaws.com",
            "eventTime": _now(world), "userIdentity": _admin(world), "userAgent": CONSOLE_AGENT,
            "requestParameters": {"tenantId": tenant}, "responseElements": None})
    return world.aws.scim_endpoint, token


def load_aws_managed_policies() -> None:
    """moto's IAM knows AWS managed policies (iam:GetPolicy on arn:aws:iam::aws:policy/...) only with this set
    before its first use in the process: the runbooks check managed policy ARNs that way."""
    import os

    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
