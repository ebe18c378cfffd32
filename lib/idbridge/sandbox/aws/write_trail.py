"""CloudTrail records of the writes made through the sandbox's AWS API (sso-admin, identitystore, organizations),
as AWS logs them, so an incremental collection can find what changed (collect/aws/changes.py).

Where AWS logs them:
- Identity Center's admin API (sso-admin) as eventSource sso.amazonaws.com and the Identity Store API as
  identitystore.amazonaws.com, in the instance's account and Region
  (https://docs.aws.amazon.com/singlesignon/latest/userguide/logging-using-cloudtrail.html);
- Organizations as organizations.amazonaws.com in the management account, Region us-east-1, Organizations being
  a global service (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_cloudtrail-integration.html).
SCIM writes are recorded by the SCIM endpoint itself (scim/cloudtrail.py, identitystore-scim.amazonaws.com).

The record: requestParameters are the request's members with their first letter lowered (CloudTrail's form, see
the fixtures ssoadmin/sso_create_account_assignment_refused and identitystore_api_create_user_event), the
answer's as responseElements; Identity Store attribute values are masked as AWS masks them, ids kept. A refused
call is recorded with errorCode and errorMessage and no responseElements. Reads are not recorded here (nothing in
the kit looks them up; AWS logs them as readOnly events).

Delivery delay: AWS delivers an event some minutes after the call, without a guarantee (collect/aws/changes.py
cites the sentence). The store serves an event only once `EventStore.delivery_delay_s` seconds have passed since it
was recorded (0 unless a test or benchmark sets it), so a collection can be made to run inside the delay. It applies
to every event the store holds, SCIM calls included.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from idbridge.sandbox.aws import trail
from idbridge.sandbox.aws.naming import SANDBOX_ROLE, caller_arn, digest, stable_uuid

Json = dict[str, Any]
EVENT_SOURCES = {"sso-admin": "sso.amazonaws.com", "identitystore": "identitystore.amazonaws.com",
                 "organizations": "organizations.amazonaws.com"}
ORGANIZATIONS_REGION = "us-east-1"
READ_PREFIXES = ("List", "Describe", "Get", "Is")
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
SDK_AGENT = "Boto3/1.35 md/Botocore#1.35 ua/2.0 os/linux lang/python#3.11"


def _lower_first(key: str) -> str:
    return key[:1].lower() + key[1:]


def camel(node: Any) -> Any:
    """Request or response members -> CloudTrail's keys (first letter lowered), all the way down."""
    if isinstance(node, dict):
        return {_lower_first(k): camel(v) for k, v in node.items()}
    if isinstance(node, list):
        return [camel(v) for v in node]
    return node


def _is_id(key: str) -> bool:
    return key.endswith(("Id", "Arn", "Ids")) or key in ("identityStoreId", "attributePath")


def mask_store(node: Any, key: str = "") -> Any:
    """Identity Store attribute values hidden (names, e-mails...), ids and member keys kept."""
    if isinstance(node, dict):
        return {k: mask_store(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [mask_store(v, key) for v in node]
    if isinstance(node, str) and not _is_id(key):
        return HIDDEN
    return node


def record_for(service: str, operation: str, *, account: str, region: str, at: datetime, request: Json,
               response: Json | None, error: tuple[str, str] | None, seq: int) -> Json:
    """The CloudTrail record of one write call."""
    params, answer = camel(request), camel(response) if response else None
    if service == "identitystore":
        params, answer = mask_store(params), mask_store(answer) if answer else None
    session = "sandbox"
    record: Json = {
        "eventVersion": "1.08",
        "userIdentity": {"type": "AssumedRole",
                         "principalId": f"AROA{digest(account, SANDBOX_ROLE, length=17).upper()}:{session}",
                         "arn": caller_arn(account, session), "accountId": account},
        "eventTime": at, "eventSource": EVENT_SOURCES[service], "eventName": operation, "awsRegion": region,
        "sourceIPAddress": "127.0.0.1", "userAgent": SDK_AGENT,
        "requestParameters": params or None, "responseElements": None if error else (answer or None),
        "requestID": stable_uuid(account, region, "write", operation, str(seq), at.isoformat()),
        "eventID": stable_uuid(account, region, "write-event", operation, str(seq), at.isoformat()),
        "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if error:
        record["errorCode"], record["errorMessage"] = error
    return record


class WriteTrail:
    """Called by the fault middleware after each request it served; records the writes."""

    def __init__(self, instance_store: Callable[[], "trail.EventStore | None"], management_account: Callable[[], str],
                 clock: Callable[[], datetime]):
        self.instance_store = instance_store
        self.management_account = management_account
        self.clock = clock
        self._seq = 0

    def _store(self, service: str, account: str | None, region: str | None) -> "trail.EventStore | None":
        if service == "organizations":
            owner, where = self.management_account(), ORGANIZATIONS_REGION
        else:
            home = self.instance_store()
            owner, where = account or (home.account_id if home else None), region or (home.region if home else None)
        if not owner or not where:
            return None
        return trail.store_for(owner, where) or trail.EventStore(owner, where)

    def __call__(self, service: str, operation: str, account: str | None, region: str | None, body: bytes,
                 status: int, answer: bytes) -> None:
        if service not in EVENT_SOURCES or operation.startswith(READ_PREFIXES) or operation == "?":
            return
        store = self._store(service, account, region)
        if store is None:
            return
        try:
            request = json.loads(body or b"{}")
            response = json.loads(answer or b"{}")
        except ValueError:
            request, response = {}, {}
        error = None
        if status >= 400:
            code = str(response.get("__type", "ServiceException")).rsplit("#", 1)[-1]
            error = (code, response.get("Message") or response.get("message") or "")
        self._seq += 1
        store.record(record_for(service, operation, account=store.account_id,
                                region=ORGANIZATIONS_REGION if service == "organizations" else store.region,
                                at=self.clock(), request=request, response=None if error else response, error=error,
                                seq=self._seq))


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
