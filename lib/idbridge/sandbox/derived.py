"""Values both emulated clouds must agree on, derived from the scenario so they are the same on every run.

These mirror the shapes of the real values (see shared reference, §1a/§1b): Identity Center instance and identity
store ids, the SAML issuer / ACS / sign-in URLs, the SCIM endpoint and its bearer token.
"""

from __future__ import annotations

import base64
import hashlib

from idbridge.saml import urls
from idbridge.core.facts import (AWS_GALLERY_TEMPLATE_ID, AWS_GALLERY_TEMPLATE_NAME, AWS_SYNC_TEMPLATE_ID,
                                 scim_endpoint_url)
from idbridge.saml.urls import WILDCARD_REPLY_URL
from idbridge.sandbox.scenario import Scenario, stable_id

# The facts of the real clouds are the library's (facts.py, metadata_urls.py); re-exported for the emulator.
__all__ = ["AWS_GALLERY_TEMPLATE_ID", "AWS_GALLERY_TEMPLATE_NAME", "AWS_SYNC_TEMPLATE_ID", "SANDBOX_CLIENT_ID",
           "WILDCARD_REPLY_URL", "acs_id", "acs_url", "all_regions", "identity_store_id",
           "instance_arn", "issuer_url", "portal_login_url", "scim_endpoint", "scim_token"]
SANDBOX_CLIENT_ID = "5ea0b0c0-0000-4000-8000-1db71d9e5a4d"  # the audit app registration the sandbox trusts


def _hex(*parts: str, length: int) -> str:
    return hashlib.sha256(":".join(parts).encode()).hexdigest()[:length]


def identity_store_id(scenario: Scenario) -> str:
    return "d-" + _hex(scenario.tenant.id, scenario.instance_account, "store", length=10)


def instance_arn(scenario: Scenario) -> str:
    return "arn:aws:sso:::instance/ssoins-" + _hex(scenario.tenant.id, scenario.instance_account, length=16)


def issuer_url(scenario: Scenario) -> str:
    return urls.issuer_url(scenario.aws.identity_center.region, identity_store_id(scenario))


def acs_id(scenario: Scenario) -> str:
    return stable_id(scenario.tenant.id, scenario.instance_account, "acs")


def acs_url(scenario: Scenario, region: str) -> str:
    """The primary Region keeps the <region>.signin.aws.amazon.com form (instances enabled before February 2026);
    additional Regions only have <region>.signin.aws (AWS multi-Region workforce access)."""
    if region == scenario.aws.identity_center.region:
        return urls.acs_url(region, acs_id(scenario))
    return urls.regional_acs_url(region, acs_id(scenario))


def all_regions(scenario: Scenario) -> list[str]:
    ic = scenario.aws.identity_center
    return [ic.region, *[r for r in ic.extra_regions if r != ic.region]]


def portal_login_url(scenario: Scenario) -> str:
    token = base64.urlsafe_b64encode(hashlib.sha256(identity_store_id(scenario).encode()).digest()[:24]).decode()
    return urls.portal_assertion_url(scenario.aws.identity_center.region, token)


def scim_endpoint(scenario: Scenario) -> str:
    tenant = stable_id(scenario.tenant.id, scenario.instance_account, "scim")
    return scim_endpoint_url(scenario.aws.identity_center.region, tenant)


def scim_token(scenario: Scenario) -> str:
    """The bearer token Identity Center issued for SCIM. A sandbox value, not a secret, but the product treats
    it as one (it only ever travels through secret references)."""
    return "sbx-scim-" + _hex(scenario.tenant.id, scenario.instance_account, "token", length=40)
