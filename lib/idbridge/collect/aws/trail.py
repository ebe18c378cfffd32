"""CloudTrail LookupEvents for the events idbridge reads, and one table row per event.

LookupEvents takes a single lookup attribute per call (more is InvalidLookupAttributesException), so each event
name is its own paged lookup (50 events a page, at 2 requests per second per account and Region). Lookups by
exact EventName keep out the flood of read-only console events that a lookup by EventSource
`sso-directory.amazonaws.com` would bring; SCIM calls are read by their event source.
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
SCIM_EVENT_SOURCE = "identitystore-scim.amazonaws.com"

LOOKUPS: tuple[dict[str, str], ...] = (
    *({"AttributeKey": "EventName", "AttributeValue": name} for name in SIGN_IN_EVENTS + BRIDGE_EVENTS),
    {"AttributeKey": "EventSource", "AttributeValue": SCIM_EVENT_SOURCE},
)

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
