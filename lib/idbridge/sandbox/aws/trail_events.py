"""CloudTrail records the scenario implies: access-portal sign-ins, the events it lists, the SCIM token's
creation, and each upload of Entra's signing certificate to Identity Center.

Shapes follow AWS's documented sign-in events (signin.amazonaws.com UserAuthentication with
additionalEventData.CredentialType EXTERNAL_IDP) and its console-only `sso-directory` events. A SAML response
Identity Center refused is `ExternalIdPDirectoryLogin` from signin.amazonaws.com, eventType AwsConsoleSignIn, with
no errorCode: `responseElements: {"ExternalIdPDirectoryLogin": "Failure"}` and an errorMessage (AWS troubleshooting
and username-sign-in-cloudtrail-events pages; tests/contract/fixtures/aws/externalidp_directory_login_failure.json).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from idbridge.sandbox import derived
from idbridge.sandbox.aws.naming import ADMIN_ROLE, ADMIN_SESSION, digest, identity_store_arn, stable_uuid
from idbridge.sandbox.aws.trail import EventStore
from idbridge.sandbox.scenario import Scenario
from idbridge.sandbox.timeexpr import resolve_time

Json = dict[str, Any]
PORTAL_SOURCES = {"signin.amazonaws.com", "sso.amazonaws.com", "portal.sso.amazonaws.com"}
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
CONSOLE = "AWS Internal"


def idc_user_name(scenario: Scenario, ref: str) -> str:
    """A scenario user reference (Entra UPN or Identity Center user name) -> the Identity Center UserName."""
    user = scenario.user_by_upn(ref)
    if user is None:
        return ref
    return (user.idc.user_name if user.idc and user.idc.user_name else None) or user.upn


def _portal_user(scenario: Scenario, user_name: str) -> Json:
    account = scenario.instance_account
    return {"type": "IdentityCenterUser", "accountId": account,
            "onBehalfOf": {"userId": None,  # filled once provisioning has created the user (fill_user_ids)
                           "identityStoreArn": identity_store_arn(account, derived.identity_store_id(scenario))},
            "credentialId": stable_uuid(scenario.tenant.id, "credential", user_name.lower())}


def _admin(scenario: Scenario, session: str = ADMIN_SESSION) -> Json:
    account = scenario.instance_account
    return {"type": "AssumedRole", "principalId": f"AROA{digest(account, 'admin', length=17).upper()}:{session}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{ADMIN_ROLE}/{session}", "accountId": account,
            "sessionContext": {"sessionIssuer": {"type": "Role", "userName": ADMIN_ROLE, "accountId": account,
                                                 "arn": f"arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/"
                                                        f"{ADMIN_ROLE}"}}}


def sign_in_events(scenario: Scenario, now: datetime) -> list[tuple[Json, str]]:
    """(record, Identity Center user name) for each aws.sign_ins entry."""
    out = []
    store_id = derived.identity_store_id(scenario)
    for index, sign_in in enumerate(scenario.aws.sign_ins):
        user_name = idc_user_name(scenario, sign_in.user)
        at = resolve_time(sign_in.at, now)
        workflow = stable_uuid(scenario.tenant.id, "signin", str(index))
        record: Json = {"eventTime": at, "sourceIPAddress": sign_in.ip, "userAgent": BROWSER,
                        "userIdentity": _portal_user(scenario, user_name), "eventType": "AwsServiceEvent",
                        "additionalEventData": {"AuthWorkflowID": workflow, "UserName": user_name,
                                                "CredentialType": "EXTERNAL_IDP",
                                                "LoginTo": f"https://{store_id}.awsapps.com/start/"}}
        if sign_in.status == "success":
            record.update(eventName="UserAuthentication", eventSource="signin.amazonaws.com",
                          serviceEventDetails={"UserAuthentication": "Success"})
        else:  # federation failed before Identity Center knew who it was: no identity-store user id
            record["userIdentity"] = {"type": "Unknown", "accountId": scenario.instance_account}
            record.update(eventName="ExternalIdPDirectoryLogin", eventSource="signin.amazonaws.com",
                          eventType="AwsConsoleSignIn",
                          responseElements={"ExternalIdPDirectoryLogin": "Failure"},
                          errorMessage=sign_in.failure_reason or "Unable to validate the SAML response from the "
                                                                 "external identity provider")
        out.append((record, user_name))
    return out


def scenario_events(scenario: Scenario, now: datetime) -> list[tuple[Json, str | None]]:
    """aws.cloudtrail entries as given: portal sources act as the Identity Center user, others as an admin."""
    out = []
    for event in scenario.aws.cloudtrail:
        user_name = idc_user_name(scenario, event.user) if event.user else None
        record: Json = {"eventName": event.name, "eventSource": event.source,
                        "eventTime": resolve_time(event.at, now), "sourceIPAddress": event.ip}
        if event.source in PORTAL_SOURCES:
            record["userIdentity"] = _portal_user(scenario, user_name) if user_name else {"type": "Unknown"}
            record["userAgent"] = BROWSER
        else:
            record["userIdentity"] = _admin(scenario, user_name or ADMIN_SESSION)
            record["userAgent"] = CONSOLE
        extra = dict(event.detail)
        if user_name and event.source in PORTAL_SOURCES:
            extra.setdefault("UserName", user_name)
        if extra:
            record["additionalEventData"] = extra
        if event.error_code:
            record["errorCode"] = event.error_code
        if event.error_message:
            record["errorMessage"] = event.error_message
        out.append((record, user_name if event.source in PORTAL_SOURCES else None))
    return out


def bridge_setup_events(scenario: Scenario, now: datetime) -> list[Json]:
    """CreateBearerToken when the SCIM token was made; UpdateExternalIdPConfigurationForDirectory whenever an
    Entra signing certificate was uploaded to Identity Center. Both are console-only actions."""
    app = scenario.entra.aws_app
    if app is None:
        return []
    store_id = derived.identity_store_id(scenario)
    scim_tenant = derived.scim_endpoint(scenario).split("/")[3]
    out = []
    if app.provisioning is not None:
        out.append({"eventName": "CreateBearerToken", "eventSource": "sso-directory.amazonaws.com",
                    "eventTime": resolve_time(app.provisioning.token_created, now), "userIdentity": _admin(scenario),
                    "userAgent": CONSOLE, "requestParameters": {"tenantId": scim_tenant},
                    "responseElements": None})
    for cert in app.signing_certificates:
        if cert.uploaded_to_aws:
            out.append({"eventName": "UpdateExternalIdPConfigurationForDirectory",
                        "eventSource": "sso-directory.amazonaws.com",
                        "eventTime": resolve_time(cert.uploaded_to_aws, now), "userIdentity": _admin(scenario),
                        "userAgent": CONSOLE,
                        "requestParameters": {"directoryId": store_id,
                                              "externalIdPConfigurationName": "Microsoft Entra ID"},
                        "additionalEventData": {"certificateNotAfter":
                                                resolve_time(cert.end, now).strftime("%Y-%m-%dT%H:%M:%SZ")}})
    return out


def seed_trail(scenario: Scenario, now: datetime, store: EventStore) -> list[tuple[Json, str]]:
    """Record every scenario event. Returns the stored records whose user id is still to be filled in."""
    pending = []
    for record, user_name in sign_in_events(scenario, now) + scenario_events(scenario, now):
        stored = store.record(record)
        if user_name and stored["userIdentity"].get("type") == "IdentityCenterUser":
            pending.append((stored, user_name))
    for record in bridge_setup_events(scenario, now):
        store.record(record)
    return pending


def fill_user_ids(store: EventStore, pending: list[tuple[Json, str]], find_user) -> None:
    """Once provisioning ran: put each portal user's identity-store id into onBehalfOf.userId."""
    for record, user_name in pending:
        user_id = find_user(user_name=user_name)
        if user_id:
            record["userIdentity"]["onBehalfOf"]["userId"] = user_id
            store.update(record)


def token_is_valid(scenario: Scenario, now: datetime) -> bool:
    """SCIM tokens last one year (AWS provision-automatically page)."""
    app = scenario.entra.aws_app
    if app is None or app.provisioning is None or not app.provisioning.token_valid:
        return False
    return now - resolve_time(app.provisioning.token_created, now) < timedelta(days=365)
