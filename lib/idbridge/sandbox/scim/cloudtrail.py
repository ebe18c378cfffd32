"""CloudTrail records of SCIM calls (eventSource identitystore-scim.amazonaws.com), in the shape of AWS's examples
("Logging IAM Identity Center SCIM API calls with AWS CloudTrail"): request bodies with every value masked, the
response of a successful call, errorCode / errorMessage of a refused one.

Writes (CreateUser, PutUser, PatchUser, DeleteUser, CreateGroup, PatchGroup, DeleteGroup) and reads (GetUser,
ListUsers, GetGroup, ListGroups) are recorded, as AWS records both (for tokens created after September 2024): a
provisioning cycle reads each object it looks at (GET by id, or ?filter=userName eq …), so reads outnumber writes
by far. A read is readOnly, with the id or the (masked) filter as request parameters and no response elements.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
EVENT_SOURCE = "identitystore-scim.amazonaws.com"
# Entra's provisioning service calls from Azure; the sandbox uses one fixed address of Microsoft's and a fixed
# agent string (what Entra's SCIM client sends is not documented).
ENTRA_SOURCE_IP = "20.190.128.100"
ENTRA_USER_AGENT = "Microsoft-Entra-Provisioning/1.0"
_KEEP_REQUEST = frozenset({"op", "path"})  # AWS's examples leave PATCH op and path readable
_KEEP_RESPONSE = frozenset({"id", "created", "lastModified", "resourceType"})  # and the new id and meta


def mask(node: Any, keep: frozenset[str] = _KEEP_REQUEST, key: str = "") -> Any:
    """Every string value hidden as AWS hides them, except under the keys in `keep`."""
    kind = type(node)
    if kind is str:
        return node if key in keep else HIDDEN
    if kind is dict:
        return {k: (v if k in keep else HIDDEN) if type(v) is str else mask(v, keep, k) for k, v in node.items()}
    if kind is list:
        return [mask(v, keep, key) for v in node]
    return node


def event(*, name: str, at: datetime, region: str, account_id: str, tenant_id: str, access_key: str,
          request_id: str, event_id: str, body: Any, resource_id: str | None = None,
          response: dict | None = None, error_code: str | None = None, error_message: str | None = None,
          read: bool = False, filter_expr: str | None = None) -> dict:
    masked = mask(body)
    params: dict[str, Any] = {"tenantId": tenant_id} if read else {"httpBody": masked, "tenantId": tenant_id}
    if filter_expr is not None:
        params["filter"] = HIDDEN
    if resource_id:
        params["id"] = resource_id
    record: dict[str, Any] = {
        "eventVersion": "1.10",
        # AWS's examples show WebIdentityUser on the successful call and Unknown on the refused ones.
        "userIdentity": {"type": "Unknown" if error_code else "WebIdentityUser", "accountId": account_id,
                         "accessKeyId": access_key},
        "eventTime": at,  # the store formats it (ISO-8601, Z) — a datetime spares it parsing a string back
        "eventSource": EVENT_SOURCE, "eventName": name, "awsRegion": region,
        "sourceIPAddress": ENTRA_SOURCE_IP, "userAgent": ENTRA_USER_AGENT,
    }
    if error_code:
        record["errorCode"] = error_code
        record["errorMessage"] = error_message
    answer = None
    if response and not error_code and not read:
        # AWS echoes the request, masked the same way, with the new id and meta: reuse the masked request.
        answer = {**masked, **{k: response[k] for k in ("id", "meta") if k in response}} \
            if isinstance(masked, dict) else mask(response, _KEEP_RESPONSE)
    record.update({
        "requestParameters": params, "responseElements": answer,
        "requestID": request_id, "eventID": event_id, "readOnly": read, "eventType": "AwsApiCall",
        "managementEvent": True, "recipientAccountId": account_id, "eventCategory": "Management",
        "tlsDetails": {"clientProvidedHostHeader": f"scim.{region}.amazonaws.com"},
    })
    return record
