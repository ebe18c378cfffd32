"""Entra's attribute mappings: read them from the job's synchronizationSchema and turn an Entra user or group
(Graph JSON) into the SCIM resource the provisioning service would send.

Sources are named the way provisioning names them (AD-style: telephoneNumber, mobile, objectId, surname…); Graph
property names are accepted too. Expressions: `[attr]`, `"constant"`, and the functions the AWS schema uses or a
scenario may add — Switch, Join, Not, Coalesce, ToLower, ToUpper, Item. Like Entra, nothing is sent for an empty
source value, and a multi-valued target gets one entry per mapping (so mobile AND telephone mapped to
phoneNumbers make two phone numbers, which AWS refuses).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from idbridge.sandbox.graph import sync_shapes
from idbridge.sandbox.scim.rules import GROUP_SCHEMA, USER_SCHEMA

Getter = Callable[[str], Any]  # source attribute name -> value (str, bool, list or None)

# provisioning's attribute names -> Graph user JSON (a tuple picks one item of a list property)
USER_ALIASES: dict[str, Any] = {
    "objectId": "id", "telephoneNumber": ("businessPhones", 0), "mobile": "mobilePhone",
    "physicalDeliveryOfficeName": "officeLocation", "facsimileTelephoneNumber": "faxNumber",
    "employeeNumber": "employeeId",
}
GROUP_ALIASES: dict[str, Any] = {"objectId": "id"}
_MULTI_VALUED = ("emails", "phoneNumbers", "addresses", "roles")
_FILTERED = re.compile(r'^(\w+)\[type eq "([^"]*)"\]\.(\w+)$', re.IGNORECASE)


@dataclass(frozen=True)
class Mapping:
    target: str
    evaluate: Callable[[Getter], Any]
    matching: int = 0
    place: Callable[[dict, Any], None] | None = None  # compiled writer of the target (see make_mapping)
    read: Callable[[dict], Any] | None = None          # a plain [attribute] source, read straight off the JSON


def make_mapping(target: str, evaluate: Callable[[Getter], Any], matching: int = 0,
                 expression: str | None = None) -> Mapping:
    plain = re.fullmatch(r"\[(\w+)\]", expression or "")
    read = _reader(plain[1]) if plain and plain[1] != "IsSoftDeleted" else None
    return Mapping(target, evaluate, matching, _placer(target), read)


# --------------------------------------------------------------------------------------------- expressions


def _tokens(text: str) -> list[str]:
    return re.findall(r'\[[^\]]*\]|"(?:[^"\\]|\\.)*"|[A-Za-z_][\w.]*|[(),]', text)


def compile_expression(text: str) -> Callable[[Getter], Any]:
    """Entra mapping expression -> function of a source getter. Unknown functions evaluate to None."""
    tokens = _tokens(text)
    position = 0

    def parse() -> Callable[[Getter], Any] | None:
        nonlocal position
        if position >= len(tokens) or tokens[position] in (",", ")"):
            return None  # an empty argument, as in Switch([IsSoftDeleted], , "False", …)
        token = tokens[position]
        position += 1
        if token.startswith("["):
            name = token[1:-1]
            return lambda get: get(name)
        if token.startswith('"'):
            constant = token[1:-1].replace('\\"', '"')
            return lambda get: constant
        args: list[Callable[[Getter], Any] | None] = []
        if position < len(tokens) and tokens[position] == "(":
            position += 1
            while position < len(tokens) and tokens[position] != ")":
                args.append(parse())
                if position < len(tokens) and tokens[position] == ",":
                    position += 1
            position += 1
        return _function(token, args)

    return parse() or (lambda get: None)


def _text(value: Any) -> str | None:
    if value is None or value == [] or value == "":
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return _text(value[0])
    return str(value)


def _function(name: str, args: list) -> Callable[[Getter], Any]:
    def arg(i: int, get: Getter) -> Any:
        return args[i](get) if i < len(args) and args[i] is not None else None

    lowered = name.lower()
    if lowered == "switch":  # Switch(source, default, key1, value1, key2, value2, …)
        def switch(get: Getter) -> Any:
            source = _text(arg(0, get))
            for i in range(2, len(args) - 1, 2):
                if source == _text(arg(i, get)):
                    return arg(i + 1, get)
            return arg(1, get)
        return switch
    if lowered == "join":
        return lambda get: _join(args, get)
    if lowered == "not":
        def negate(get: Getter) -> Any:
            value = _text(arg(0, get))
            return None if value is None else ("False" if value.lower() == "true" else "True")
        return negate
    if lowered == "coalesce":
        return lambda get: next((v for v in (arg(i, get) for i in range(len(args))) if _text(v) is not None), None)
    if lowered in ("tolower", "toupper"):
        def case(get: Getter) -> Any:
            value = _text(arg(0, get))
            return None if value is None else (value.lower() if lowered == "tolower" else value.upper())
        return case
    if lowered == "item":  # Item([multiValued], index), 1-based
        def item(get: Getter) -> Any:
            values, index = arg(0, get), _text(arg(1, get))
            if not isinstance(values, list) or not index or not index.isdigit():
                return None
            i = int(index) - 1
            return values[i] if 0 <= i < len(values) else None
        return item
    return lambda get: None


def _join(args: list, get: Getter) -> Any:
    separator = (_text(args[0](get)) or "") if args and args[0] is not None else ""  # "" is no text
    parts = [_text(a(get)) for a in args[1:] if a is not None]
    return separator.join(p for p in parts if p) or None


# --------------------------------------------------------------------------------------------- schema


def _mapping_from_json(item: dict) -> Mapping | None:
    source = item.get("source") or {}
    target = item.get("targetAttributeName")
    if not target:
        return None
    expression = source.get("expression")
    if not expression:
        kind = source.get("type")
        expression = f'"{source.get("name")}"' if kind == "Constant" else f"[{source.get('name')}]"
    return make_mapping(target, compile_expression(expression), int(item.get("matchingPriority") or 0), expression)


def object_mappings(schema: dict | None, source_object: str) -> tuple[list[Mapping], dict] | None:
    """(mappings, objectMapping JSON) for User or Group from a synchronizationSchema; None if absent/disabled."""
    for rule in (schema or {}).get("synchronizationRules") or []:
        for mapping in rule.get("objectMappings") or []:
            if str(mapping.get("sourceObjectName", "")).lower() == source_object.lower():
                if not mapping.get("enabled", True):
                    return None
                items = [_mapping_from_json(m) for m in mapping.get("attributeMappings") or []]
                return [m for m in items if m], mapping
    return None


def source_names(object_mapping: dict) -> tuple[str, ...]:
    """Every source attribute an objectMapping's expressions read ([name] in each expression)."""
    names: dict[str, None] = {"IsSoftDeleted": None}
    for item in object_mapping.get("attributeMappings") or []:
        source = item.get("source") or {}
        expression = source.get("expression") or f"[{source.get('name')}]"
        names.update(dict.fromkeys(re.findall(r"\[([^\]]+)\]", expression)))
    return tuple(names)


def rule_ids(schema: dict | None) -> list[str]:
    return [r.get("id") for r in (schema or {}).get("synchronizationRules") or [] if r.get("id")]


# --------------------------------------------------------------------------------------------- sources


def _reader(name: str) -> Callable[[dict], Any]:
    """How to read one provisioning attribute from Graph user JSON (built once per name, used 100k times)."""
    reader = _READERS.get(name)
    if reader is not None:
        return reader
    alias = USER_ALIASES.get(name, name)
    if name == "mailNickname":  # Entra derives it from the UPN when none was set
        def reader(user: dict) -> Any:
            return user.get("mailNickname") or user.get("userPrincipalName", "").split("@")[0] or None
    elif isinstance(alias, tuple):
        key, index = alias

        def reader(user: dict) -> Any:
            values = user.get(key) or []
            return values[index] if len(values) > index else None
    else:
        def reader(user: dict) -> Any:
            return user.get(alias)
    _READERS[name] = reader
    return reader


_READERS: dict[str, Callable[[dict], Any]] = {}


def user_getter(user: dict, *, soft_deleted: bool) -> Getter:
    """Values of an Entra user by provisioning attribute name; IsSoftDeleted is the service's own verdict
    (disabled, soft-deleted or out of scope)."""
    verdict = "True" if soft_deleted else "False"

    def get(name: str) -> Any:
        return verdict if name == "IsSoftDeleted" else (_READERS.get(name) or _reader(name))(user)

    return get


def source_readers(names: tuple[str, ...]) -> tuple[Callable[[dict], Any], ...]:
    return tuple(_reader(n) for n in names if n != "IsSoftDeleted")


def source_values(user: dict, readers: tuple[Callable[[dict], Any], ...]) -> list:
    """The user's value of each source the mappings read (see source_readers): what a cycle compares."""
    return [read(user) for read in readers]


def group_getter(group: dict) -> Getter:
    def get(name: str) -> Any:
        return group.get(GROUP_ALIASES.get(name, name))

    return get


# --------------------------------------------------------------------------------------------- targets


def _placer(target: str) -> Callable[[dict, Any], None]:
    """A writer of one target attribute into a resource, worked out once per mapping (cycles map 100k users)."""
    if target.lower().startswith("urn:"):
        urn, _, leaf = target.rpartition(":")

        def extension(resource: dict, value: Any) -> None:
            resource.setdefault(urn, {})[leaf] = value
            if urn not in resource["schemas"]:
                resource["schemas"].append(urn)
        return extension
    match = _FILTERED.match(target)
    if match:
        attribute, kind, sub = match.groups()

        def filtered(resource: dict, value: Any) -> None:
            entries = resource.setdefault(attribute, [])
            entry = next((e for e in entries if e.get("type") == kind), None)
            if entry is None:
                entry = {"type": kind}
                if attribute == "emails":
                    entry["primary"] = not entries  # Entra marks its (first) email primary, as AWS requires
                entries.append(entry)
            entry[sub] = value
        return filtered
    if target in _MULTI_VALUED:  # a bare multi-valued target: each value is an entry of its own
        def multi(resource: dict, value: Any) -> None:
            values = value if isinstance(value, list) else [value]
            resource.setdefault(target, []).extend({"value": v} for v in values)
        return multi
    steps = target.split(".")
    if len(steps) == 1:
        def simple(resource: dict, value: Any) -> None:
            resource[target] = value
        return simple

    def nested(resource: dict, value: Any) -> None:
        node = resource
        for step in steps[:-1]:
            node = node.setdefault(step, {})
        node[steps[-1]] = value
    return nested


def _scalar(target: str, value: Any) -> Any:
    if value is None or type(value) is str:
        return value if target != "active" else (value.lower() == "true" if value else None)
    if target == "active":
        text = _text(value)
        return None if text is None else text.lower() == "true"
    if isinstance(value, list) and target not in _MULTI_VALUED:
        return _text(value)
    if isinstance(value, bool):
        return _text(value)
    return value


def build_user(mappings: list[Mapping], get: Getter, user: dict | None = None) -> dict:
    """`user`, when given, lets plain [attribute] mappings read the JSON directly (the hot path of a cycle)."""
    resource: dict[str, Any] = {"schemas": [USER_SCHEMA]}
    for mapping in mappings:
        if mapping.target.endswith(":manager") or mapping.target == "manager":
            continue  # a reference to another provisioned user; not part of what the sandbox exports
        raw = mapping.read(user) if user is not None and mapping.read is not None else mapping.evaluate(get)
        value = _scalar(mapping.target, raw)
        if value is None or value == "" or value == []:
            continue  # Entra sends nothing for an empty source
        mapping.place(resource, value)
    return resource


def build_group(mappings: list[Mapping], get: Getter) -> dict:
    """The group resource without members (membership is exported separately, by reference)."""
    resource: dict[str, Any] = {"schemas": [GROUP_SCHEMA]}
    for mapping in mappings:
        if mapping.target == "members":
            continue
        value = _scalar(mapping.target, mapping.evaluate(get))
        if value is not None and value != "":
            mapping.place(resource, value)
    return resource


def maps_members(mappings: list[Mapping]) -> bool:
    return any(m.target == "members" for m in mappings)


def matching_target(mappings: list[Mapping], default: str) -> str:
    ranked = sorted((m for m in mappings if m.matching), key=lambda m: m.matching)
    return ranked[0].target if ranked else default


# --------------------------------------------------------------------------------------------- a job's mappings


@dataclass
class Mappings:
    user: list[Mapping]
    group: list[Mapping]
    user_match: str
    group_match: str
    members: bool
    count_keys: tuple[str, str]   # synchronizedEntryCountByType keys
    key: int = 0                  # changes when the schema does (then every object is looked at again)
    user_sources: tuple = ()      # readers of the Entra attributes the user mappings read (source_readers)
    updates: bool = True          # the User mapping's target actions include Update
    deprovisions: bool = True     # ... include Delete, and `active` is mapped: leavers are disabled
    deletes: bool = True          # ... include Delete: users gone from Entra for good are deleted


def job_mappings(schema: dict | None, external_id_source: str = "objectId",
                 extra: list[tuple[str, str]] = ()) -> Mappings:
    """The job's mappings; the AWS gallery defaults (graph/sync_shapes.py) when the job has no schema."""
    if not schema or not schema.get("synchronizationRules"):
        schema = sync_shapes.schema("default", external_id_source, list(extra))
    users = object_mappings(schema, "User")
    groups = object_mappings(schema, "Group")
    user_list, user_json = users if users else ([], {"sourceObjectName": "User", "targetObjectName": "User"})
    group_list, group_json = groups if groups else ([], {"sourceObjectName": "Group", "targetObjectName": "Group"})
    keys = tuple(f"{m.get('sourceObjectName', '').lower()} to {m.get('targetObjectName', '')}"
                 for m in (user_json, group_json))
    return Mappings(user_list, group_list, matching_target(user_list, "userName"),
                    matching_target(group_list, "displayName"), maps_members(group_list), keys,  # type: ignore
                    hash(repr(schema)), source_readers(source_names(user_json)),
                    *_user_flows(user_json, user_list))


def _user_flows(user_json: dict, user_list: list[Mapping]) -> tuple[bool, bool, bool]:
    """(updates, deprovisions, deletes) of the User object mapping: its flowTypes (all three when absent, Graph's
    default) and whether `active` is mapped at all (without it nothing tells Identity Center a user left)."""
    flows = user_json.get("flowTypes")
    names = {f.strip().lower() for f in str(flows).split(",")} if flows else {"add", "update", "delete"}
    deletes = "delete" in names
    return "update" in names, deletes and any(m.target == "active" for m in user_list), deletes
