"""Serving collections and entities the way Graph does: $filter, $select, $orderby, $count, $top and paging with
an opaque $skiptoken in @odata.nextLink.

A Resource describes one entity type: its property names (for $select/$filter validation), page sizes, whether
the directory's advanced-query rules apply, which properties Graph leaves out unless they are $select-ed, which
properties exist in only one Graph version (for_version), and which query options / $filter operators the
endpoint refuses where Graph's reference says it does not take them.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable
from urllib.parse import quote, urlencode

from idbridge.sandbox.graph.errors import (GraphError, bad_request, invalid_filter_clause, option_not_allowed,
                                           unsupported_query)
from idbridge.sandbox.graph.odata_filter import (ADVANCED, OPT_IN_FUNCTIONS, FilterError, Parsed, matches,
                                                 parse_filter)
from idbridge.sandbox.graph.store import Json

Project = Callable[[Json, "Query"], Json]


@dataclass
class Resource:
    type_name: str                 # e.g. "user" (microsoft.graph.user)
    properties: frozenset[str]
    directory: bool = False        # directory object: advanced queries need ConsistencyLevel: eventual
    default_page: int = 100
    max_page: int = 999
    default_select: tuple[str, ...] | None = None  # v1.0 /users returns only these without $select
    select_only: frozenset[str] = frozenset()       # returned only when $select-ed (signInActivity)
    orderable: frozenset[str] = frozenset({"displayName", "createdDateTime", "userPrincipalName"})
    default_order: tuple[str, bool] | None = None   # (property, descending)
    project: Project | None = None                  # last touch on each item (e.g. hide secret keys)
    by_type: dict[str, "Resource"] | None = None    # directoryObject lists: "#microsoft.graph.user" -> USER
    only_in: dict[str, str] = field(default_factory=dict)  # property -> the one version ("v1.0"/"beta") having it
    hidden: frozenset[str] = frozenset()            # set by for_version: stored, but not a property in this version
    refused: frozenset[str] = frozenset()           # query options the list endpoint answers 400 "not allowed"
    refused_single: frozenset[str] = frozenset()    # the same, for GET of one entity
    filter_ops: frozenset[str] | None = None        # if set: the only $filter operators/functions accepted

    @property
    def title(self) -> str:
        return self.type_name[:1].upper() + self.type_name[1:]


@dataclass
class Query:
    """The query options of one request, parsed and checked."""

    select: list[str] | None = None
    filter: Parsed | None = None
    top: int | None = None
    skiptoken: str | None = None
    count: bool = False
    orderby: tuple[str, bool] | None = None
    single: bool = False  # a single entity, not a collection (Graph returns a few more things then)
    raw: dict[str, str] = field(default_factory=dict)

    def selects(self, name: str) -> bool:
        return bool(self.select) and name.lower() in (s.lower() for s in self.select)

    def mentions(self, name: str) -> bool:
        """$select-ed or $filter-ed on (the licence checks look at both)."""
        in_filter = bool(self.filter) and name.lower() in (p.lower() for p in self.filter.properties)
        return self.selects(name) or in_filter


def for_version(resource: Resource, version: str) -> Resource:
    """The resource as `version` defines it: properties of the other version only are dropped (an unknown property
    for $select / $filter) and hidden from the items served. Idempotent."""
    if not resource.only_in or resource.hidden:
        return resource
    other = frozenset(name for name, only in resource.only_in.items() if only != version)
    if not other:
        return resource
    by_type = {k: for_version(v, version) for k, v in resource.by_type.items()} if resource.by_type else None
    return replace(resource, properties=resource.properties - other, hidden=other, by_type=by_type)


def _canonical(name: str, resource: Resource) -> str:
    low = name.lower()
    for prop in resource.properties:
        if prop.lower() == low:
            return prop
    raise bad_request(f"Could not find a property named '{name}' on type 'microsoft.graph.{resource.type_name}'.")


def parse_query(args: dict[str, str], headers: dict[str, str], resource: Resource, *, collection: bool) -> Query:
    q = Query(raw=dict(args))
    for key in args:
        if key.startswith("$") and key not in ("$select", "$filter", "$top", "$skiptoken", "$count", "$orderby",
                                               "$search", "$expand", "$skip", "$format"):
            raise bad_request(f"Query option '{key}' is not allowed. Make sure that it is supported by the "
                              "service.", "Request_BadRequest")
    refused = resource.refused if collection else resource.refused_single
    for key in args:
        if key.lower() in refused:
            raise option_not_allowed(key)
    if "$search" in args:
        raise unsupported_query("$search is not implemented by the idbridge sandbox; use $filter.")
    if "$expand" in args:
        raise unsupported_query("$expand is not implemented by the idbridge sandbox; request the navigation "
                                "property (e.g. /members) instead.")
    if "$skip" in args:
        raise bad_request("'$skip' is not supported by the service.", "Request_BadRequest")
    if args.get("$select"):
        q.select = [_canonical(s.strip(), resource) for s in args["$select"].split(",") if s.strip()]
    if not collection:
        q.single = True
        return q
    if args.get("$filter"):
        try:
            q.filter = parse_filter(args["$filter"])
        except FilterError as exc:
            code = "BadRequest" if exc.kind == "syntax" else "Request_UnsupportedQuery"
            raise bad_request(exc.message, code) from None
        for prop in q.filter.properties:
            _canonical(prop, resource)
        used = q.filter.used - {"null"}
        if resource.filter_ops is not None:
            if used - resource.filter_ops:
                raise invalid_filter_clause()
        elif used & OPT_IN_FUNCTIONS:
            name = sorted(used & OPT_IN_FUNCTIONS)[0]
            raise unsupported_query(f"Unsupported or invalid query filter clause specified: function '{name}' is "
                                    "not supported.")
    if "$top" in args:
        try:
            q.top = int(args["$top"])
        except ValueError:
            raise bad_request(f"Invalid page size specified: '{args['$top']}'.", "Request_BadRequest") from None
        if not 1 <= q.top <= resource.max_page:
            raise bad_request(f"Invalid page size specified: '{q.top}'. Must be between 1 and {resource.max_page} "
                              "inclusive.", "Request_BadRequest")
    q.skiptoken = args.get("$skiptoken")
    q.count = args.get("$count", "").lower() == "true"
    eventual = headers.get("consistencylevel", "").lower() == "eventual"
    if resource.directory and q.count and not eventual:
        raise bad_request("$count is not currently supported.", "Request_BadRequest")
    if resource.directory and q.filter and q.filter.used & ADVANCED and not (eventual and q.count):
        used = sorted(q.filter.used & ADVANCED)
        raise unsupported_query(f"Unsupported or invalid query filter clause specified for resource "
                                f"'{resource.title}': {', '.join(used)} needs the advanced query capabilities "
                                "(ConsistencyLevel: eventual and $count=true).")
    if args.get("$orderby"):
        parts = args["$orderby"].split()
        prop = _canonical(parts[0], resource)
        if prop not in resource.orderable or len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in
                                                                ("asc", "desc")):
            raise unsupported_query(f"Unsupported sort property '{parts[0]}' for '{resource.title}'.")
        q.orderby = (prop, len(parts) == 2 and parts[1].lower() == "desc")
    return q


# ------------------------------------------------------------------------------------------------ projection


def project(item: Json, q: Query, resource: Resource, version: str) -> Json:
    odata_type = item.get("@odata.type")
    if resource.by_type and odata_type in resource.by_type:
        # A mixed list (group members): each object is shaped by its own type, and says which type it is.
        sub = resource.by_type[odata_type]
        selected = [name for name in q.select if name in sub.properties] if q.select else None
        sub_q = Query(select=selected or None, single=q.single) if q.select else Query(single=q.single)
        if q.select and not selected:
            return {"@odata.type": odata_type}
        return {"@odata.type": odata_type, **project({k: v for k, v in item.items() if k != "@odata.type"},
                                                     sub_q, sub, version)}
    if q.select:
        out = {name: item.get(name) for name in q.select}
    else:
        names: Iterable[str] = resource.default_select if (resource.default_select and version == "v1.0") else item
        out = {name: item.get(name) for name in names
               if name not in resource.select_only and name not in resource.hidden}
    if resource.project:
        out = resource.project(out, q)
    return out


# ------------------------------------------------------------------------------------------------ paging


def _query_hash(q: Query) -> bytes:
    basis = "|".join(f"{k}={v}" for k, v in sorted(q.raw.items()) if k not in ("$skiptoken", "$top"))
    return hashlib.sha256(basis.encode()).digest()[:8]


def encode_skiptoken(offset: int, q: Query) -> str:
    raw = b"IDB1" + struct.pack(">I", offset) + _query_hash(q)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_skiptoken(token: str, q: Query) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        if len(raw) != 16 or raw[:4] != b"IDB1" or raw[8:] != _query_hash(q):
            raise ValueError
        return struct.unpack(">I", raw[4:8])[0]
    except ValueError:
        raise GraphError(400, "Directory_InvalidPageToken",
                         "The specified page token value is invalid or belongs to another query.") from None


def _sort_key(prop: str):
    def key(item: Json):
        value = item.get(prop)
        return (value is None, value.casefold() if isinstance(value, str) else value)
    return key


def collection_body(items: list[Json], q: Query, resource: Resource, *, version: str, context: str,
                    page_url: str, default_page: int | None = None, page_cap: int | None = None) -> Json:
    """Filter, order, count, page and project `items`; returns the response body with value / nextLink.
    `page_cap`: a page never holds more, whatever $top asks (Graph's silent cap, e.g. /users with signInActivity)."""
    return page_body(selected(items, q, resource), q, resource, version=version, context=context, page_url=page_url,
                     default_page=default_page, page_cap=page_cap)


def selected(items: list[Json], q: Query, resource: Resource) -> list[Json]:
    """`items` that pass $filter, in $orderby (else the resource's default) order: what the pages of a query cut."""
    if q.filter:
        items = [item for item in items if matches(q.filter, item)]
    order = q.orderby or resource.default_order
    if order:
        present = [i for i in items if i.get(order[0]) is not None]
        absent = [i for i in items if i.get(order[0]) is None]
        items = sorted(present, key=_sort_key(order[0]), reverse=order[1]) + absent
    return items


def page_body(items: list[Json], q: Query, resource: Resource, *, version: str, context: str, page_url: str,
              default_page: int | None = None, page_cap: int | None = None) -> Json:
    """Count, page and project items already filtered and ordered (selected())."""
    body: Json = {"@odata.context": context}
    if q.count:
        body["@odata.count"] = len(items)
    offset = decode_skiptoken(q.skiptoken, q) if q.skiptoken else 0
    size = q.top or default_page or resource.default_page
    if page_cap is not None:
        size = min(size, page_cap)
    page = items[offset:offset + size]
    body["value"] = [project(item, q, resource, version) for item in page]
    if offset + size < len(items):
        args = {k: v for k, v in q.raw.items() if k != "$skiptoken"}
        args["$skiptoken"] = encode_skiptoken(offset + size, q)
        body["@odata.nextLink"] = page_url + "?" + urlencode(args, safe="$,'()/:", quote_via=quote)
    return body


def context_url(service_root: str, entity_set: str, q: Query | None = None, entity: bool = False) -> str:
    select = f"({','.join(q.select)})" if q and q.select else ""
    return f"{service_root}/$metadata#{entity_set}{select}{'/$entity' if entity else ''}"
