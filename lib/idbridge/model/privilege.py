"""How much a permission set grants: one privilege level per set, with the reasons.

Levels, highest first (PRIVILEGE_RANK in access_columns.py):
    admin    can take the account over or give itself anything: AdministratorAccess, IAMFullAccess,
             AWSOrganizationsFullAccess...; `*` on `*`; IAM writes that escalate (create/attach/put policies,
             roles, users, keys) on all resources; iam:PassRole on all roles in a set that can run something to
             pass it to; sts:AssumeRole on `*`; `organizations:*`, `kms:*`, `sso:*`, `identitystore:*` on `*`
    power    PowerUserAccess / SystemAdministrator, or every action on `*` but IAM's escalating actions and
             Organizations (Allow NotAction, or Allow `*` less a Deny of them)
    write    anything else that changes resources
    billing  billing and cost management
    read     ReadOnlyAccess, ViewOnlyAccess, SecurityAudit, Get/List/Describe... only
    custom   nothing we can assess (customer managed policies: their documents live in each account)

What is evaluated in a policy document (the inline policy, a boundary whose document we hold):
- Allow statements with Action or NotAction, on the resources Resource names or NotResource leaves in. An Allow
  with a Condition still counts (a condition narrows a grant; we report the grant, "with conditions").
- Deny statements take actions out of the grant when they reliably deny: no Condition (a condition may not
  hold), and on every resource (Resource `*`; a Deny with NotResource spares what it names). Deny Action takes
  the actions it matches out; Deny NotAction leaves only what it names. A Deny that covers part of a wildcard
  (`organizations:Create*` against `organizations:*`) leaves the wildcard in. Where it cannot be sure, the
  level errs high: an over-approximation of what the set can do.
- The inline policy's Denies apply to the set's other policies too (an explicit Deny overrides every Allow):
  the admin-level AWS managed policies are then judged by what they amount to (MANAGED_DOCUMENTS).

A permissions boundary caps what a set grants: the effective level is the lower of what the policies allow and
what the boundary allows, when the boundary can be assessed (an AWS managed policy we know, or a document we
hold). A boundary that allows as much as the policies caps nothing (AdministratorAccess bounded by
AdministratorAccess is admin). A customer managed boundary cannot be read from Identity Center: it is named in the
reasons and the level is the policies'.
"""

from __future__ import annotations

import json
import re
import weakref
from fnmatch import fnmatchcase
from typing import Any

import numpy as np
import pandas as pd

from idbridge.model.access.columns import PRIVILEGE_RANK
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
# A Deny "on every resource" must match resources of every kind, not only the probe of one service.
_EVERYTHING = ("arn:aws:iam::123456789012:role/anyadministratorrole", "arn:aws:iam::123456789012:user/anyone",
               "arn:aws:s3:::any-bucket", "arn:aws:kms:eu-west-1:123456789012:key/0000",
               "arn:aws:organizations::123456789012:account/o-abc/123456789012",
               "arn:aws:sso:::permissionset/ssoins-0/ps-0", "arn:aws:ec2:eu-west-1:123456789012:instance/i-0")
# What the admin-level AWS managed policies amount to, for a set whose inline policy denies part of them (an
# explicit Deny in any of a set's policies overrides every Allow). Their other statements only add reads.
MANAGED_DOCUMENTS: dict[str, dict] = {
    "AdministratorAccess": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    "IAMFullAccess": {"Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]},
    "AWSOrganizationsFullAccess": {"Statement": [{"Effect": "Allow", "Action": "organizations:*", "Resource": "*"}]},
    "PowerUserAccess": {"Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"],
                                       "Resource": "*"}]},
}
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


def _covers(statement: dict, service: str) -> bool:
    """Whether an Allow statement applies to an arbitrary resource of `service`: Resource matches it, or
    NotResource leaves it in (an Allow with NotResource applies to everything it does not name)."""
    if "NotResource" in statement:
        probe = _PROBES.get(service, _PROBES[""]).lower()
        return not any(r == "*" or fnmatchcase(probe, r.lower()) for r in _list(statement["NotResource"]))
    return _covers_all(_list(statement.get("Resource")), service)


def _covers_everything(statement: dict) -> bool:
    """Whether a Deny statement applies to every resource: Resource `*` (or a pattern every probe matches), no
    NotResource (a Deny with NotResource spares what it names, so it does not deny reliably)."""
    if "NotResource" in statement:
        return False
    return any(r == "*" or all(fnmatchcase(p, r.lower()) for p in _EVERYTHING)
               for r in _list(statement.get("Resource")))


def _grants(patterns: list[str], action: str) -> bool:
    return any(fnmatchcase(action, p.lower()) for p in patterns)


def _wild(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def _may_overlap(a: str, b: str) -> bool:
    """Whether some action could match both patterns (True when unsure: used to keep grants, never to drop)."""
    if not _wild(a):
        return fnmatchcase(a, b)
    if not _wild(b):
        return fnmatchcase(b, a)
    service_a, service_b = a.partition(":")[0], b.partition(":")[0]
    return _wild(service_a) or _wild(service_b) or service_a == service_b


def _is_read(pattern: str) -> bool:
    name = pattern.split(":", 1)[-1].lower()
    return bool(name) and name != "*" and name.startswith(READ_PREFIXES)


class Denies:
    """The explicit Deny statements that reliably deny: no Condition, on every resource. `actions` are Deny
    Action patterns; each of `only` is a Deny NotAction list (everything outside it is denied)."""

    def __init__(self, actions: tuple[str, ...] = (), only: tuple[tuple[str, ...], ...] = (), ignored: int = 0):
        self.actions, self.only = tuple(dict.fromkeys(actions)), tuple(dict.fromkeys(only))
        self.ignored = ignored  # Deny statements left out: conditional, or not on every resource

    def __bool__(self) -> bool:
        return bool(self.actions or self.only)

    def __add__(self, other: "Denies") -> "Denies":
        return Denies(self.actions + other.actions, self.only + other.only, self.ignored + other.ignored)

    def denies(self, action: str) -> bool:
        """This action is denied on every resource."""
        return _grants(list(self.actions), action) or any(not _grants(list(keep), action) for keep in self.only)

    def denies_all_of(self, pattern: str) -> bool:
        """Every action the pattern stands for is denied (a partial Deny leaves the pattern in)."""
        return any(fnmatchcase(pattern, d) for d in self.actions) or \
            any(not any(_may_overlap(pattern, k) for k in keep) for keep in self.only)

    def named(self) -> list[str]:
        return list(self.actions) + [f"everything but {', '.join(keep)}" for keep in self.only]


def _statements(policy) -> list[dict]:
    statements = (policy.get("Statement") if isinstance(policy, dict) else None) or []
    statements = [statements] if isinstance(statements, dict) else statements
    return [s for s in statements if isinstance(s, dict)]


def denies_of(document) -> Denies:
    """The Deny statements of a policy document that count (see Denies); conditional ones are left out: a
    condition may not hold, so they do not reliably deny."""
    try:
        policy = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return Denies()
    actions: list[str] = []
    only: list[tuple[str, ...]] = []
    ignored = 0
    for statement in _statements(policy):
        if statement.get("Effect") != "Deny":
            continue
        if statement.get("Condition") or not _covers_everything(statement):
            ignored += 1
            continue
        if "NotAction" in statement:
            only.append(tuple(a.lower() for a in _list(statement["NotAction"])))
        else:
            actions += [a.lower() for a in _list(statement.get("Action"))]
    return Denies(tuple(actions), tuple(only), ignored)


def _broad(statement: dict, excluded: list[str], denies: Denies, source: str, result: dict) -> str | None:
    """An Allow of every action (`*`, or NotAction: all but `excluded`) on every resource, less the Denies. Like
    PowerUserAccess, it is power once IAM's escalation actions and Organizations are out of it, admin otherwise."""
    if denies.only:  # Deny NotAction: only what that list names is left; judge it as an Allow of those
        kept = [k for k in denies.only[0] if not any(fnmatchcase(k, e) for e in excluded)]
        narrowed = {**statement, "Action": kept}
        narrowed.pop("NotAction", None)
        return _narrow(narrowed, Denies(denies.actions, denies.only[1:]), source, result)
    if not excluded and not denies:
        result["reasons"].append(f"{source} allows * on *")
        return "admin"
    removed = excluded + list(denies.actions)
    escalation = [a for a in IAM_ESCALATION if not _grants(excluded, a) and not denies.denies(a)]
    organizations = not any(fnmatchcase("organizations:*", e) for e in excluded) and \
        not denies.denies_all_of("organizations:*")
    if excluded:
        what = f"{source}: Allow NotAction {', '.join(excluded)} on *"
        what += f", Deny {', '.join(denies.actions)}" if denies else ""
    else:
        what = f"{source} allows * on * but denies {', '.join(denies.actions)}"
    if escalation:
        result["reasons"].append(f"{what}: it leaves IAM in ({', '.join(escalation[:3])}"
                                 + (" ..." if len(escalation) > 3 else "") + ")")
        return "admin"
    if organizations:
        result["reasons"].append(f"{what}: it leaves Organizations in (organizations:*)")
        return "admin"
    result["reasons"].append(f"{what}: all but IAM and Organizations ({', '.join(removed)})")
    return "power"


def _narrow(statement: dict, denies: Denies, source: str, result: dict) -> str | None:
    """An Allow of the actions it lists (less the Denies): the admin rules one by one, else read or write."""
    originals = _list(statement.get("Action"))
    actions = [a.lower() for a in originals]
    if not actions:
        return None
    levels: list[str] = []
    conditional = " (with conditions)" if statement.get("Condition") else ""
    if any(a in ("*", "*:*") for a in actions) and _covers(statement, ""):
        return _broad(statement, [], denies, source, result)
    escalation = [a for a in IAM_ESCALATION if _grants(actions, a) and not denies.denies(a)] \
        if _covers(statement, "iam") else []
    if escalation:
        levels.append("admin")
        shown = [o for o, a in zip(originals, actions) if any(fnmatchcase(e, a) for e in escalation)]
        result["reasons"].append(f"{source} allows {', '.join(shown)} on *: can grant itself more{conditional}")
    if _grants(actions, "sts:assumerole") and not denies.denies("sts:assumerole") and _covers(statement, "sts"):
        levels.append("admin")
        result["reasons"].append(f"{source} allows sts:AssumeRole on *: any role that trusts the account"
                                 + conditional)
    wild = [w for w in SENSITIVE_WILDCARDS if any(fnmatchcase(w, a) for a in actions)
            and not denies.denies_all_of(w) and _covers(statement, w.split(":")[0])]
    if wild:
        levels.append("admin")
        result["reasons"].append(f"{source} allows " + ", ".join(wild) + " on *" + conditional)
    if _grants(actions, "iam:passrole") and not denies.denies("iam:passrole") and _covers(statement, "iam"):
        result["pass_role_all"] = True
    rest = [a for a in actions if a != "iam:passrole" and not denies.denies_all_of(a)]
    if rest:
        levels.append("read" if all(_is_read(a) for a in rest) else "write")
    return max(levels, key=_ORDER.get) if levels else None


def analyse_document(document, denies: Denies | None = None, source: str = "inline policy") -> dict:
    """What one policy document allows: {"level": str | None, "reasons": [...], "pass_role_all": bool}.
    Its own unconditional Deny statements on all resources (and `denies` from elsewhere: the set's inline policy)
    take actions out of what its Allow statements grant; Allows count with or without conditions.
    `pass_role_all` is reported apart: passing any role only escalates in a set that can run something."""
    result = {"level": None, "reasons": [], "pass_role_all": False}
    try:
        policy = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        result.update(level="custom", reasons=[f"{source}: not valid JSON"])
        return result
    own = denies_of(policy)
    denies = own + (denies or Denies())
    levels: list[str] = []
    for statement in _statements(policy):
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement:
            excluded = [a.lower() for a in _list(statement["NotAction"])]
            if not (_covers(statement, "") and _covers(statement, "iam")):
                levels.append("write")
                continue
            level = _broad(statement, excluded, denies, source, result)
        else:
            level = _narrow(statement, denies, source, result)
        if level:
            levels.append(level)
    if levels:
        result["level"] = max(levels, key=_ORDER.get)
        if own.ignored:
            result["reasons"].append(f"{source}: {own.ignored} Deny statement(s) not counted (with a condition, "
                                     "or not on every resource)")
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


def _with_pass_role(found: list[tuple[str, str]], pass_role_all: bool) -> None:
    if pass_role_all:
        # Passing any role escalates when the set can create something to pass it to (EC2, Lambda, Glue...).
        if any(PRIVILEGE_RANK[level] >= PRIVILEGE_RANK["write"] for level, _ in found):
            found.append(("admin", "iam:PassRole on *: can hand any role, an administrator's too, to a service "
                                   "it controls"))
        else:
            found.append(("write", "iam:PassRole on * (nothing to pass a role to)"))


def _analysed(analysed: dict, source: str) -> list[tuple[str, str]]:
    if not analysed["level"]:
        return []
    return [(analysed["level"], r) for r in analysed["reasons"]] or \
        [(analysed["level"], f"{source}: {analysed['level']}")]


def _boundary_level(kind: str, name: str, path: str, document: str) -> tuple[str | None, str]:
    """(level the boundary allows, or None when it cannot be assessed; what to call it)."""
    label = f"permissions boundary {path if kind == 'boundary_customer_managed' else ''}{name}"
    if document:  # a boundary whose document we hold: evaluated like an inline policy
        analysed = analyse_document(document, source=label)
        found = _analysed(analysed, label)
        _with_pass_role(found, analysed["pass_role_all"])
        if not found:
            return None, f"{label} allows nothing assessable"
        level = max((lvl for lvl, _ in found), key=_ORDER.get)
        return (None if level == "custom" else level), label
    if kind == "boundary_managed":
        level = managed_level(name)[0]
        if level == "custom":
            return None, f"{label} (AWS managed, not assessed): the level is what the policies allow"
        return level, label
    return None, (f"{label} (customer managed, not assessed): the level is what the policies allow; the "
                  "boundary may lower it")


def _set_level(rows: list[tuple]) -> tuple[str, list[str]]:
    """The level of one permission set from its policy rows (kind, name, path, document); kinds: managed,
    customer_managed, inline, boundary_managed, boundary_customer_managed. The effective level is the lower of
    what the policies allow and what the boundary allows, when the boundary can be assessed."""
    found: list[tuple[str, str]] = []
    boundary: tuple[str | None, str] | None = None
    pass_role_all = False
    # An explicit Deny in the inline policy overrides Allows in every policy of the set.
    denies = Denies()
    for kind, _, _, document in rows:
        if kind == "inline" and document:
            denies = denies + denies_of(document)
    for kind, name, path, document in rows:
        if kind == "managed":
            if denies and name in MANAGED_DOCUMENTS:
                analysed = analyse_document(MANAGED_DOCUMENTS[name], denies,
                                            source=f"{name} (with the inline policy's Deny)")
                pass_role_all = pass_role_all or analysed["pass_role_all"]
                found += _analysed(analysed, name)
            else:
                found.append(managed_level(name))
        elif kind == "customer_managed":
            found.append(("custom", f"customer managed policy {path}{name}: its document is in each account, "
                                    "not assessed"))
        elif kind == "inline" and document:
            analysed = analyse_document(document, denies)
            pass_role_all = pass_role_all or analysed["pass_role_all"]
            found += _analysed(analysed, "inline policy")
        elif kind.startswith("boundary"):
            boundary = _boundary_level(kind, name, path, document)
    _with_pass_role(found, pass_role_all)
    if not found:
        return "custom", ["no policy attached" if not rows else "its policies allow nothing assessable"]
    level = max((lvl for lvl, _ in found), key=_ORDER.get)
    # the reasons for the level, then what could not be assessed (it might grant more)
    reasons = [reason for lvl, reason in found if lvl == level] + \
        [reason for lvl, reason in found if lvl == "custom" and level != "custom"]
    if boundary is not None:
        capped, why = boundary
        if capped is None:
            reasons.append(why)
        elif level == "custom":
            reasons.append(f"{why} allows at most {capped}")
        elif _ORDER[capped] < _ORDER[level]:
            reasons = [f"{why} caps it at {capped}", *reasons]
            level = capped
        else:
            reasons.append(f"{why} allows {capped}: it caps nothing")
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
    from idbridge.snapshot.store import NotCollected

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
