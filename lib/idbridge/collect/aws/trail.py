"""CloudTrail LookupEvents for the events idbridge reads, and one table row per event.

LookupEvents takes a single lookup attribute per call (more is InvalidLookupAttributesException), so each event
name is its own paged lookup (50 events a page, at 2 requests per second per account and Region). Lookups by
exact EventName keep out the flood of read-only console events that a lookup by EventSource
`sso-directory.amazonaws.com` would bring.

SCIM calls are read the same way, by the names of the writes only. AWS logs SCIM reads too (GetUser, ListUsers,
GetGroup, ListGroups, GetSchema…: Entra reads every object it looks at in each ~40-minute cycle), so a lookup by
EventSource `identitystore-scim.amazonaws.com` pages through mostly reads that nothing here uses (no check, model
or report reads a SCIM event; people read the refused writes' errorMessage). One lookup per write name costs one
call each when there are none, and never pages through a read. A name lookup cannot also filter on the source,
and CreateUser / DeleteUser / CreateGroup / DeleteGroup are also Identity Store API (and IAM) event names: those
are dropped (keep()), except the Identity Store API's and the console's CreateUser / CreateGroup
(identitystore.amazonaws.com, sso-directory.amazonaws.com), which say a principal was made by hand (model/origin). SCIM calls are logged only for tokens created after September 2024 (AWS
scim-logging-using-cloudtrail page): with an older token this table holds no SCIM event at all.
"""

from __future__ import annotations

import json
from typing import Any

from idbridge.collect.aws.tables import utc_iso

# Access-portal sign-ins: success (signin.amazonaws.com) and failed SAML federation.
SIGN_IN_EVENTS = ("UserAuthentication", "ExternalIdPDirectoryLogin")
# Console-only bridge changes (sso-directory.amazonaws.com): the SCIM token and the SAML IdP configuration.
BRIDGE_EVENTS = (
    "CreateBearerToken", "DeleteBearerToken",
    "CreateExternalIdPConfigurationForDirectory", "UpdateExternalIdPConfigurationForDirectory",
    "DeleteExternalIdPConfigurationForDirectory", "EnableExternalIdPConfigurationForDirectory",
    "DisableExternalIdPConfigurationForDirectory",
)
# Identity-source changes the console makes (sso.amazonaws.com): to or from an AWS Managed Microsoft AD directory
# (AWS "IAM Identity Center information in CloudTrail", console operations).
IDENTITY_SOURCE_EVENTS = ("AssociateDirectory", "DisassociateDirectory")
# Provisioning writes of Identity Center's admin API (sso.amazonaws.com): kept for the refused ones (errorCode set),
# which never reach the provisioning status APIs (aws.provisioning_failed).
PROVISIONING_EVENTS = ("CreateAccountAssignment", "ProvisionPermissionSet")
SCIM_EVENT_SOURCE = "identitystore-scim.amazonaws.com"
# The SCIM writes (AWS's SCIM API: Entra sends POST, PATCH and DELETE; PUT is AWS's other way to update a user).
SCIM_WRITE_EVENTS = ("CreateUser", "PutUser", "PatchUser", "DeleteUser", "CreateGroup", "PatchGroup", "DeleteGroup")

LOOKUPS: tuple[dict[str, str], ...] = tuple(
    {"AttributeKey": "EventName", "AttributeValue": name}
    for name in SIGN_IN_EVENTS + BRIDGE_EVENTS + IDENTITY_SOURCE_EVENTS + PROVISIONING_EVENTS + SCIM_WRITE_EVENTS)


# Creations by hand: the Identity Store API and the console (evidence of who made a principal, model/origin.py).
HAND_CREATE_SOURCES = ("identitystore.amazonaws.com", "sso-directory.amazonaws.com")
HAND_CREATE_EVENTS = ("CreateUser", "CreateGroup")


def keep(event: dict[str, Any]) -> bool:
    """A looked-up event idbridge keeps: a SCIM write name only from the SCIM event source, or a creation from
    the Identity Store API or the console."""
    if event.get("EventName") in SCIM_WRITE_EVENTS:
        return event.get("EventSource") == SCIM_EVENT_SOURCE or (
            event.get("EventName") in HAND_CREATE_EVENTS and event.get("EventSource") in HAND_CREATE_SOURCES)
    return True

def _user_name(record: dict[str, Any], event: dict[str, Any]) -> str | None:
    # Portal sign-ins carry the Identity Center user name in additionalEventData; IAM callers in userIdentity;
    # LookupEvents' own Username (a role session name for assumed roles) is the last resort.
    extra = record.get("additionalEventData") or {}
    ident = record.get("userIdentity") or {}
    return extra.get("UserName") or ident.get("userName") or event.get("Username")


def event_row(event: dict[str, Any]) -> dict[str, Any]:
    """One LookupEvents item -> a cloudtrail_events row; event_json keeps CloudTrail's full record as given."""
    text = event.get("CloudTrailEvent") or "{}"
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        record = {}
    ident = record.get("userIdentity") or {}
    return {
        "eventId": event.get("EventId") or record.get("eventID"),
        "eventTime": utc_iso(event.get("EventTime") or record.get("eventTime")),
        "eventName": event.get("EventName") or record.get("eventName"),
        "eventSource": event.get("EventSource") or record.get("eventSource"),
        "userName": _user_name(record, event),
        "userId": (ident.get("onBehalfOf") or {}).get("userId"),
        "sourceIPAddress": record.get("sourceIPAddress"),
        "errorCode": record.get("errorCode"),
        "errorMessage": record.get("errorMessage"),
        "awsRegion": record.get("awsRegion"),
        "event_json": text,
    }
