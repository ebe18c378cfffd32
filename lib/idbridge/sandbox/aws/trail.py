"""CloudTrail event history for the sandbox: what `lookup_events` serves (moto's returns nothing).

Events are full CloudTrail records (the JSON AWS puts in `CloudTrailEvent`); one store per account and Region,
registered here so the patched API finds it. The seeder writes sign-ins and console events; the emulated SCIM
endpoint adds identitystore-scim events through `record()`.
"""

from __future__ import annotations

import bisect
import itertools
import json
import threading
from time import monotonic as _monotonic
from datetime import datetime
from typing import Any

from idbridge.sandbox.aws.naming import epoch, stable_uuid
from idbridge.sandbox.timeexpr import parse_iso

Json = dict[str, Any]

READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Lookup", "Search", "Is")
SERVICE_EVENT_SOURCES = {"signin.amazonaws.com"}  # sign-in events are AwsServiceEvent, not AwsApiCall

_STORES: dict[tuple[str, str], "EventStore"] = {}


def store_for(account_id: str, region: str) -> "EventStore | None":
    return _STORES.get((account_id, region))


def clear_stores() -> None:
    _STORES.clear()


class _Entry:
    __slots__ = ("time", "seq", "record", "username", "resources", "text", "recorded")

    def __init__(self, time: float, seq: int, record: Json, username: str | None, resources: list[Json]):
        self.time, self.seq, self.record = time, seq, record
        self.recorded = _monotonic()  # when it was logged, for the delivery delay
        self.username, self.resources = username, resources
        self.text: str | None = None  # CloudTrailEvent JSON, built on first lookup

    @property
    def sort_key(self) -> tuple[float, int]:
        return (-self.time, -self.seq)  # newest first; later-recorded first among equal times

    def json_text(self) -> str:
        if self.text is None:
            self.text = json.dumps(self.record, separators=(",", ":"))
        return self.text


class EventStore:
    # CloudTrail delivers an event minutes after the call, with no guarantee (collect/aws/changes.py): an event is
    # served once this many seconds (real time) have passed since it was recorded. 0 by default; tests and
    # benchmarks set it (on the class for every store, or on one store) to run a collection inside the delay.
    delivery_delay_s: float = 0.0

    def __init__(self, account_id: str, region: str):
        self.account_id = account_id
        self.region = region
        self._entries: list[_Entry] = []  # kept sorted by _Entry.sort_key
        # eventName -> its entries, in the same order: a lookup by EventName (all the collector makes) cuts its
        # time range by bisection instead of testing every event of the store on every page. It holds for
        # _entries as stamped (identity, length); tests that rewrite _entries get it rebuilt (_names()).
        self._by_name: dict[str, list[_Entry]] = {}
        self._by_name_stamp: tuple[int, int] = (id(self._entries), 0)
        self._by_record: dict[int, _Entry] = {}  # id(record) -> entry, for update()
        self._seq = itertools.count()
        self._lock = threading.Lock()
        _STORES[(account_id, region)] = self

    def __len__(self) -> int:
        return len(self._entries)

    def record(self, event: Json) -> Json:
        """Add one event given in CloudTrail's record shape (camelCase keys). Needed: eventName, eventSource,
        eventTime (datetime or ISO-8601). Everything else gets AWS's usual value when left out."""
        for key in ("eventName", "eventSource", "eventTime"):
            if not event.get(key):
                raise ValueError(f"a CloudTrail event needs {key}")
        moment = event["eventTime"]
        moment = moment if isinstance(moment, datetime) else parse_iso(str(moment))
        seq = next(self._seq)
        name, source = event["eventName"], event["eventSource"]
        full: Json = {
            "eventVersion": "1.08",
            "userIdentity": {"type": "Unknown"},
            "eventTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": source,
            "eventName": name,
            "awsRegion": self.region,
            "sourceIPAddress": "203.0.113.10",
            "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            "requestParameters": None,
            "responseElements": None,
            "eventID": stable_uuid(self.account_id, self.region, name, str(moment), str(seq)),
            "readOnly": name.startswith(READ_ONLY_PREFIXES),
            "eventType": "AwsServiceEvent" if source in SERVICE_EVENT_SOURCES else "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": self.account_id,
            "eventCategory": "Management",
        }
        full.update({k: v for k, v in event.items() if k != "eventTime"})
        if full["eventType"] == "AwsApiCall":  # an API call carries its request id; a sign-in or service event none
            full.setdefault("requestID", stable_uuid(self.account_id, self.region, "request", name, str(seq)))
        entry = _Entry(epoch(moment), seq, full, _username(full), _resources(full))
        with self._lock:
            current = self._by_name_stamp == (id(self._entries), len(self._entries))
            bisect.insort(self._entries, entry, key=lambda e: e.sort_key)
            if current:
                bisect.insort(self._by_name.setdefault(name, []), entry, key=lambda e: e.sort_key)
                self._by_name_stamp = (id(self._entries), len(self._entries))
            self._by_record[id(full)] = entry
        return full

    def events(self) -> list[Json]:
        """All records, newest first."""
        return [e.record for e in self._entries]

    def update(self, record: Json) -> None:
        """A stored record was changed in place (e.g. a user id filled in after provisioning)."""
        entry = self._by_record.get(id(record))
        if entry is not None and entry.record is record:
            entry.text = None
            entry.username = _username(record)

    def lookup(self, attributes: list[Json], start: float | None, end: float | None) -> list[_Entry]:
        if len(attributes) > 1:
            raise ValueError("You cannot specify more than one lookup attribute.")
        match = _matcher(attributes[0]) if attributes else None
        delivered = _monotonic() - self.delivery_delay_s if self.delivery_delay_s else None
        by_name = bool(attributes) and attributes[0].get("AttributeKey") == "EventName"
        with self._lock:  # record() may insert meanwhile (the SCIM endpoint logs as it serves)
            if by_name:
                candidates, match = self._names().get(attributes[0].get("AttributeValue"), []), None
            else:
                candidates = self._entries
            # Newest first: the entries at or before `end` start at the first -time >= -end; those at or after
            # `start` end after the last -time <= -start.
            low = 0 if end is None else bisect.bisect_left(candidates, -end, key=lambda e: -e.time)
            high = len(candidates) if start is None else bisect.bisect_right(candidates, -start,
                                                                             key=lambda e: -e.time)
            found = candidates[low:high]
        if delivered is not None or match is not None:
            found = [e for e in found
                     if (delivered is None or e.recorded <= delivered) and (match is None or match(e))]
        return found

    def _names(self) -> dict[str, list[_Entry]]:
        """The EventName index, rebuilt if _entries changed behind record()'s back. Call under self._lock."""
        if self._by_name_stamp != (id(self._entries), len(self._entries)):
            self._by_name = {}
            for entry in self._entries:  # already in order: appending keeps each name's list in order
                self._by_name.setdefault(entry.record["eventName"], []).append(entry)
            self._by_name_stamp = (id(self._entries), len(self._entries))
        return self._by_name


def _username(record: Json) -> str | None:
    ident = record.get("userIdentity") or {}
    extra = record.get("additionalEventData") or {}
    if ident.get("userName"):
        return ident["userName"]
    if extra.get("UserName"):
        return extra["UserName"]
    arn = ident.get("arn") or ""
    if ":assumed-role/" in arn:
        return arn.rsplit("/", 1)[-1]
    return (ident.get("onBehalfOf") or {}).get("userId")


def _resources(record: Json) -> list[Json]:
    return [{"ResourceType": r.get("type"), "ResourceName": r.get("ARN") or r.get("name")}
            for r in record.get("resources") or []]


def _matcher(attribute: Json):
    key, value = attribute.get("AttributeKey"), attribute.get("AttributeValue")
    getters = {
        "EventName": lambda e: [e.record["eventName"]],
        "EventSource": lambda e: [e.record["eventSource"]],
        "EventId": lambda e: [e.record["eventID"]],
        "ReadOnly": lambda e: [str(e.record.get("readOnly", False)).lower()],
        "Username": lambda e: [e.username],
        "AccessKeyId": lambda e: [(e.record.get("userIdentity") or {}).get("accessKeyId")],
        "ResourceName": lambda e: [r["ResourceName"] for r in e.resources],
        "ResourceType": lambda e: [r["ResourceType"] for r in e.resources],
    }
    if key not in getters:
        raise ValueError(f"Invalid AttributeKey {key!r}")
    getter = getters[key]
    return lambda e: value in getter(e)


def lookup_response(entry: _Entry) -> Json:
    """One item of LookupEvents' Events list."""
    record = entry.record
    out: Json = {
        "EventId": record["eventID"], "EventName": record["eventName"],
        "ReadOnly": str(record.get("readOnly", False)).lower(), "EventTime": entry.time,
        "EventSource": record["eventSource"], "Resources": entry.resources, "CloudTrailEvent": entry.json_text(),
    }
    access_key = (record.get("userIdentity") or {}).get("accessKeyId")
    if access_key:
        out["AccessKeyId"] = access_key
    if entry.username:
        out["Username"] = entry.username
    return out
