"""SCIM PATCH (RFC 7644 §3.5.2) applied to a resource dict, with the paths Entra's SCIM client sends.

Paths handled: `attr`, `attr.sub`, `attr[type eq "work"].sub`, `attr[value eq "id"]`, and the enterprise
extension's `urn:…:2.0:User:department`. Pure: returns a new resource, or the Violation AWS would answer with.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from idbridge.sandbox.scim import rules
from idbridge.sandbox.scim.rules import Violation

_FILTERED = re.compile(r'^(?P<attr>[A-Za-z]+)\[(?P<key>[A-Za-z]+)\s+eq\s+"(?P<value>[^"]*)"\](?:\.(?P<sub>\w+))?$',
                       re.IGNORECASE)
_BOOLEAN_PATHS = {"active"}


def parse_path(path: str) -> tuple[list[str], tuple[str, str] | None, str | None]:
    """-> (attribute steps, list filter (key, value) or None, sub-attribute after the filter or None)."""
    if path.lower().startswith("urn:"):
        urn, _, leaf = path.rpartition(":")
        return [urn, leaf], None, None
    match = _FILTERED.match(path)
    if match:
        return [match["attr"]], (match["key"], match["value"]), match["sub"]
    return path.split("."), None, None


def operations(patch: Any) -> list[dict] | None:
    """The Operations list of a PatchOp body (AWS accepts either case of the key, its CloudTrail shows
    "operations"); None when the body is not a PatchOp."""
    if not isinstance(patch, dict):
        return None
    ops = patch.get("Operations", patch.get("operations"))
    if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
        return None
    return ops


def _coerce(path: str | None, value: Any) -> Any:
    # Entra sends booleans as "True"/"False" in PATCH values.
    if path in _BOOLEAN_PATHS and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _entry_matches(entry: Any, key: str, value: str) -> bool:
    return isinstance(entry, dict) and str(entry.get(key, "")).lower() == value.lower()


def _set(resource: dict, path: str, value: Any, op: str) -> Violation | None:
    steps, filt, sub = parse_path(path)
    if filt is None:
        node = resource
        for step in steps[:-1]:
            node = node.setdefault(step, {})
            if not isinstance(node, dict):
                return rules.unparsable(rules.INVALID_JSON)
        leaf = steps[-1]
        if isinstance(value, list) and op == "add" and isinstance(node.get(leaf), list):
            node[leaf] = node[leaf] + value  # add to a multi-valued attribute appends (RFC 7644)
        elif isinstance(value, dict) and isinstance(node.get(leaf), dict):
            node[leaf] = {**node[leaf], **value}
        else:
            node[leaf] = _coerce(path, value)
        return None
    key, wanted = filt
    entries = resource.setdefault(steps[0], [])
    if not isinstance(entries, list):
        return rules.unparsable(rules.INVALID_JSON)
    entry = next((e for e in entries if _entry_matches(e, key, wanted)), None)
    if entry is None:
        entry = {key: wanted}
        entries.append(entry)
    if sub:
        entry[sub] = value
    elif isinstance(value, dict):
        entry.update(value)
    return None


def _remove(resource: dict, path: str, value: Any) -> None:
    steps, filt, sub = parse_path(path)
    if filt is None:
        node: Any = resource
        for step in steps[:-1]:
            node = node.get(step) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return
        if isinstance(value, list) and isinstance(node.get(steps[-1]), list):
            # remove listed entries of a multi-valued attribute ("members" with a value list)
            gone = {str(v.get("value")) for v in value if isinstance(v, dict)}
            node[steps[-1]] = [e for e in node[steps[-1]] if str(e.get("value")) not in gone]
        else:
            node.pop(steps[-1], None)
        return
    key, wanted = filt
    entries = resource.get(steps[0])
    if not isinstance(entries, list):
        return
    if sub:
        for entry in entries:
            if _entry_matches(entry, key, wanted):
                entry.pop(sub, None)
    else:
        resource[steps[0]] = [e for e in entries if not _entry_matches(e, key, wanted)]


def apply_patch(resource: dict, patch: Any) -> tuple[dict | None, Violation | None]:
    ops = operations(patch)
    if ops is None:
        return None, rules.unparsable(rules.INVALID_JSON)
    out = copy.deepcopy(resource)
    for op in ops:
        name = str(op.get("op", "")).lower()
        path = op.get("path")
        value = op.get("value")
        if name == "remove":
            if not path:
                return None, rules.unparsable(rules.MISSING_PATH)
            _remove(out, path, value)
        elif name in ("add", "replace"):
            if path:
                problem = _set(out, path, value, name)
                if problem:
                    return None, problem
            elif isinstance(value, dict):
                for key, item in value.items():
                    problem = _set(out, key, item, name)
                    if problem:
                        return None, problem
            else:
                return None, rules.unparsable(rules.INVALID_JSON)
        else:
            return None, rules.unparsable(rules.INVALID_JSON)
    return out, None
