"""Attribute-based access control across the bridge, read from a snapshot: which session tag keys reach AWS and
from where, and which keys the permission sets' policies test.

Three places name a key (docs/abac.md):
- the app's SAML claims named `https://aws.amazon.com/SAML/Attributes/AccessControl:<Key>` (entra_app_claims);
- Identity Center's "attributes for access control" (idc_abac_attributes), each a key and one source such as
  `${path:enterprise.department}`, a SCIM attribute of the user provisioning wrote;
- the permission sets' policies, in conditions on `aws:PrincipalTag/<Key>` (idc_permission_set_policies).
AWS's rule between the first two: when a key comes from both, Identity Center's value replaces the assertion's
(API_UpdateInstanceAccessControlAttributeConfiguration, configure-abac). Condition key names are compared without
regard to case, as IAM does (reference_policies_elements_condition).
"""

from __future__ import annotations

import fnmatch
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from idbridge.model import mapping
from idbridge.snapshot.store import NotCollected

CLAIM_NAMESPACE = "https://aws.amazon.com/SAML/Attributes"
CLAIM_PREFIX = "AccessControl:"
PRINCIPAL_TAG = "aws:principaltag/"

# AWS's rules for a session tag (STS API_Tag; the same pattern in sso-admin API_AccessControlAttribute):
# key 1-128, value 0-256 characters of letters, spaces, digits and _ . : / = + - @; at most 50 per session.
KEY_MAX, VALUE_MAX, TAGS_MAX = 128, 256, 50
_TAG_PUNCTUATION = frozenset("_.:/=+-@")


def tag_character(c: str) -> bool:
    """AWS's [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]: a letter, separator (space) or number, or one of _ . : / = + - @."""
    return unicodedata.category(c)[0] in "LZN" or c in _TAG_PUNCTUATION

_PATH = re.compile(r"^\$\{path:(.+)\}$")
_USER = re.compile(r"^\$\{user:(.+)\}$")
# Identity Center's ${path:...} names -> the SCIM attribute (provisioning's targetAttributeName) that fills it.
_PATH_ALIASES = {"enterprise.": mapping.ENTERPRISE + ":"}


def refused(value: str) -> str | None:
    """Why AWS would refuse this session tag value, or None."""
    if len(value) > VALUE_MAX:
        return f"{len(value)} characters (at most {VALUE_MAX})"
    bad = sorted({c for c in value if not tag_character(c)})
    if bad:
        return "characters AWS does not allow in a tag value: " + " ".join(repr(c) for c in bad)
    return None


# --------------------------------------------------------------------------------------------- claims


def claim_keys(claims_json: Any) -> dict[str, str | None]:
    """Key -> Entra source ("user.department") of every AccessControl claim in the claims policy."""
    try:
        claims = json.loads(claims_json) if isinstance(claims_json, str) else []
    except ValueError:
        claims = []
    found: dict[str, str | None] = {}
    for claim in claims or []:
        if not isinstance(claim, dict) or not str(claim.get("@odata.type", "")).endswith("customClaim"):
            continue
        name, namespace = str(claim.get("name") or ""), str(claim.get("namespace") or "").rstrip("/")
        full = f"{namespace}/{name}" if namespace else name
        if not full.lower().startswith(f"{CLAIM_NAMESPACE}/{CLAIM_PREFIX}".lower()):
            continue
        key = full[len(CLAIM_NAMESPACE) + 1 + len(CLAIM_PREFIX):]
        source = None
        for configuration in claim.get("configurations") or []:
            attribute = (configuration or {}).get("attribute") or {}
            if attribute.get("id"):
                source = f"{attribute.get('source') or 'user'}.{attribute['id']}"
                break
        found[key] = source
    return found


def entra_attribute(source: str | None, users: pd.DataFrame) -> str | None:
    """A claim's source ("user.department", "user.jobtitle") as the provisioning name mapping.values reads, when
    entra_users has that attribute; None otherwise (an extension attribute, or one not collected)."""
    if not source or not source.lower().startswith("user."):
        return None
    wanted = source.split(".", 1)[1].lower()
    names = {**{c.lower(): c for c in users.columns}, **{a.lower(): a for a in mapping.ALIASES}}
    name = names.get(wanted)
    return name if name and mapping.values(users.head(0), name) is not None else None


# --------------------------------------------------------------------------------------------- Identity Center


def scim_target(source: str) -> str | None:
    """`${path:enterprise.department}` -> the SCIM attribute provisioning must fill
    (urn:...:enterprise:2.0:User:department); None for a source that is not a ${path:} of the identity store."""
    match = _PATH.match((source or "").strip())
    if not match:
        return None
    path = match[1].strip()
    for prefix, scim in _PATH_ALIASES.items():
        if path.startswith(prefix):
            return scim + path[len(prefix):]
    return path


def is_identity_center_user(source: str) -> bool:
    """`${user:...}`: an attribute of Identity Center's own directory (no SCIM attribute behind it)."""
    return bool(_USER.match((source or "").strip()))


_PRIMARY = re.compile(r"^(\w+)\[primary eq true\](.*)$", re.IGNORECASE)


def same_target(path_target: str, mapped: str) -> bool:
    """Whether a mapping's target fills the SCIM attribute a ${path:} names. Identity Center's list has
    emails[primary eq true].value (Entra writes the one work entry, which AWS keeps as primary) and
    enterprise.manager.value (Entra's mapping targets ...:manager)."""
    a, b = path_target.lower(), mapped.lower()
    if a == b or a.removesuffix(".value") == b:
        return True
    match = _PRIMARY.match(a)
    return bool(match and b.startswith(match[1] + "[") and b.endswith(match[2]))


def mapped_source(mappings: pd.DataFrame, target: str) -> str | None:
    """The Entra attribute a SCIM target is fed from (the first attribute its expression reads), else None."""
    for _, row in mappings.iterrows():
        if same_target(target, str(row["target"])):
            names = mapping.references(str(row["expression"]))
            return names[0] if names else None
    return None


def is_mapped(mappings: pd.DataFrame, target: str) -> bool:
    return any(same_target(target, str(t)) for t in mappings["target"])


# --------------------------------------------------------------------------------------------- policies


@dataclass(frozen=True)
class TagTest:
    """One condition of one statement on aws:PrincipalTag/<key>."""

    key: str                       # as written after aws:PrincipalTag/
    operator: str                  # "StringNotEquals", "StringEqualsIfExists", ...
    effect: str                    # Allow | Deny
    sid: str
    values: tuple[str, ...] = ()
    guarded: bool = False          # the same statement requires the tag (Null: false)
    policy: str = ""               # which policy: inline, ...

    @property
    def negated(self) -> bool:
        return "Not" in self.operator.split(":")[-1]

    @property
    def condition(self) -> str:
        """The condition as written, for people: `aws:PrincipalTag/Dept StringEquals "Finance"`."""
        if self.operator.startswith("policy variable"):
            return f"{self.values[0] if self.values else ''} ({self.operator})"
        shown = ", ".join(f'"{v}"' for v in self.values)
        return f"aws:PrincipalTag/{self.key} {self.operator} {shown}"

    @property
    def if_exists(self) -> bool:
        return self.operator.endswith("IfExists")

    @property
    def fails_open(self) -> str | None:
        """Why this condition lets a session without the tag through, or None.

        IAM: a missing key makes a condition false, except negated operators (true) and ...IfExists (true);
        Null tests presence itself (reference_policies_elements_condition_operators)."""
        base = self.operator.split(":")[-1]
        if base == "Null" or self.guarded:
            return None
        if self.effect == "Allow" and self.negated:
            return f"{self.operator} is true when the tag is missing: the Allow applies to sessions without it"
        if self.effect == "Allow" and self.if_exists:
            return f"{self.operator} is true when the tag is missing: the Allow applies to sessions without it"
        if self.effect == "Deny" and not self.negated and not self.if_exists:
            return f"{self.operator} is false when the tag is missing: the Deny does not apply to sessions without it"
        return None


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def tag_tests(document: Any, policy: str = "inline") -> list[TagTest]:
    """Every aws:PrincipalTag condition in a policy document (JSON text or dict); [] when it cannot be read."""
    try:
        doc = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return []
    if not isinstance(doc, dict):
        return []
    tests: list[TagTest] = []
    for index, statement in enumerate(_listed(doc.get("Statement") or [])):
        if not isinstance(statement, dict):
            continue
        conditions = statement.get("Condition") or {}
        if not isinstance(conditions, dict):
            continue
        required = set()  # keys this statement itself requires present: "Null": {"aws:PrincipalTag/x": "false"}
        for key, value in (conditions.get("Null") or {}).items():
            if str(key).lower().startswith(PRINCIPAL_TAG) and str(_listed(value)[0]).lower() == "false":
                required.add(str(key)[len(PRINCIPAL_TAG):].lower())
        sid = str(statement.get("Sid") or f"statement {index + 1}")
        for operator, pairs in conditions.items():
            if not isinstance(pairs, dict):
                continue
            for key, value in pairs.items():
                if str(key).lower().startswith(PRINCIPAL_TAG):
                    tag = str(key)[len(PRINCIPAL_TAG):]
                    tests.append(TagTest(tag, str(operator), str(statement.get("Effect") or "Allow"), sid,
                                         tuple(str(v) for v in _listed(value)),
                                         guarded=tag.lower() in required, policy=policy))
                # A policy variable in a value tests the tag too: "${aws:PrincipalTag/team}".
                for item in _listed(value):
                    for tag in re.findall(r"\$\{aws:PrincipalTag/([^}]+)\}", str(item), re.IGNORECASE):
                        tests.append(TagTest(tag, str(operator), str(statement.get("Effect") or "Allow"), sid,
                                             (str(item),), guarded=True, policy=policy))
        for part in ("Resource", "NotResource"):
            for item in _listed(statement.get(part) or []):
                for tag in re.findall(r"\$\{aws:PrincipalTag/([^}]+)\}", str(item), re.IGNORECASE):
                    tests.append(TagTest(tag, "policy variable in " + part, str(statement.get("Effect") or "Allow"),
                                         sid, (str(item),), guarded=True, policy=policy))
    return tests


@dataclass
class PermissionSetTags:
    name: str
    arn: str
    tests: list[TagTest] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # policies whose documents the collection cannot read

    @property
    def keys(self) -> dict[str, str]:
        """Lower-cased key -> the key as written (first seen)."""
        out: dict[str, str] = {}
        for test in self.tests:
            out.setdefault(test.key.lower(), test.key)
        return out


def permission_set_tags(sets: pd.DataFrame, policies: pd.DataFrame) -> list[PermissionSetTags]:
    """Per permission set, the tag tests of its readable policies (inline documents) and the policies not read
    (managed and customer-managed documents live in IAM, outside sso-admin)."""
    names = {str(r["permissionSetArn"]): str(r["name"]) for _, r in sets.iterrows()}
    out = {arn: PermissionSetTags(name, arn) for arn, name in names.items()}
    for _, row in policies.iterrows():
        arn = str(row["permissionSetArn"])
        item = out.setdefault(arn, PermissionSetTags(arn, arn))
        document = row.get("document")
        if isinstance(document, str) and document.strip():
            item.tests += tag_tests(document, str(row["kind"]))
        else:
            label = row.get("policyArn") if isinstance(row.get("policyArn"), str) else row.get("policyName")
            item.unread.append(f"{row['kind']}: {label}")
    return sorted(out.values(), key=lambda p: p.name)


# --------------------------------------------------------------------------------------------- the snapshot


def claims_of(data) -> dict[str, str | None]:
    """Key -> Entra source of the AccessControl claims in the snapshot's claims policy."""
    rows = data.table("entra_app_claims")
    found: dict[str, str | None] = {}
    for value in rows["claims_json"] if "claims_json" in rows else []:
        found.update(claim_keys(value))
    return found


def instance_of(data) -> tuple[bool, dict[str, str]]:
    """(ABAC enabled on the instance, key -> source of its attributes for access control)."""
    status = data.table("idc_abac_status")
    configured = bool(not status.empty and status["configured"].astype("boolean").fillna(False).any())
    if configured and "status" in status:
        configured = bool(status["status"].astype("string").fillna("ENABLED").eq("ENABLED").any())
    attributes = data.table("idc_abac_attributes")
    keys = {str(r["key"]): (str(r["source"]) if isinstance(r["source"], str) else "")
            for _, r in attributes.iterrows() if isinstance(r["key"], str)}
    return configured, keys if configured else {}


def key_sources(data, users: pd.DataFrame) -> dict[str, tuple[str, str | None, str]]:
    """Lower-cased key -> (how it reaches AWS: claim | identity_center, the Entra attribute behind it (None when
    it cannot be told), the source as written), for every key that reaches a session. Identity Center's value
    replaces the claim's; without ABAC enabled nothing reaches a session."""
    enabled, instance = instance_of(data)
    if not enabled:
        return {}
    out: dict[str, tuple[str, str | None, str]] = {}
    for key, source in claims_of(data).items():
        out[key.lower()] = ("claim", entra_attribute(source, users), source or "")
    mappings = mapping.user_mappings(data.table("entra_sync_mappings"))
    for key, source in instance.items():
        target = scim_target(source)
        out[key.lower()] = ("identity_center", mapped_source(mappings, target) if target else None, source)
    return out


def user_value(user: pd.Series, attribute: str | None) -> str | None:
    """One Entra user's value of a provisioning attribute ("" and missing as None)."""
    if attribute is None:
        return None
    found = mapping.values(user.to_frame().T, attribute)
    if found is None or found.isna().all():
        return None
    value = found.iloc[0]
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None or str(value) == "" else str(value)


_LITERAL = ("StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
            "StringLike", "StringNotLike")


def holds(test: TagTest, value: str | None) -> bool | None:
    """Whether a tag condition is true for a session whose tag holds `value` (None: no tag); None when it cannot
    be told from the person alone (a policy variable compared with a resource's tags, another operator)."""
    if any("${" in v for v in test.values) or test.operator.startswith("policy variable"):
        return None if value is not None else False
    base = test.operator.split(":")[-1].removesuffix("IfExists")
    if base == "Null":
        wanted_missing = [v.lower() for v in test.values] == ["true"]
        return (value is None) == wanted_missing
    if base not in _LITERAL:
        return None
    if value is None:
        return test.negated or test.if_exists
    fold = "IgnoreCase" in base
    candidates = [v.lower() for v in test.values] if fold else list(test.values)
    subject = value.lower() if fold else value
    if "Like" in base:
        match = any(fnmatch.fnmatchcase(subject, c) for c in candidates)
    else:
        match = subject in candidates
    return not match if test.negated else match


def _verdict(effect: str, results: list[bool | None], unknown: str | None) -> tuple[str, str]:
    """(the statement's word for conditional_paths, the same for a reviewer: whether the person's tags satisfy
    its condition and what follows). unknown: why the person's tags cannot be told (the summary says it)."""
    if unknown:
        return "not known", "not known"
    if any(r is False for r in results):
        return "does not apply", f"not satisfied: the {effect} does not apply"
    if any(r is None for r in results):
        return "depends on the resource's tags", "depends on the resource's tags"
    return "applies", f"satisfied: the {effect} applies"


def conditional_paths(access: pd.DataFrame, data) -> pd.DataFrame:
    """One row per effective path whose permission set tests session tags: the keys, this person's values, and per
    statement whether the tags let it apply; `conditions` says the same for a reviewer (one line per statement:
    its condition, this person's tags, satisfied or not), `satisfied` sums it up and `rules` lists the
    statements' conditions alone (the same for everyone holding the set). `held_back`: whether the tags keep
    part of the access from this person (an Allow that does not apply, a Deny that does); None when not known.
    Only tag conditions are weighed (other conditions of a statement, and policies not read, may narrow it
    further). Raises NotCollected
    when the permission sets were not collected; when the people, the claims or the instance's ABAC configuration
    were not, the conditions are listed and whether they are satisfied is "not known", naming the source."""
    columns = ["path_id", "user_principal_name", "account_name", "permission_set_name", "tags", "satisfied",
               "conditions", "statements", "rules", "held_back"]
    tags_by_set = {p.arn: p for p in permission_set_tags(data.table("idc_permission_sets"),
                                                          data.table("idc_permission_set_policies")) if p.tests}
    if access.empty or not tags_by_set:
        return pd.DataFrame(columns=columns)
    unknown = None
    try:
        users = data.table("entra_users")
        sources = key_sources(data, users)
    except NotCollected as exc:  # the conditions are still known; the person's tags are not
        users, sources = pd.DataFrame(columns=["id"]), {}
        unknown = f"not collected: {exc.source}: {exc.why}"
    by_id = users.set_index(users["id"].astype(str), drop=False)
    rows = []
    chosen = access[access["effective"].astype(bool) & access["permission_set_arn"].isin(list(tags_by_set))]
    for _, path in chosen.iterrows():
        ps = tags_by_set[path["permission_set_arn"]]
        user = by_id.loc[str(path["entra_user_id"])] if str(path["entra_user_id"]) in by_id.index else None
        values: dict[str, str | None] = {}
        shown: dict[str, str] = {}
        for low, key in ps.keys.items():
            how, attribute, _ = sources.get(low, ("none", None, ""))
            value = user_value(user, attribute) if user is not None and how != "none" else None
            values[low] = value
            shown[low] = (f"{key}: not known" if unknown else f"{key}={value}" if value is not None else
                          f"{key}: {'not supplied' if how == 'none' else 'missing'}")
        verdicts, lines, rules, tally, held_back = [], [], [], [], False
        for sid in dict.fromkeys(t.sid for t in ps.tests):
            tests = [t for t in ps.tests if t.sid == sid]
            results = [holds(t, values.get(t.key.lower())) for t in tests]
            effect = tests[0].effect
            word, said = _verdict(effect, results, unknown)
            verdicts.append(f"{effect} {sid}: {word}")
            tally.append(word)
            if word in ("applies", "does not apply"):  # an Allow that does not apply, a Deny that does
                held_back |= (word == "applies") != (effect == "Allow")
            tags = ", ".join(shown[k] for k in dict.fromkeys(t.key.lower() for t in tests))
            rules.append(f"{effect} {sid} when {' and '.join(t.condition for t in tests)}")
            lines.append(f"{rules[-1]}: {said}" if unknown else f"{rules[-1]} — this person's {tags}: {said}")
        who = path["user_principal_name"]  # else the Identity Center user name (a person gone from Entra)
        who = who if isinstance(who, str) and who else path.get("idc_user_name")
        rows.append({"path_id": path["path_id"], "user_principal_name": who,
                     "account_name": path["account_name"], "permission_set_name": path["permission_set_name"],
                     "tags": "; ".join(shown.values()), "statements": "; ".join(verdicts),
                     "conditions": "\n".join(lines), "satisfied": _summary(tally, unknown),
                     "rules": "\n".join(rules), "held_back": None if unknown else held_back})
    return pd.DataFrame(rows, columns=columns)


def _summary(words: list[str], unknown: str | None) -> str:
    """How many of a path's tag-conditioned statements this person's tags satisfy, in words."""
    if unknown:
        return f"not known whether the tags satisfy them ({unknown})"
    total, met = len(words), words.count("applies")
    open_ = words.count("depends on the resource's tags")
    said = ("satisfies every tag condition" if met == total else
            "satisfies none of the tag conditions" if met == 0 and not open_ else
            f"satisfies {met} of {total} tag conditions")
    if open_ and met != total:
        said += f" ({open_} {'depends' if open_ == 1 else 'depend'} on the resource's tags)"
    return said


@dataclass
class ConditionalAccess:
    """The review's view of ABAC per access path (heatmap, reviewer packs): which paths depend on session tags,
    their conditions and whether the person satisfies them; `not_collected` when that cannot be told at all."""

    paths: pd.DataFrame                 # conditional_paths
    unread: dict[str, list[str]]        # permission set ARN -> its policies whose documents were not read
    tested: frozenset[str] = frozenset()  # ARNs of the permission sets whose policies test session tags
    not_collected: str = ""             # "not collected: aws.permission_sets: why"
    by_path: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_path = {str(r["path_id"]): f"yes — this person: {r['satisfied']}\n{r['conditions']}"
                        for r in self.paths.to_dict("records")} if "conditions" in self.paths else {}

    def cell(self, path_id: str, permission_set_arn: str | None = None) -> str:
        """The reviewer pack's "Conditional (ABAC)" cell of one path."""
        if self.not_collected:
            return self.not_collected
        if path_id in self.by_path:
            return self.by_path[path_id]
        if str(permission_set_arn) in self.tested:  # conditional_paths weighs effective paths only
            return "yes — not weighed: the access does not work in AWS"
        if self.unread.get(str(permission_set_arn)):
            return "none found (managed policies not read)"
        return "no"


def conditional_access(access: pd.DataFrame, data) -> ConditionalAccess:
    """conditional_paths, with what the reviewer pack needs around it; never raises NotCollected."""
    try:
        sets = permission_set_tags(data.table("idc_permission_sets"), data.table("idc_permission_set_policies"))
        paths = conditional_paths(access, data)
    except NotCollected as exc:
        return ConditionalAccess(pd.DataFrame(columns=["path_id"]), {},
                                 not_collected=f"not collected: {exc.source}: {exc.why}")
    return ConditionalAccess(paths, {p.arn: p.unread for p in sets}, frozenset(p.arn for p in sets if p.tests))
