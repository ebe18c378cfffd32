"""Directory reads: /users, /groups (members, transitive members, casts, $count), /directory/deletedItems,
/organization, and the appRoleAssignments / memberOf of a user or group; one write: removing a group member."""

from __future__ import annotations

import re

from idbridge.sandbox.graph import errors, resources as R
from idbridge.sandbox.graph.core import Call, Result, Router, collection, entity
from idbridge.sandbox.graph.odata_filter import matches
from idbridge.sandbox.graph.store import Json

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ID = r"(?P<oid>[^/()]+)"
_CASTS = {"microsoft.graph.user": "#microsoft.graph.user", "graph.user": "#microsoft.graph.user",
          "microsoft.graph.group": "#microsoft.graph.group", "graph.group": "#microsoft.graph.group"}
_CAST = r"(?:/(?P<cast>(?:microsoft\.)?graph\.(?:user|group)))?"
TYPE_OF = {"#microsoft.graph.user": R.USER, "#microsoft.graph.group": R.GROUP}


def _check_sign_in_activity(call: Call, mentions: bool) -> None:
    """signInActivity needs Entra ID P1/P2 (and AuditLog.Read.All): a free tenant gets the licence error."""
    if mentions and not call.app.faults.sign_in_activity_licensed():
        raise errors.unlicensed()


def find_user(call: Call, ref: str) -> Json | None:
    store = call.store
    if _GUID.match(ref):
        return store.users.get(ref.lower())
    return store.user_by_upn(ref)


def _typed(call: Call, object_id: str) -> Json | None:
    store = call.store
    if object_id in store.users:
        return {"@odata.type": "#microsoft.graph.user", **store.users[object_id]}
    if object_id in store.groups:
        return {"@odata.type": "#microsoft.graph.group", **store.groups[object_id]}
    if object_id in store.service_principals:
        return {"@odata.type": "#microsoft.graph.servicePrincipal", **store.service_principals[object_id]}
    return None


def transitive_ids(call: Call, group_id: str) -> list[str]:
    """Every member reached through nested groups (groups included), breadth first, without repeats."""
    seen: dict[str, None] = {}
    queue = list(call.store.direct_members.get(group_id, []))
    while queue:
        member = queue.pop(0)
        if member in seen or member == group_id:
            continue
        seen[member] = None
        queue.extend(call.store.direct_members.get(member, []))
    return list(seen)


def _count_text(call: Call, n: int) -> Result:
    if call.headers.get("consistencylevel", "").lower() != "eventual":
        raise errors.unsupported_query(
            "Raw count (/$count) is not supported because the 'ConsistencyLevel:eventual' header is missing. "
            "Refer to https://aka.ms/graph-docs/advanced-queries for more information")
    return Result(200, str(n), content_type="text/plain;charset=utf-8")


def _filtered(call: Call, items: list[Json], resource) -> list[Json]:
    q = call.query(resource)
    return [i for i in items if not q.filter or matches(q.filter, i)]


# ------------------------------------------------------------------------------------------------ users


def list_users(call: Call) -> Json:
    q = call.query(R.USER)
    activity = q.mentions("signInActivity")
    _check_sign_in_activity(call, activity)
    # With signInActivity Graph serves at most 120 users a page; a larger $top is capped, not refused.
    result = collection(call, list(call.store.users.values()), R.USER, "users", query=q,
                        page_cap=R.SIGN_IN_ACTIVITY_PAGE_CAP if activity else None)
    return Result(200, result, {"x-ms-resource-unit": "1" if q.select else "2"})


def count_users(call: Call) -> Result:
    return _count_text(call, len(_filtered(call, list(call.store.users.values()), R.USER)))


def get_user(call: Call, oid: str) -> Json:
    q = call.query(R.USER, collection=False)
    _check_sign_in_activity(call, q.selects("signInActivity"))
    return entity(call, find_user(call, oid), R.USER, "users", oid)


def get_user_by_upn(call: Call, upn: str) -> Json:
    return get_user(call, upn.replace("''", "'"))


def user_assignments(call: Call, oid: str) -> Json:
    user = find_user(call, oid)
    if user is None:
        raise errors.not_found(oid)
    items = [a for a in call.store.app_role_assignments.values() if a["principalId"] == user["id"]]
    return collection(call, items, R.ASSIGNMENT, f"users('{user['id']}')/appRoleAssignments")


def user_member_of(call: Call, oid: str) -> Json:
    user = find_user(call, oid)
    if user is None:
        raise errors.not_found(oid)
    groups = [_typed(call, gid) for gid, members in call.store.direct_members.items() if user["id"] in members]
    return collection(call, [g for g in groups if g], R.DIRECTORY_OBJECT, "directoryObjects")


# ------------------------------------------------------------------------------------------------ groups


def list_groups(call: Call) -> Json:
    return collection(call, list(call.store.groups.values()), R.GROUP, "groups")


def count_groups(call: Call) -> Result:
    return _count_text(call, len(_filtered(call, list(call.store.groups.values()), R.GROUP)))


def get_group(call: Call, oid: str) -> Json:
    return entity(call, call.store.groups.get(oid.lower()), R.GROUP, "groups", oid)


def _members(call: Call, oid: str, transitive: bool, cast: str | None) -> tuple[list[Json], object]:
    if oid.lower() not in call.store.groups:
        raise errors.not_found(oid)
    ids = transitive_ids(call, oid.lower()) if transitive else call.store.direct_members.get(oid.lower(), [])
    items = [obj for obj in (_typed(call, i) for i in ids) if obj]
    if cast:
        odata_type = _CASTS[cast]
        items = [{k: v for k, v in obj.items() if k != "@odata.type"} for obj in items
                 if obj["@odata.type"] == odata_type]
        return items, TYPE_OF[odata_type]
    return items, R.DIRECTORY_OBJECT


def group_members(call: Call, oid: str, cast: str | None = None, kind: str = "members") -> Result:
    items, resource = _members(call, oid, kind == "transitiveMembers", cast)
    entity_set = "users" if resource is R.USER else "groups" if resource is R.GROUP else "directoryObjects"
    body = collection(call, items, resource, entity_set)
    return Result(200, body, {"x-ms-resource-unit": "5" if kind == "transitiveMembers" else "3"})


def group_members_count(call: Call, oid: str, cast: str | None = None, kind: str = "members") -> Result:
    items, resource = _members(call, oid, kind == "transitiveMembers", cast)
    return _count_text(call, len(_filtered(call, items, resource)))


def remove_member(call: Call, oid: str, mid: str) -> Result:
    """DELETE /groups/{id}/members/{id}/$ref: 204 No Content; a group or member not there is 404 (the reference
    is what is deleted, never the member object)."""
    members = call.store.direct_members.get(oid.lower())
    if oid.lower() not in call.store.groups or members is None or mid.lower() not in members:
        raise errors.not_found(mid if oid.lower() in call.store.groups else oid)
    members.remove(mid.lower())
    return Result(204)


def group_assignments(call: Call, oid: str) -> Json:
    if oid.lower() not in call.store.groups:
        raise errors.not_found(oid)
    items = [a for a in call.store.app_role_assignments.values() if a["principalId"] == oid.lower()]
    return collection(call, items, R.ASSIGNMENT, f"groups('{oid}')/appRoleAssignments")


# ------------------------------------------------------------------------------------------------ others


def deleted_users(call: Call, cast: str) -> Json:
    q = call.query(R.USER)
    _check_sign_in_activity(call, q.mentions("signInActivity"))
    return collection(call, list(call.store.deleted_users.values()), R.USER,
                      "directory/deletedItems/microsoft.graph.user", query=q)


def deleted_user(call: Call, oid: str, cast: str | None = None) -> Json:
    return entity(call, call.store.deleted_users.get(oid.lower()), R.USER, "directory/deletedItems", oid)


def organization(call: Call) -> Json:
    return collection(call, [call.store.tenant], R.ORGANIZATION, "organization")


def organization_item(call: Call, oid: str) -> Json:
    tenant = call.store.tenant
    return entity(call, tenant if oid.lower() == tenant["id"] else None, R.ORGANIZATION, "organization", oid)


def register(router: Router) -> None:
    router.add(r"/users", GET=list_users)
    router.add(r"/users/\$count", GET=count_users)
    router.add(r"/users\(userPrincipalName='(?P<upn>.+)'\)", GET=get_user_by_upn)
    router.add(rf"/users/{_ID}", GET=get_user)
    router.add(rf"/users/{_ID}/appRoleAssignments", GET=user_assignments)
    router.add(rf"/users/{_ID}/memberOf", GET=user_member_of)
    router.add(r"/groups", GET=list_groups)
    router.add(r"/groups/\$count", GET=count_groups)
    router.add(rf"/groups/{_ID}", GET=get_group)
    router.add(rf"/groups/{_ID}/(?P<kind>members|transitiveMembers){_CAST}", GET=group_members)
    router.add(rf"/groups/{_ID}/(?P<kind>members|transitiveMembers){_CAST}/\$count", GET=group_members_count)
    router.add(rf"/groups/{_ID}/appRoleAssignments", GET=group_assignments)
    router.add(rf"/groups/{_ID}/members/(?P<mid>[^/()]+)/\$ref", DELETE=remove_member)
    router.add(r"/directory/deletedItems/(?P<cast>(?:microsoft\.)?graph\.user)", GET=deleted_users)
    router.add(rf"/directory/deletedItems/(?P<cast>(?:microsoft\.)?graph\.user)/{_ID}", GET=deleted_user)
    router.add(rf"/directory/deletedItems/{_ID}", GET=deleted_user)
    router.add(r"/organization", GET=organization)
    router.add(rf"/organization/{_ID}", GET=organization_item)
