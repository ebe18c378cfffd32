"""build_store: every Entra object of the scenario, in Graph's shapes, with deterministic ids."""

from __future__ import annotations

import json
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from support.graph_harness import NOW, TENANT, scenario

from idbridge.sandbox import derived
from idbridge.sandbox.graph.seed import build_store
from idbridge.sandbox.graph.shapes import USER_ROLE_ID
from idbridge.sandbox.scenario import stable_id
from idbridge.sandbox.timeexpr import graph_time


def _store(**changes):
    return build_store(scenario(**changes), NOW)


def test_users_groups_and_memberships():
    store = _store()
    assert len(store.users) == 4 and len(store.deleted_users) == 1
    adele = store.user_by_upn("ADELE@contoso.com")
    assert adele["id"] == stable_id(TENANT, "user", "adele@contoso.com")
    assert adele["department"] == "Finance" and adele["businessPhones"] == ["+31 20 555 0100"]
    assert adele["createdDateTime"] == graph_time(NOW.replace(year=2025, month=1, day=25))
    # the sign-in event (now-3h) is newer than the scenario's last_sign_in (now-2d)
    assert adele["signInActivity"]["lastSuccessfulSignInDateTime"] == "2026-03-01T09:00:00Z"
    assert adele["signInActivity"]["lastNonInteractiveSignInDateTime"] == "2026-02-28T12:00:00Z"
    assert adele["externalUserState"] is None and adele["assignedLicenses"]
    bob = store.users["0b6e1a8e-36b5-4d52-9a3c-0a1d6b2e7f11"]  # scenario id kept
    assert bob["accountEnabled"] is False and bob["otherMails"] == ["bob@gmail.com"]
    assert bob["signInActivity"]["lastSignInDateTime"] == "2026-03-01T10:00:00Z"  # the failed sign-in
    # never signed in successfully: Graph's 0001-01-01 and an empty request id, not null (user-list v1.0 example)
    assert bob["signInActivity"]["lastSuccessfulSignInDateTime"] == "0001-01-01T00:00:00Z"
    assert bob["signInActivity"]["lastSuccessfulSignInRequestId"] == ""
    gina = store.user_by_upn("gina_fabrikam.com#EXT#@contoso.onmicrosoft.com")
    assert gina["userType"] == "Guest" and gina["externalUserState"] == "Accepted"
    assert gina["userPrincipalName"] == "gina_fabrikam.com#EXT#@contoso.onmicrosoft.com"
    assert gina["mailNickname"] == "gina_fabrikam.com"
    (olaf,) = store.deleted_users.values()
    assert olaf["userPrincipalName"] == "olaf@contoso.com" and olaf["deletedDateTime"]

    admins = store.group_by_name("AWS-Admins")
    nested = store.group_by_name("AWS-Nested")
    assert store.direct_members[admins["id"]] == [adele["id"], nested["id"]]
    assert store.direct_members[nested["id"]] == [bob["id"], store.group_by_name("AWS-Deep")["id"]]  # olaf gone
    dynamic = store.group_by_name("Finance (dynamic)")
    assert dynamic["groupTypes"] == ["DynamicMembership"]
    assert dynamic["membershipRule"] == 'user.department -eq "Finance"'
    assert dynamic["membershipRuleProcessingState"] == "On"
    assert dynamic["mailEnabled"] and dynamic["mail"].endswith("@contoso.onmicrosoft.com")
    assert admins["securityIdentifier"].startswith("S-1-12-1-")


def test_aws_application_defaults_from_derived_values():
    s = scenario()
    store = build_store(s, NOW)
    sp = store.service_principals[store.aws_sp_id]
    app = next(a for a in store.applications.values() if a["appId"] == sp["appId"])
    assert app["identifierUris"] == [derived.issuer_url(s)]
    # The additional Region has only the <region>.signin.aws form (AWS multi-Region workforce access).
    assert app["web"]["redirectUris"] == [derived.acs_url(s, "eu-west-1"), derived.acs_url(s, "us-east-1")]
    assert app["web"]["redirectUris"][1].startswith("https://us-east-1.signin.aws/platform/saml/acs/")
    assert sp["replyUrls"] == app["web"]["redirectUris"]
    assert sp["loginUrl"] == derived.portal_login_url(s)
    assert sp["preferredSingleSignOnMode"] == "saml" and sp["appRoleAssignmentRequired"] is True
    assert {r["displayName"] for r in sp["appRoles"]} == {"User", "msiam_access"}
    assert sp["notificationEmailAddresses"] == ["ops@contoso.com"]
    assert sp["applicationTemplateId"] == derived.AWS_GALLERY_TEMPLATE_ID

    keys = store.signing_keys[sp["id"]]
    assert len(keys) == 2 and len(sp["keyCredentials"]) == 4 and len(sp["passwordCredentials"]) == 2
    assert sp["preferredTokenSigningKeyThumbprint"] == keys[0].thumbprint
    cert = x509.load_pem_x509_certificate(keys[0].certificate_pem)
    assert cert.fingerprint(hashes.SHA1()).hex().upper() == keys[0].thumbprint
    assert cert.not_valid_after_utc == NOW.replace(day=26)  # now+25d
    assert cert.public_key().key_size == 2048
    assert {k["usage"] for k in sp["keyCredentials"]} == {"Sign", "Verify"}
    assert sp["keyCredentials"][0]["endDateTime"] == "2026-03-26T12:00:00Z"

    templates = {t["displayName"]: t for t in store.application_templates.values()}
    assert templates[derived.AWS_GALLERY_TEMPLATE_NAME]["id"] == derived.AWS_GALLERY_TEMPLATE_ID
    assert len(templates) >= 3

    assignments = list(store.app_role_assignments.values())
    assert {(a["principalType"], a["principalDisplayName"]) for a in assignments} == {
        ("User", "Gina (Fabrikam)"), ("Group", "AWS-Admins")}
    assert all(a["appRoleId"] == USER_ROLE_ID and a["resourceId"] == sp["id"] for a in assignments)


def test_explicit_urls_and_wildcard_are_kept():
    app = dict(scenario().entra.aws_app.model_dump(exclude_none=True))
    app.update(identifier_uris=["https://wrong.example/saml"], reply_urls=["https://a.example/acs"],
               login_url="https://portal.example", keep_wildcard_reply_url=True, sso_mode=None)
    store = _store(entra__aws_app=app)
    sp = store.service_principals[store.aws_sp_id]
    assert sp["replyUrls"] == ["https://a.example/acs", derived.WILDCARD_REPLY_URL]
    assert sp["servicePrincipalNames"][1:] == ["https://wrong.example/saml"]
    assert sp["loginUrl"] == "https://portal.example" and sp["preferredSingleSignOnMode"] is None


def test_claims_policy_shape():
    store = _store()
    policy = store.claims_policies[store.aws_sp_id]
    name_id = policy["claims"][0]
    assert name_id["@odata.type"] == "#microsoft.graph.samlNameIdClaim"
    assert name_id["nameIdFormat"] == "emailAddress"
    conditions = [(c["condition"]["userType"], c["attribute"]["id"]) for c in name_id["configurations"]]
    assert conditions == [("members", "userprincipalname"), ("externalGuests", "mail")]

    app = scenario().entra.aws_app.model_dump()
    app["claims"] = {"name_id_format": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
                     "guest_name_id_source": None}
    policy = build_store(scenario(entra__aws_app=app), NOW).claims_policies
    (name_id,) = [c for c in next(iter(policy.values()))["claims"] if "nameIdFormat" in c]
    assert name_id["nameIdFormat"] == "persistent" and name_id["configurations"][0]["condition"] is None


def test_synchronization_job_schema_and_secrets():
    s = scenario()
    store = build_store(s, NOW)
    (job,) = store.sync_jobs[store.aws_sp_id].values()
    # <templateId>.<tenant id without dashes>.<GUID with dashes>, as Graph's examples show job ids.
    guid = r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"
    assert re.fullmatch(rf"aWSSingleSignon\.{TENANT.replace('-', '')}\.{guid}", job["id"])
    assert job["templateId"] == derived.AWS_SYNC_TEMPLATE_ID
    assert job["schedule"] == {"expiration": None, "interval": "PT40M", "state": "Active"}
    status = job["status"]
    assert status["code"] == "Active" and status["quarantine"] is None
    assert status["lastSuccessfulExecution"]["timeEnded"] == "2026-03-01T11:35:00Z"  # last_cycle now-25m
    assert status["steadyStateFirstAchievedTime"] != "0001-01-01T00:00:00Z"
    secrets = {s_["key"]: s_["value"] for s_ in store.sync_secrets[store.aws_sp_id]}
    assert secrets["BaseAddress"] == derived.scim_endpoint(s)
    assert secrets["SecretToken"] == derived.scim_token(s)
    assert secrets["SyncAll"] == "false"
    assert json.loads(secrets["SyncNotificationSettings"])["Recipients"] == "ops@contoso.com"
    mappings = store.sync_schemas[job["id"]]["synchronizationRules"][0]["objectMappings"]
    users = {m["targetAttributeName"]: m["source"] for m in mappings[0]["attributeMappings"]}
    assert users["userName"]["name"] == "userPrincipalName"
    assert users["externalId"]["name"] == "objectId"
    assert users["active"]["expression"].startswith("Switch([IsSoftDeleted]")
    assert users['emails[type eq "work"].value']["name"] == "mail"
    assert users['phoneNumbers[type eq "work"].value']["name"] == "telephoneNumber"
    groups = {m["targetAttributeName"] for m in mappings[1]["attributeMappings"]}
    assert groups == {"displayName", "externalId", "members"}


def test_quarantined_never_steady_job_and_extra_mappings():
    app = scenario().entra.aws_app.model_dump()
    app["provisioning"] = {"status": "Quarantine", "quarantine_reason": "EncounteredQuarantineException",
                           "token_valid": False, "steady_state_reached": False, "successive_failures": 4,
                           "scope": "all", "external_id_source": "mailNickname",
                           "extra_mappings": [{"source": "mobile", "target": 'phoneNumbers[type eq "mobile"].value'}]}
    s = scenario(entra__aws_app=app)
    store = build_store(s, NOW)
    (job,) = store.sync_jobs[store.aws_sp_id].values()
    status = job["status"]
    assert status["code"] == "Quarantine" and status["countSuccessiveCompleteFailures"] == 4
    assert status["quarantine"]["reason"] == "EncounteredQuarantineException"
    assert status["quarantine"]["error"]["code"] == "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
    assert status["steadyStateFirstAchievedTime"] == "0001-01-01T00:00:00Z"
    assert status["lastSuccessfulExecution"] is None and status["lastExecution"]["state"] == "Failed"
    secrets = {x["key"]: x["value"] for x in store.sync_secrets[store.aws_sp_id]}
    assert secrets["SecretToken"] != derived.scim_token(s) and secrets["SyncAll"] == "true"
    users = store.sync_schemas[job["id"]]["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
    targets = {m["targetAttributeName"]: m["source"]["name"] for m in users}
    assert targets["externalId"] == "mailNickname" and targets['phoneNumbers[type eq "mobile"].value'] == "mobile"


def test_not_configured_provisioning_has_no_job_and_no_app_means_no_sp():
    app = scenario().entra.aws_app.model_dump()
    app["provisioning"] = {"status": "NotConfigured"}
    store = _store(entra__aws_app=app)
    assert store.sync_jobs == {} and store.sync_secrets == {}
    bare = _store(entra__aws_app=None)
    assert bare.aws_sp_id is None and bare.service_principals == {} and bare.app_role_assignments == {}


def test_sign_ins_registration_and_conditional_access():
    store = _store()
    assert len(store.sign_ins) == 3
    failed = next(s for s in store.sign_ins if s["status"]["errorCode"])
    assert failed["status"] == {"errorCode": 50057, "failureReason": "User account is disabled.",
                                "additionalDetails": None}
    assert failed["authenticationRequirement"] == "singleFactorAuthentication"
    sp = store.service_principals[store.aws_sp_id]
    assert {s["appId"] for s in store.sign_ins} == {sp["appId"]}

    assert set(store.registration_details) == set(store.users)  # not the deleted user
    bob = store.registration_details["0b6e1a8e-36b5-4d52-9a3c-0a1d6b2e7f11"]
    assert bob["isMfaRegistered"] is False and bob["methodsRegistered"] == []
    adele = store.registration_details[store.user_by_upn("adele@contoso.com")["id"]]
    assert adele["isMfaRegistered"] and adele["methodsRegistered"] == ["microsoftAuthenticatorPush"]
    # beta's defaultMfaMethod uses defaultMfaMethodType; the v1.0 fields use userDefaultAuthenticationMethod.
    assert adele["defaultMfaMethod"] == "microsoftAuthenticatorPush" and adele["userType"] == "member"
    assert adele["userPreferredMethodForSecondaryAuthentication"] == "push"
    assert adele["systemPreferredAuthenticationMethods"] == ["push"]

    policies = {p["displayName"]: p for p in store.ca_policies.values()}
    mfa = policies["Require MFA for AWS"]
    assert mfa["conditions"]["applications"]["includeApplications"] == [sp["appId"]]
    assert mfa["conditions"]["users"]["includeUsers"] == ["All"]
    assert mfa["conditions"]["users"]["excludeUsers"] == ["0b6e1a8e-36b5-4d52-9a3c-0a1d6b2e7f11"]
    assert mfa["grantControls"]["builtInControls"] == ["mfa"] and mfa["grantControls"]["operator"] == "OR"
    assert policies["Block guests"]["state"] == "disabled"


def test_seeding_is_deterministic():
    first, second = _store(), _store()
    assert first.users == second.users and first.groups == second.groups
    assert first.service_principals == second.service_principals
    assert first.sync_jobs == second.sync_jobs and first.app_role_assignments == second.app_role_assignments
    assert [k.thumbprint for k in first.signing_keys[first.aws_sp_id]] == \
           [k.thumbprint for k in second.signing_keys[second.aws_sp_id]]
    assert first.tenant == second.tenant and first.tenant["assignedPlans"]
