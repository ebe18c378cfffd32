"""AWS IAM Identity Center's SCIM endpoint (https://scim.<region>.amazonaws.com/<tenant>/scim/v2): the requests
Entra's provisioning service sends, answered the way AWS answers them.

Each operation takes the endpoint, the request (SCIM payload), the moment and the bearer token the caller presents,
and returns a ScimResult (HTTP status + body). The endpoint enforces AWS's SCIM rules itself (scim_rules.py: the
identity store facade underneath only keeps records) and records every write in CloudTrail like AWS does.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Collection, Iterator

from idbridge.sandbox.scim import cloudtrail as scim_cloudtrail, rules
from idbridge.sandbox.scim.patch import apply_patch, operations
from idbridge.sandbox.scim.resources import changed_user_fields, facade_user_fields, group_resource, user_resource
from idbridge.sandbox.scim.rules import LIST_SCHEMA, Violation

_FILTER = re.compile(r'^\s*(\w+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
_STRIDE = 0x9E3779B97F4A7C15F39CC0605CEDC835  # odd: n * stride mod 2**128 never repeats


def stable_ids(seed: str) -> Iterator[str]:
    """GUID-shaped ids that are the same each run for the same seed (snapshots stay comparable), at a fraction of
    uuid5's cost — a cycle mints several per object."""
    base = int(hashlib.sha1(seed.encode()).hexdigest()[:32], 16)
    for n in itertools.count():
        value = (base + n * _STRIDE) & ((1 << 128) - 1)
        value = (value & ~(0xF000 << 64) | (0x5000 << 64)) & ~(0xC000 << 48) | (0x8000 << 48)  # version 5, RFC variant
        text = f"{value:032x}"
        yield f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@dataclass
class ScimResult:
    status: int
    body: dict | None = None
    violation: Violation | None = None

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def resource_id(self) -> str | None:
        return (self.body or {}).get("id") if self.ok else None


@dataclass
class ScimEndpoint:
    """One identity store's SCIM endpoint. `store` is the identity store facade (aws/identity_store.py)."""

    store: Any
    tenant_id: str
    tokens: Collection[str]
    region: str
    account_id: str
    trail: Callable[[dict], None] | None = None  # CloudTrail's record(); None: nothing is logged
    trail_since: datetime | None = None  # older calls are past CloudTrail's 90-day event history: not recorded
    seed: str = "scim"
    _ids: Iterator[str] | None = field(default=None, repr=False)

    def new_id(self) -> str:
        # Deterministic request / event ids, so two seedings of one scenario log the same ids.
        if self._ids is None:
            self._ids = stable_ids(f"idbridge-scim:{self.seed}")
        return next(self._ids)


# --------------------------------------------------------------------------------------------- plumbing


def _refuse(ep: ScimEndpoint, violation: Violation, at: datetime) -> ScimResult:
    stamp = at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.") + f"{at.microsecond // 1000:03d}"
    return ScimResult(violation.status, rules.error_body(violation, request_id=ep.new_id(), timestamp=stamp),
                      violation)


def _log(ep: ScimEndpoint, name: str, at: datetime, bearer: str, body: Any, result: ScimResult,
         resource_id: str | None = None, *, read: bool = False, filter_expr: str | None = None) -> ScimResult:
    if ep.trail is not None and (ep.trail_since is None or at >= ep.trail_since):
        violation = result.violation
        ep.trail(scim_cloudtrail.event(
            name=name, at=at, region=ep.region, account_id=ep.account_id, tenant_id=ep.tenant_id,
            access_key=_access_key(bearer), request_id=ep.new_id(), event_id=ep.new_id(), body=body,
            resource_id=resource_id, response=result.body if result.ok else None,
            error_code=violation.error_code if violation else None,
            error_message=violation.message if violation else None, read=read, filter_expr=filter_expr))
    return result


@functools.lru_cache(maxsize=64)
def _access_key(bearer: str) -> str:
    """A stand-in access key id for the bearer token (CloudTrail shows one; AWS's examples redact it)."""
    return "SCIM" + uuid.uuid5(uuid.NAMESPACE_URL, bearer).hex[:16].upper()


def authorize(ep: ScimEndpoint, bearer: str | None, at: datetime) -> ScimResult | None:
    """None when the bearer token is one the endpoint issued; else the 401 AWS answers with."""
    if bearer and bearer in ep.tokens:
        return None
    return _refuse(ep, rules.unauthorized(), at)


def _store_error(ep: ScimEndpoint, exc: Exception, at: datetime) -> ScimResult:
    """The facade's own refusals (it re-checks uniqueness and required values) as SCIM answers. Anything else
    is a bug, not an answer, and is raised."""
    if not hasattr(exc, "code"):
        raise exc
    code = getattr(exc, "code", "ValidationException")
    message = getattr(exc, "message", str(exc))
    if code == "ConflictException":
        violation = Violation(409, code, message, rules.DUPLICATE, "uniqueness")
    elif code == "ResourceNotFoundException":
        violation = rules.not_found()
    else:
        violation = rules.validation(message)
    return _refuse(ep, violation, at)


def _raw(ep: ScimEndpoint, kind: str, object_id: str) -> dict | None:
    """The stored record without the facade's defensive deep copy (read only), else via the facade."""
    data = getattr(ep.store, "data", None)
    if data is not None:
        return (data.users if kind == "user" else data.groups).get(object_id)
    try:
        return ep.store.user(object_id) if kind == "user" else ep.store.group(object_id)
    except Exception:  # the facade's NotFound
        return None


def _primary_email(resource: dict) -> str | None:
    emails = resource.get("emails") or []
    return emails[0].get("value") if emails and isinstance(emails[0], dict) else None


def _attribute(name: str) -> Callable[[dict], Any]:
    return lambda resource: resource.get(name)


@dataclass(frozen=True)
class _Type:
    """What differs between /Users and /Groups; the handlers' shape (authorize, find, check, write through the
    facade, answer, log in CloudTrail) is one."""

    kind: str                               # "user" / "group": the facade's find_<kind>, delete_<kind>, ...
    noun: str                               # "User" / "Group": CloudTrail's CreateUser, PatchGroup, ...
    resource: Callable[[dict], dict]        # stored record -> SCIM resource
    filters: dict[str, str]                 # filterable attribute (lower case) -> facade find keyword
    unique: tuple[tuple[str, str, Callable[[dict], Any]], ...]  # AWS's uniqueness rules: (label, keyword, value)


USER = _Type("user", "User", user_resource, {"username": "user_name", "externalid": "external_id"},
             (("UserName", "user_name", _attribute("userName")), ("Email", "email", _primary_email),
              ("ExternalId", "external_id", _attribute("externalId"))))
GROUP = _Type("group", "Group", group_resource, {"displayname": "display_name", "externalid": "external_id"},
              (("GroupDisplayName", "display_name", _attribute("displayName")),
               ("ExternalId", "external_id", _attribute("externalId"))))


def _conflict(ep: ScimEndpoint, t: _Type, resource: dict, self_id: str | None) -> Violation | None:
    """AWS's uniqueness rules (shared reference §1c): users by userName, primary email and externalId; groups by
    displayName and externalId."""
    find = getattr(ep.store, f"find_{t.kind}")
    for label, keyword, value_of in t.unique:
        value = value_of(resource)
        if value:
            other = find(**{keyword: value})
            if other and other != self_id:
                return rules.duplicate(label)
    return None


def _list(resources: list[dict]) -> dict:
    return {"schemas": [LIST_SCHEMA], "totalResults": len(resources), "itemsPerPage": len(resources),
            "startIndex": 1, "Resources": resources}


def _get(ep: ScimEndpoint, t: _Type, object_id: str, at: datetime, bearer: str) -> ScimResult:
    denied = authorize(ep, bearer, at)
    if denied:
        return denied
    record = _raw(ep, t.kind, object_id)
    result = ScimResult(200, t.resource(record)) if record else _refuse(ep, rules.not_found(), at)
    return _log(ep, f"Get{t.noun}", at, bearer, None, result, object_id, read=True)


def _find(ep: ScimEndpoint, t: _Type, filter_expr: str, at: datetime, bearer: str) -> ScimResult:
    """GET /<Resources>?filter=<attribute> eq "x": the one equality filter Entra sends to match."""
    denied = authorize(ep, bearer, at)
    if denied:
        return denied
    match = _FILTER.match(filter_expr or "")
    name = f"List{t.noun}s"
    if not match or match[1].lower() not in t.filters:
        return _log(ep, name, at, bearer, None, _refuse(ep, rules.unparsable("Invalid Filter format"), at),
                    read=True, filter_expr=filter_expr or "")
    found = getattr(ep.store, f"find_{t.kind}")(**{t.filters[match[1].lower()]: match[2].replace('\\"', '"')})
    record = _raw(ep, t.kind, found) if found else None
    return _log(ep, name, at, bearer, None, ScimResult(200, _list([t.resource(record)] if record else [])),
                read=True, filter_expr=filter_expr)


def _target(ep: ScimEndpoint, t: _Type, name: str, object_id: str, request: Any, at: datetime,
            bearer: str) -> tuple[dict | None, ScimResult | None]:
    """The stored record a PATCH / PUT / DELETE is about, or the answer instead: 401, or 404 (logged)."""
    denied = authorize(ep, bearer, at)
    if denied:
        return None, denied
    record = _raw(ep, t.kind, object_id)
    if record is None:
        return None, _log(ep, name, at, bearer, request, _refuse(ep, rules.not_found(), at), object_id)
    return record, None


def _write(ep: ScimEndpoint, name: str, request: Any, violation: Violation | None, write: Callable[[], Any],
           answer: Callable[[Any], ScimResult], at: datetime, bearer: str, object_id: str | None = None) -> ScimResult:
    """A checked write: refused on a violation, else made through the facade (its own refusals become SCIM
    answers) and answered from what write() returned; logged in CloudTrail either way."""
    if violation:
        return _log(ep, name, at, bearer, request, _refuse(ep, violation, at), object_id)
    try:
        written = write()
    except Exception as exc:  # noqa: BLE001 - the facade's IdentityStoreError family (others re-raised)
        return _log(ep, name, at, bearer, request, _store_error(ep, exc, at), object_id)
    return _log(ep, name, at, bearer, request, answer(written), object_id)


def _created(ep: ScimEndpoint, t: _Type) -> Callable[[str], ScimResult]:
    return lambda object_id: ScimResult(201, t.resource(_raw(ep, t.kind, object_id)))


def _delete(ep: ScimEndpoint, t: _Type, object_id: str, at: datetime, bearer: str) -> ScimResult:
    name = f"Delete{t.noun}"
    _, refused = _target(ep, t, name, object_id, None, at, bearer)
    if refused:
        return refused
    return _write(ep, name, None, None, lambda: getattr(ep.store, f"delete_{t.kind}")(object_id),
                  lambda _: ScimResult(204), at, bearer, object_id)


# --------------------------------------------------------------------------------------------- users


def get_user(ep: ScimEndpoint, user_id: str, at: datetime, *, bearer: str) -> ScimResult:
    return _get(ep, USER, user_id, at, bearer)


def list_users(ep: ScimEndpoint, filter_expr: str, at: datetime, *, bearer: str) -> ScimResult:
    """GET /Users?filter=userName eq "x" (Entra's matching query); externalId is accepted too."""
    return _find(ep, USER, filter_expr, at, bearer)


def create_user(ep: ScimEndpoint, payload: Any, at: datetime, *, bearer: str) -> ScimResult:
    denied = authorize(ep, bearer, at)
    if denied:
        return denied
    violation = rules.check_user(payload) or _conflict(ep, USER, payload, None)
    return _write(ep, "CreateUser", payload, violation,
                  lambda: ep.store.create_user(**facade_user_fields(payload), at=at), _created(ep, USER), at, bearer)


def _update_user(ep: ScimEndpoint, name: str, user_id: str, request: Any, after: dict | None,
                 violation: Violation | None, before: dict, at: datetime, bearer: str, status: int) -> ScimResult:
    violation = violation or rules.check_user(after, creating=False) or _conflict(ep, USER, after, user_id)

    def write() -> None:
        changes = changed_user_fields(before, after)
        if changes:
            ep.store.update_user(user_id, at=at, **changes)

    def answer(_: None) -> ScimResult:
        return ScimResult(status, user_resource(_raw(ep, "user", user_id)) if status == 200 else None)

    return _write(ep, name, request, violation, write, answer, at, bearer, user_id)


def patch_user(ep: ScimEndpoint, user_id: str, patch: Any, at: datetime, *, bearer: str) -> ScimResult:
    """PATCH /Users/{id}; AWS answers a successful PATCH with 204 No Content."""
    record, refused = _target(ep, USER, "PatchUser", user_id, patch, at, bearer)
    if refused:
        return refused
    before = user_resource(record)
    after, violation = apply_patch(before, patch)
    return _update_user(ep, "PatchUser", user_id, patch, after, violation, before, at, bearer, 204)


def replace_user(ep: ScimEndpoint, user_id: str, payload: Any, at: datetime, *, bearer: str) -> ScimResult:
    """PUT /Users/{id}. Attributes the payload leaves out stay as they are (the store keeps no "removed")."""
    record, refused = _target(ep, USER, "PutUser", user_id, payload, at, bearer)
    if refused:
        return refused
    before = user_resource(record)
    violation = None if isinstance(payload, dict) else rules.unparsable(rules.INVALID_JSON)
    return _update_user(ep, "PutUser", user_id, payload, payload if not violation else None, violation, before,
                        at, bearer, 200)


def delete_user(ep: ScimEndpoint, user_id: str, at: datetime, *, bearer: str) -> ScimResult:
    return _delete(ep, USER, user_id, at, bearer)


# --------------------------------------------------------------------------------------------- groups


def get_group(ep: ScimEndpoint, group_id: str, at: datetime, *, bearer: str) -> ScimResult:
    return _get(ep, GROUP, group_id, at, bearer)


def list_groups(ep: ScimEndpoint, filter_expr: str, at: datetime, *, bearer: str) -> ScimResult:
    """GET /Groups?filter=displayName eq "x"; externalId is accepted too."""
    return _find(ep, GROUP, filter_expr, at, bearer)


def _member_problem(ep: ScimEndpoint, member_id: str) -> Violation | None:
    if _raw(ep, "user", member_id) is not None:
        return None
    if _raw(ep, "group", member_id) is not None:
        return rules.validation(rules.NESTED_GROUP)
    return rules.validation(rules.MEMBER_MISSING)


def _member_ids(value: Any) -> list[str] | None:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, dict) and item.get("value") for item in items):
        return None
    return [str(item["value"]) for item in items]


def create_group(ep: ScimEndpoint, payload: Any, at: datetime, *, bearer: str) -> ScimResult:
    denied = authorize(ep, bearer, at)
    if denied:
        return denied
    violation = rules.check_group(payload) or _conflict(ep, GROUP, payload, None)
    members = _member_ids(payload.get("members")) if not violation else []
    if not violation and members is None:
        violation = rules.unparsable(rules.INVALID_JSON)
    violation = violation or next(filter(None, (_member_problem(ep, m) for m in members)), None)

    def write() -> str:
        group_id = ep.store.create_group(display_name=payload["displayName"], external_id=payload.get("externalId"),
                                         at=at)
        for member in members:
            ep.store.add_member(group_id, member, at=at)
        return group_id

    return _write(ep, "CreateGroup", payload, violation, write, _created(ep, GROUP), at, bearer)


def _membership_plan(ep: ScimEndpoint, group_id: str, ops: list[dict]) -> tuple[set, set, list[dict], Violation | None]:
    """Split PATCH operations into member adds / removes and the other (attribute) operations."""
    adds: set[str] = set()
    removes: set[str] = set()
    rest: list[dict] = []
    for op in ops:
        name = str(op.get("op", "")).lower()
        path = str(op.get("path") or "")
        if not path.lower().startswith("members"):
            rest.append(op)
            continue
        filtered = re.match(r'^members\[value eq "([^"]+)"\]$', path, re.IGNORECASE)
        ids = [filtered[1]] if filtered else _member_ids(op.get("value"))
        if ids is None:
            return adds, removes, rest, rules.unparsable(rules.INVALID_JSON)
        if name == "add":
            adds.update(ids)
            removes.difference_update(ids)
        elif name == "remove":
            if not filtered and op.get("value") is None:  # remove all members
                ids = list(ep.store.members(group_id))
            removes.update(ids)
            adds.difference_update(ids)
        elif name == "replace":
            current = set(ep.store.members(group_id))
            adds, removes = set(ids) - current, current - set(ids)
        else:
            return adds, removes, rest, rules.unparsable(rules.INVALID_JSON)
    return adds, removes, rest, None


def patch_group(ep: ScimEndpoint, group_id: str, patch: Any, at: datetime, *, bearer: str) -> ScimResult:
    """PATCH /Groups/{id}: member adds / removes and displayName. A member that is a group is refused:
    Identity Center has no nested groups."""
    record, refused = _target(ep, GROUP, "PatchGroup", group_id, patch, at, bearer)
    if refused:
        return refused
    ops = operations(patch)
    if ops is None:
        return _log(ep, "PatchGroup", at, bearer, patch, _refuse(ep, rules.unparsable(rules.INVALID_JSON), at),
                    group_id)
    missing = next((op for op in ops if str(op.get("op", "")).lower() == "remove" and not op.get("path")), None)
    adds, removes, rest, violation = _membership_plan(ep, group_id, ops)
    violation = (rules.unparsable(rules.MISSING_PATH) if missing else violation) or \
        next(filter(None, (_member_problem(ep, m) for m in sorted(adds))), None)
    after = group_resource(record)
    if not violation and rest:
        after, violation = apply_patch(after, {"Operations": rest})
        violation = violation or rules.check_group(after) or _conflict(ep, GROUP, after, group_id)

    def write() -> None:
        if after.get("displayName") != record.get("DisplayName"):
            ep.store.update_group(group_id, at=at, display_name=after["displayName"])
        for member in sorted(adds):
            ep.store.add_member(group_id, member, at=at)
        for member in sorted(removes):
            ep.store.remove_member(group_id, member)

    return _write(ep, "PatchGroup", patch, violation, write, lambda _: ScimResult(204), at, bearer, group_id)


def delete_group(ep: ScimEndpoint, group_id: str, at: datetime, *, bearer: str) -> ScimResult:
    return _delete(ep, GROUP, group_id, at, bearer)
