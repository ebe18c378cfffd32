"""How much a permission set grants: one privilege level per set, with the reasons.

Levels, highest first (PRIVILEGE_RANK in access_columns.py):
    admin    can take the account over or give itself anything: AdministratorAccess, IAMFullAccess,
             AWSOrganizationsFullAccess...; `*` on `*`; Allow + NotAction that leaves IAM in; IAM writes that
             escalate (create/attach/put policies, roles, users, keys) on all resources; iam:PassRole on all roles
             in a set that can run something to pass it to; sts:AssumeRole on `*`; `organizations:*`, `kms:*`,
             `sso:*`, `identitystore:*` on `*`
    power    PowerUserAccess / SystemAdministrator, or Allow + NotAction that keeps IAM out
    write    anything else that changes resources
    billing  billing and cost management
    read     ReadOnlyAccess, ViewOnlyAccess, SecurityAudit, Get/List/Describe... only
    custom   nothing we can assess (customer managed policies: their documents live in each account)

A permissions boundary caps what a set grants: an AWS managed boundary we know lowers the level; a customer
managed one cannot be read from Identity Center, so it is named in the reasons and the level is left as is.
Conditions in statements are not evaluated (a condition narrows a grant; we report the grant).
"""

from __future__ import annotations

import json
import re
import weakref
from fnmatch import fnmatchcase
from typing import Any

import numpy as np
import pandas as pd

from idbridge.model.access_columns import PRIVILEGE_RANK
from idbridge.model.scope import text

# Highest first; ties in rank (billing, read) are broken by this order.
LEVELS = ("admin", "power", "write", "billing", "read", "custom")
_ORDER = {level: len(LEVELS) - i for i, level in enumerate(LEVELS)}

# AWS managed policies by name (the last part of the ARN): level and why.
MANAGED: dict[str, tuple[str, str]] = {
    "AdministratorAccess": ("admin", "AdministratorAccess: every action on every resource"),
    "IAMFullAccess": ("admin", "IAMFullAccess: can grant itself any permission"),
    "AWSOrganizationsFullAccess": ("admin", "AWSOrganizationsFullAccess: controls the organisation (accounts, SCPs)"),
    "AWSSSOMasterAccountAdministrator": ("admin", "AWSSSOMasterAccountAdministrator: can assign itself any "
                                                  "permission set"),
    "AdministratorAccess-Amplify": ("admin", "AdministratorAccess-Amplify: creates and passes IAM roles"),
    "PowerUserAccess": ("power", "PowerUserAccess: every service except IAM and Organizations"),
    "SystemAdministrator": ("power", "SystemAdministrator job function"),
    "ReadOnlyAccess": ("read", "ReadOnlyAccess"),
    "ViewOnlyAccess": ("read", "ViewOnlyAccess job function"),
    "SecurityAudit": ("read", "SecurityAudit"),
    "Billing": ("billing", "Billing job function"),
    "AWSSupportAccess": ("write", "AWSSupportAccess: opens and manages support cases"),
    "NetworkAdministrator": ("write", "NetworkAdministrator job function"),
    "DatabaseAdministrator": ("write", "DatabaseAdministrator job function"),
    "DataScientist": ("write", "DataScientist job function"),
}
READ_PREFIXES = ("get", "list", "describe", "view", "search", "lookup", "head", "batchget", "check", "query",
                 "scan", "select", "filter", "estimate", "preview", "validate")
# IAM actions that let a principal give itself more (the usual privilege-escalation paths).
IAM_ESCALATION = ("iam:createrole", "iam:attachrolepolicy", "iam:putrolepolicy", "iam:attachuserpolicy",
                  "iam:putuserpolicy", "iam:attachgrouppolicy", "iam:putgrouppolicy", "iam:createpolicyversion",
                  "iam:setdefaultpolicyversion", "iam:createaccesskey", "iam:createloginprofile",
                  "iam:updateloginprofile", "iam:addusertogroup", "iam:updateassumerolepolicy", "iam:createuser",
                  "iam:deleterolepermissionsboundary", "iam:deleteuserpermissionsboundary")
SENSITIVE_WILDCARDS = ("organizations:*", "kms:*", "sso:*", "identitystore:*")  # sts: AssumeRole above
# A resource pattern "covers everything" for an action when it matches an arbitrary resource of that service.
_PROBES = {"iam": "arn:aws:iam::123456789012:role/AnyAdministratorRole",
           "sts": "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole",
           "kms": "arn:aws:kms:eu-west-1:123456789012:key/0000", "": "arn:aws:s3:::any-bucket"}
_DURATION = re.compile(r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def session_hours(duration) -> float:
    """ISO-8601 duration (PT1H, PT12H, PT1H30M) -> hours; NaN when missing or unreadable."""
    match = _DURATION.match(str(duration or "").strip().upper())
    if not match or not any(match.groups()):
        return float("nan")
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return days * 24 + hours + minutes / 60 + seconds / 3600


def _list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _covers_all(resources: list[str], service: str) -> bool:
    probe = _PROBES.get(service, _PROBES[""])
    return any(r == "*" or fnmatchcase(probe.lower(), r.lower()) for r in resources)


def _grants(patterns: list[str], action: str) -> bool:
    return any(fnmatchcase(action, p.lower()) for p in patterns)


def _is_read(pattern: str) -> bool:
    name = pattern.split(":", 1)[-1].lower()
    return bool(name) and name != "*" and name.startswith(READ_PREFIXES)


def analyse_document(document) -> dict:
    """What one policy document allows: {"level": str | None, "reasons": [...], "pass_role_all": bool}.
    `pass_role_all` is reported apart: passing any role only escalates in a set that can run something."""
    result = {"level": None, "reasons": [], "pass_role_all": False}
    try:
        policy = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        result.update(level="custom", reasons=["inline policy: not valid JSON"])
        return result
    statements = (policy or {}).get("Statement") or []
    statements = [statements] if isinstance(statements, dict) else statements
    levels: list[str] = []
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        resources = _list(statement.get("Resource")) or (["*"] if "NotResource" in statement else [])
        if "NotAction" in statement:
            excluded = [a.lower() for a in _list(statement["NotAction"])]
            if not _covers_all(resources, ""):
                levels.append("write")
            elif _grants(excluded, "iam:createrole"):
                levels.append("power")
                result["reasons"].append("inline Allow NotAction " + ", ".join(excluded) + " on *: all but IAM")
            else:
                levels.append("admin")
                result["reasons"].append("inline Allow NotAction on * leaves IAM in")
            continue
        originals = _list(statement.get("Action"))
        actions = [a.lower() for a in originals]
        if not actions:
            continue
        if any(a in ("*", "*:*") for a in actions) and _covers_all(resources, ""):
            levels.append("admin")
            result["reasons"].append("inline policy allows * on *")
            continue
        escalation = [a for a in IAM_ESCALATION if _grants(actions, a)] if _covers_all(resources, "iam") else []
        if escalation:
            levels.append("admin")
            shown = [o for o, a in zip(originals, actions) if any(fnmatchcase(e, a) for e in escalation)]
            result["reasons"].append(f"inline policy allows {', '.join(shown)} on *: can grant itself more"
                                     + (" (with conditions)" if statement.get("Condition") else ""))
        if _grants(actions, "sts:assumerole") and _covers_all(resources, "sts"):
            levels.append("admin")
            result["reasons"].append("inline policy allows sts:AssumeRole on *: any role that trusts the account")
        wild = [w for w in SENSITIVE_WILDCARDS if any(fnmatchcase(w, a) for a in actions)]
        if wild and _covers_all(resources, wild[0].split(":")[0]):
            levels.append("admin")
            result["reasons"].append("inline policy allows " + ", ".join(wild) + " on *")
        if _grants(actions, "iam:passrole") and _covers_all(resources, "iam"):
            result["pass_role_all"] = True
        rest = [a for a in actions if a != "iam:passrole"]
        if rest:
            levels.append("read" if all(_is_read(a) for a in rest) else "write")
    if levels:
        result["level"] = max(levels, key=_ORDER.get)
    return result


def managed_level(name: str) -> tuple[str, str]:
    """Level of an AWS managed policy by its name; unknown ones by their name's convention."""
    if name in MANAGED:
        return MANAGED[name]
    lowered = name.lower()
    if "billing" in lowered or "costandusage" in lowered:
        return "billing", f"{name}: billing"
    if "readonly" in lowered:
        return "read", f"{name}: read-only"
    if lowered.endswith("fullaccess"):
        return "write", f"{name}: full access to its service"
    if "administrator" in lowered or "poweruser" in lowered:
        return "write", f"{name}: administers its service"
    return "custom", f"{name}: AWS managed policy not assessed"


def _set_level(rows: list[tuple]) -> tuple[str, list[str]]:
    """The level of one permission set from its policy rows (kind, name, path, document); kinds: managed,
    customer_managed, inline, boundary_managed, boundary_customer_managed."""
    found: list[tuple[str, str]] = []
    boundary: tuple[str | None, str] | None = None
    pass_role_all = False
    for kind, name, path, document in rows:
        if kind == "managed":
            found.append(managed_level(name))
        elif kind == "customer_managed":
            found.append(("custom", f"customer managed policy {path}{name}: its document is in each account, "
                                    "not assessed"))
        elif kind == "inline" and document:
            analysed = analyse_document(document)
            pass_role_all = pass_role_all or analysed["pass_role_all"]
            if analysed["level"]:
                found += [(analysed["level"], r) for r in analysed["reasons"]] or \
                    [(analysed["level"], f"inline policy: {analysed['level']}")]
        elif kind == "boundary_managed":
            boundary = (managed_level(name)[0], f"permissions boundary {name}")
        elif kind == "boundary_customer_managed":
            boundary = (None, f"permissions boundary {path}{name} (customer managed, not assessed) may lower it")
    if pass_role_all:
        # Passing any role escalates when the set can create something to pass it to (EC2, Lambda, Glue...).
        if any(PRIVILEGE_RANK[level] >= PRIVILEGE_RANK["write"] for level, _ in found):
            found.append(("admin", "iam:PassRole on *: can hand any role, an administrator's too, to a service "
                                   "it controls"))
        else:
            found.append(("write", "iam:PassRole on * (nothing to pass a role to)"))
    if not found:
        return "custom", ["no policy attached" if not rows else "its policies allow nothing assessable"]
    level = max((lvl for lvl, _ in found), key=_ORDER.get)
    # the reasons for the level, then what could not be assessed (it might grant more)
    reasons = [reason for lvl, reason in found if lvl == level] + \
        [reason for lvl, reason in found if lvl == "custom" and level != "custom"]
    if boundary is not None:
        capped, why = boundary
        if capped is not None and capped != "custom" and _ORDER[capped] < _ORDER[level]:
            reasons = [f"{why} caps it at {capped}", *reasons]
            level = capped
        else:
            reasons.append(why)
    return level, list(dict.fromkeys(reasons))


def _str(value) -> str:
    return value if isinstance(value, str) else ""


def classify(permission_sets: pd.DataFrame, policies: pd.DataFrame | None) -> pd.DataFrame:
    """One row per permission set: permissionSetArn, name, description, session_duration, session_hours,
    managed_policies, customer_managed_policies (lists of names), has_inline_policy, boundary, privilege,
    privilege_rank, reasons (list). `policies` None: not collected, every set is "custom"."""
    sets = pd.DataFrame({"permissionSetArn": text(permission_sets["permissionSetArn"]).to_numpy(),
                         "name": text(permission_sets["name"]).to_numpy(),
                         "description": text(permission_sets["description"]).to_numpy()
                         if "description" in permission_sets else None,
                         "session_duration": text(permission_sets["sessionDuration"]).to_numpy()})
    sets = sets.drop_duplicates("permissionSetArn").reset_index(drop=True)
    by_set: dict[str, list[tuple]] = {}
    if policies is not None:  # plain tuples: a few thousand rows, no per-set DataFrame
        for arn, kind, name, path, document in zip(text(policies["permissionSetArn"]), text(policies["kind"]),
                                                   policies["policyName"], policies["policyPath"],
                                                   policies["document"]):
            by_set.setdefault(arn, []).append((_str(kind), _str(name), _str(path) or "/", _str(document)))
    records = []
    for arn in sets["permissionSetArn"]:
        rows = by_set.get(arn, [])
        bounds = [f"{path if kind == 'boundary_customer_managed' else ''}{name}" for kind, name, path, _ in rows
                  if kind.startswith("boundary")]
        if policies is None:
            level, reasons = "custom", ["policies not collected"]
        else:
            level, reasons = _set_level(rows)
        records.append({"managed_policies": [n for k, n, _, _ in rows if k == "managed" and n],
                        "customer_managed_policies": [f"{p}{n}" for k, n, p, _ in rows if k == "customer_managed"],
                        "has_inline_policy": any(k == "inline" for k, _, _, _ in rows),
                        "boundary": bounds[0] if bounds else None, "privilege": level, "reasons": reasons})
    out = pd.concat([sets, pd.DataFrame(records, index=sets.index,
                                        columns=["managed_policies", "customer_managed_policies", "has_inline_policy",
                                                 "boundary", "privilege", "reasons"])], axis=1)
    out["session_hours"] = np.array([session_hours(d) for d in out["session_duration"]], dtype=float)
    out["has_inline_policy"] = out["has_inline_policy"].astype(bool)
    out["privilege_rank"] = out["privilege"].map(PRIVILEGE_RANK).fillna(0).astype("int8")
    return out


_CACHE: "weakref.WeakKeyDictionary[Any, pd.DataFrame]" = weakref.WeakKeyDictionary()


def permission_set_levels(data) -> pd.DataFrame:
    """classify() on a snapshot, once per data object; policies not collected -> every set "custom"."""
    from idbridge.snapshot import NotCollected

    try:
        if data in _CACHE:
            return _CACHE[data]
    except TypeError:
        pass
    try:
        policies = data.table("idc_permission_set_policies")
    except (NotCollected, KeyError):
        policies = None
    levels = classify(data.table("idc_permission_sets"), policies)
    try:
        _CACHE[data] = levels
    except TypeError:
        pass
    return levels
