"""Builders for Graph objects that both seeding and the write endpoints create: gallery applications and their
service principals, signing-key credentials, app role assignments.

Shapes follow the Graph v1.0 reference (application, servicePrincipal, keyCredential, passwordCredential,
selfSignedCertificate, appRoleAssignment, applicationTemplate).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

from idbridge.sandbox import derived
from idbridge.sandbox.graph.certs import certificate_der_b64, custom_key_identifier, custom_signing_key_identifier
from idbridge.sandbox.graph.store import Json, SigningKey
from idbridge.sandbox.timeexpr import graph_time

# Role ids of the AWS IAM Identity Center gallery app, as instantiation creates them (the same two roles every
# SAML gallery app gets).
USER_ROLE_ID = "18d14569-c3bd-439b-9a66-3a2aee01d14f"
MSIAM_ACCESS_ROLE_ID = "b9632174-c057-4f7e-951b-be3adc52bfe6"
DEFAULT_ACCESS_ROLE_ID = "00000000-0000-0000-0000-000000000000"  # "Default Access", no role

DEFAULT_CERT_NAME = "CN=Microsoft Azure Federated SSO Certificate"


def aws_app_roles() -> list[Json]:
    return [
        {"allowedMemberTypes": ["User"], "description": "User", "displayName": "User", "id": USER_ROLE_ID,
         "isEnabled": True, "origin": "Application", "value": None},
        {"allowedMemberTypes": ["User"], "description": "msiam_access", "displayName": "msiam_access",
         "id": MSIAM_ACCESS_ROLE_ID, "isEnabled": True, "origin": "Application", "value": None},
    ]


def gallery_templates() -> list[Json]:
    """The AWS IAM Identity Center template plus a few neighbours, so that template filters have to be right."""

    def template(tid: str, name: str, publisher: str, modes: list[str], provisioning: list[str], home: str,
                 categories: list[str]) -> Json:
        return {"id": tid, "displayName": name, "homePageUrl": home, "supportedSingleSignOnModes": modes,
                "supportedProvisioningTypes": provisioning, "logoUrl": f"https://az495088.vo.msecnd.net/app-logo/{tid}",
                "categories": categories, "publisher": publisher,
                "description": f"{name} — gallery application (sandbox copy)"}

    from idbridge.sandbox.scenario import stable_id

    return [
        # As the Graph SAML SSO tutorial shows it: modes saml + external, publisher "Amazon Web Services, Inc.".
        template(derived.AWS_GALLERY_TEMPLATE_ID, derived.AWS_GALLERY_TEMPLATE_NAME, "Amazon Web Services, Inc.",
                 ["saml", "external"], ["sync"], "https://aws.amazon.com/",
                 ["developerServices", "itInfrastructure", "security", "New"]),
        template(stable_id("gallery", "aws-single-account"), "Amazon Web Services (AWS)", "Amazon",
                 ["saml", "notSupported"], ["sync"], "https://aws.amazon.com/", ["developerServices"]),
        template(stable_id("gallery", "aws-clientvpn"), "AWS ClientVPN", "Amazon", ["saml"], [],
                 "https://aws.amazon.com/vpn/", ["itInfrastructure"]),
        template(stable_id("gallery", "salesforce"), "Salesforce", "Salesforce", ["saml", "password"], ["sync"],
                 "https://www.salesforce.com/", ["crm", "sales"]),
        template(stable_id("gallery", "servicenow"), "ServiceNow", "ServiceNow", ["saml", "password"], ["sync"],
                 "https://www.servicenow.com/", ["itInfrastructure"]),
    ]


def application(object_id: str, app_id: str, display_name: str, created: datetime, *, template_id: str | None,
                publisher_domain: str, identifier_uris: list[str], redirect_uris: list[str],
                app_roles: list[Json]) -> Json:
    return {
        "id": object_id, "appId": app_id, "displayName": display_name, "applicationTemplateId": template_id,
        "createdDateTime": graph_time(created), "deletedDateTime": None, "description": None,
        "identifierUris": list(identifier_uris), "signInAudience": "AzureADMyOrg", "publisherDomain": publisher_domain,
        "groupMembershipClaims": None, "isFallbackPublicClient": None, "notes": None, "tags": [],
        "appRoles": app_roles, "keyCredentials": [], "passwordCredentials": [],
        "requiredResourceAccess": [], "optionalClaims": None,
        "info": {"logoUrl": None, "marketingUrl": None, "privacyStatementUrl": None, "supportUrl": None,
                 "termsOfServiceUrl": None},
        "web": {"homePageUrl": None, "logoutUrl": None, "redirectUris": list(redirect_uris),
                "redirectUriSettings": [{"uri": u, "index": None} for u in redirect_uris],
                "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False}},
        "spa": {"redirectUris": []}, "publicClient": {"redirectUris": []},
        "api": {"acceptMappedClaims": None, "knownClientApplications": [], "oauth2PermissionScopes": [],
                "preAuthorizedApplications": [], "requestedAccessTokenVersion": None},
    }


def service_principal(object_id: str, app: Json, tenant_id: str, *, sso_mode: str | None, login_url: str | None,
                      notification_emails: list[str], role_assignment_required: bool) -> Json:
    return {
        "id": object_id, "appId": app["appId"], "displayName": app["displayName"],
        "appDisplayName": app["displayName"], "appDescription": None, "description": None, "notes": None,
        "accountEnabled": True, "appOwnerOrganizationId": tenant_id,
        "applicationTemplateId": app.get("applicationTemplateId"), "deletedDateTime": None,
        "appRoleAssignmentRequired": role_assignment_required, "appRoles": [dict(r) for r in app["appRoles"]],
        "preferredSingleSignOnMode": sso_mode, "preferredTokenSigningKeyThumbprint": None,
        "loginUrl": login_url, "logoutUrl": None, "homepage": None,
        "replyUrls": list(app["web"]["redirectUris"]),
        "servicePrincipalNames": [app["appId"], *app["identifierUris"]],
        "samlSingleSignOnSettings": {"relayState": None},
        "notificationEmailAddresses": list(notification_emails),
        "keyCredentials": [], "passwordCredentials": [], "oauth2PermissionScopes": [],
        "servicePrincipalType": "Application", "signInAudience": "AzureADMyOrg",
        "tags": ["WindowsAzureActiveDirectoryIntegratedApp", "WindowsAzureActiveDirectoryCustomSingleSignOnApplication"],
        "alternativeNames": [], "addIns": [], "info": app["info"], "disabledByMicrosoftStatus": None,
        "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None},
    }


def key_credentials(key: SigningKey, display_name: str, verify_key_id: str, *, custom: bool = False) -> list[Json]:
    """The Sign (private) and Verify (public) keyCredentials Entra keeps for one SAML signing certificate.
    `custom`: a certificate of the tenant's own, added as the Graph tutorial documents (the Sign key is an
    X509CertAndPassword, customKeyIdentifier a SHA-256); otherwise one Entra made (addTokenSigningCertificate or
    the portal: customKeyIdentifier is the SHA-1 thumbprint)."""
    common = {"customKeyIdentifier": custom_signing_key_identifier(key) if custom else custom_key_identifier(key),
              "displayName": display_name, "startDateTime": graph_time(key.start), "endDateTime": graph_time(key.end),
              "type": "AsymmetricX509Cert"}
    return [
        {**common, "keyId": key.key_id, "usage": "Sign", "key": None,
         **({"type": "X509CertAndPassword"} if custom else {})},
        # The public certificate; Graph only returns `key` when keyCredentials is $select-ed on one object.
        {**common, "keyId": verify_key_id, "usage": "Verify", "key": certificate_der_b64(key)},
    ]


def password_credential(key: SigningKey, display_name: str, *, custom: bool = False) -> Json:
    """The password that opens the signing certificate's PFX: same keyId and customKeyIdentifier as the Sign
    credential."""
    return {"customKeyIdentifier": custom_signing_key_identifier(key) if custom else custom_key_identifier(key),
            "displayName": display_name,
            "startDateTime": graph_time(key.start), "endDateTime": graph_time(key.end), "hint": None,
            "keyId": key.key_id, "secretText": None}


def self_signed_certificate(key: SigningKey, display_name: str, verify_key_id: str) -> Json:
    return {"customKeyIdentifier": custom_key_identifier(key), "displayName": display_name,
            "startDateTime": graph_time(key.start), "endDateTime": graph_time(key.end),
            "key": certificate_der_b64(key), "keyId": verify_key_id, "thumbprint": key.thumbprint,
            "type": "AsymmetricX509Cert", "usage": "Verify"}


def assignment_id(*parts: str) -> str:
    """appRoleAssignment ids are 43-character base64url strings, not GUIDs."""
    digest = hashlib.sha256(":".join(("idbridge-assignment", *parts)).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def app_role_assignment(assignment: str, principal: Json, principal_type: str, sp: Json, role_id: str,
                        created: datetime) -> Json:
    return {"id": assignment, "appRoleId": role_id, "createdDateTime": graph_time(created),
            "deletedDateTime": None, "principalDisplayName": principal.get("displayName"),
            "principalId": principal["id"], "principalType": principal_type,
            "resourceDisplayName": sp["displayName"], "resourceId": sp["id"]}


# The built-in authentication strengths (authenticationStrengthPolicy, policyType builtIn): all satisfy "mfa".
_STRENGTHS = {
    "mfa": ("00000000-0000-0000-0000-000000000002", "Multifactor authentication",
            "Combinations of methods that satisfy strong authentication, such as a password + SMS",
            ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush",
             "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse", "password,microsoftAuthenticatorPush",
             "password,softwareOath", "password,hardwareOath", "password,sms", "password,voice",
             "federatedMultiFactor", "microsoftAuthenticatorPush,federatedSingleFactor",
             "softwareOath,federatedSingleFactor", "hardwareOath,federatedSingleFactor", "sms,federatedSingleFactor",
             "voice,federatedSingleFactor"]),
    "passwordlessMfa": ("00000000-0000-0000-0000-000000000003", "Passwordless MFA",
                        "Passwordless methods that satisfy strong authentication, such as Passwordless sign-in with "
                        "the Microsoft Authenticator",
                        ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush"]),
    "phishingResistantMfa": ("00000000-0000-0000-0000-000000000004", "Phishing-resistant MFA",
                             "Phishing-resistant, Passwordless methods for the strongest authentication, such as a "
                             "FIDO2 security key",
                             ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"]),
}


# Modes that are multifactor on their own (the built-in MFA strength's one-mode combinations); any other single
# mode (password, sms, voice, email, an OATH code, Authenticator push, ...) is one factor.
_MULTIFACTOR_MODES = frozenset({"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush",
                                "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse", "federatedMultiFactor"})


def _multifactor(combination: str) -> bool:
    modes = combination.split(",")
    return len(modes) > 1 or modes[0] in _MULTIFACTOR_MODES


def authentication_strength(kind, custom_id: str | None = None, created: str | None = None) -> Json | None:
    """grantControls.authenticationStrength: a built-in strength by name, or a scenario's custom one (an object with
    display_name and allowed_combinations; `custom_id` and `created` are its id and creation time)."""
    if kind is None:
        return None
    if not isinstance(kind, str):
        combinations = list(kind.allowed_combinations)
        return {"id": custom_id, "createdDateTime": created, "modifiedDateTime": created,
                "displayName": kind.display_name, "description": None, "policyType": "custom",
                "requirementsSatisfied": "mfa" if all(map(_multifactor, combinations)) else "none",
                "allowedCombinations": combinations, "combinationConfigurations": []}
    sid, name, description, combinations = _STRENGTHS[kind]
    return {"id": sid, "createdDateTime": "2021-12-01T08:00:00Z", "modifiedDateTime": "2021-12-01T08:00:00Z",
            "displayName": name, "description": description, "policyType": "builtIn", "requirementsSatisfied": "mfa",
            "allowedCombinations": list(combinations), "combinationConfigurations": []}
