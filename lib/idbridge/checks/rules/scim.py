"""SCIM pitfalls, predicted from Entra data before Identity Center refuses anything.

Each check applies one of the rules AWS's SCIM implementation enforces (CreateUser constraints, shared reference
§1c; the sandbox's scim_rules.py mirrors them) to what the job's attribute mappings would send for the users in
scope of provisioning: required attributes, one value per multi-valued attribute, no forbidden character, unique
userName / email / externalId. Plus the two Entra-side traps: nested groups and guests' NameID.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

import pandas as pd

from idbridge.checks.base import Hit, check
from idbridge.checks.common import plain as _clean
from idbridge.checks.controls import iso, nist
from idbridge.model import mapping
from idbridge.model.origin import origins
from idbridge.model.provisioning_errors import character_words
from idbridge.model.scope import ENTRA_TABLES, Bridge, among, bridge, explode_ids, folded, text
from idbridge.snapshot.store import NotCollected

AWS_CREATE_USER = "https://docs.aws.amazon.com/singlesignon/latest/developerguide/createuser.html"
AWS_ENTRA = "https://docs.aws.amazon.com/singlesignon/latest/userguide/idp-microsoft-entra.html"
AWS_TROUBLESHOOT = "https://docs.aws.amazon.com/singlesignon/latest/userguide/troubleshooting.html"
AWS_CONSIDER = ("https://docs.aws.amazon.com/singlesignon/latest/userguide/"
                "manage-your-identity-source-considerations.html")
MS_TUTORIAL = "https://learn.microsoft.com/en-us/entra/identity/saas-apps/aws-single-sign-on-provisioning-tutorial"
MS_HOW = "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/how-provisioning-works"

REQUIRED_TARGETS = ("userName", "displayName", "name.givenName", "name.familyName")  # AWS CreateUser
FORBIDDEN = "\t\n\r\"<>|;:%"  # Microsoft's AWS tutorial: tab, LF, CR and " < > | ; : %
_FORBIDDEN = re.compile("[" + re.escape(FORBIDDEN) + "]")
UNIQUE_TARGETS = (("userName", "userName"), ("email", 'emails[type eq "work"].value'), ("externalId", "externalId"))
_SHOWN = {"\t": "tab", "\n": "line feed", "\r": "carriage return"}


def _users(model: Bridge) -> pd.DataFrame:
    """The Entra users SCIM would send (in scope, and active or already provisioned), indexed by id."""
    users = model.users.set_index(text(model.users["id"]).to_numpy())
    return users.loc[among(users.index, model.expected_users())]


def _subject(users: pd.DataFrame, entra_id: str) -> str:
    return f"user:{users.at[entra_id, 'userPrincipalName']}"


def _groups(model: Bridge) -> pd.DataFrame:
    """The Entra groups SCIM would send (assigned, or every group under "sync all"), indexed by id."""
    groups = model.groups.set_index(text(model.groups["id"]).to_numpy())
    return groups.loc[among(groups.index, model.scope.groups)]


def _group_mappings(data) -> pd.DataFrame:
    return mapping.group_mappings(data.table("entra_sync_mappings"))


def _group_text_sources(data, groups: pd.DataFrame) -> dict[str, list[str]]:
    """Entra group attribute -> the text SCIM attributes it feeds (collected attributes only)."""
    sources: dict[str, list[str]] = {}
    for target, expression in _group_mappings(data)[["target", "expression"]].itertuples(index=False):
        if target in mapping.NOT_TEXT_TARGETS:
            continue
        for source in mapping.references(expression):
            if source in groups.columns:
                sources.setdefault(source, []).append(target)
    return sources


# --------------------------------------------------------------------------------------------- scope traps


@check(id="scim.nested_group_only", title="Reaches the app only through a nested group",
       passed="No enabled Entra user is left out of provisioning because they belong to assigned groups only through "
              "nested groups.",
       severity="medium", area="scim", subject_kind="user",
       controls=nist("AC-2", "AC-2(1)") + iso("5.16", "5.18"),
       meaning="This user is a member of an assigned group only through a group nested in it. Entra provisions "
               "the direct members of assigned groups only and Identity Center has no nested groups: the user is "
               "never provisioned, and Entra refuses their sign-in to the app (AADSTS50105).",
       fix="Make the user a direct member of the assigned group (or assign the nested group to the app itself); "
           "dynamic groups are another way to flatten membership.",
       references=(MS_TUTORIAL, AWS_ENTRA, MS_HOW), tables=ENTRA_TABLES)
def nested_group_only(data, settings) -> Iterator[Hit]:
    model = bridge(data, need_idc=False)
    nested = model.scope.nested_only
    if nested.empty:
        return
    users = model.users.set_index(text(model.users["id"]).to_numpy())
    enabled = users["accountEnabled"].astype("boolean").fillna(True)
    nested = nested[among(nested["memberId"], users.index[enabled.to_numpy()])]  # a disabled user needs nothing
    names = model.group_names()
    members = data.table("entra_group_members")
    inner = members[folded(members["memberType"]).eq("group").fillna(False)
                    & folded(members["relation"]).eq("direct").fillna(False)]
    inner_of = inner.groupby(text(inner["groupId"]))["memberId"].agg(
        lambda s: sorted(str(names.get(g, g)) for g in s))
    for member, rows in sorted(nested.groupby("memberId"), key=lambda kv: str(users.at[kv[0], "userPrincipalName"])):
        outer = sorted(str(names.get(g, g)) for g in rows["groupId"])
        nested_groups = sorted({g for o in rows["groupId"] for g in inner_of.get(o, [])})
        yield Hit(_subject(users, member), {"assignedGroups": outer, "nestedGroupsInThem": nested_groups},
                  detail="transitive member of " + ", ".join(outer) + " only")


@check(id="scim.guest_name_id", title="Guest with access and no guest NameID rule",
       passed="The claims policy has a guest NameID rule or takes NameID from user.mail, or no guest (userType Guest "
              "or #EXT# UPN) is assigned to the AWS app or a direct member of an assigned group.",
       severity="medium", area="scim", subject_kind="user",
       controls=nist("IA-2", "IA-8") + iso("5.16", "8.5"),
       meaning="B2B guests have a UPN like name_partner.com#EXT#@tenant.onmicrosoft.com. AWS's Entra guide has "
               "the NameID claim take user.mail for external guests (a claim condition), user.userprincipalname "
               "for members; without that condition this guest's NameID is the #EXT# UPN and AWS sign-in fails.",
       fix="Single sign-on › Attributes & Claims › Unique User Identifier (Name ID) › Claim conditions: members → "
           "user.userprincipalname, external guests → user.mail; make sure SCIM's userName for guests matches.",
       references=(AWS_ENTRA,), tables=ENTRA_TABLES + ("entra_app_claims",))
def guest_name_id(data, settings) -> Iterator[Hit]:
    claims = data.table("entra_app_claims")
    if claims.empty:
        # Nothing to judge guests' NameID by: not a pass (saml.name_id_format is not checked for the same reason).
        raise NotCollected("entra.app", "the app has no claims policy to read: check the guest NameID claim "
                                        "condition by hand")
    row = claims.iloc[0]
    guest_source, source = _clean(row.get("guestNameIdSource")), _clean(row.get("nameIdSource"))
    if guest_source or str(source or "").lower() == "user.mail":
        return
    model = bridge(data, need_idc=False)
    users = model.users.set_index(text(model.users["id"]).to_numpy())
    users = users.loc[among(users.index, model.scope.reachable)]
    guest = folded(users["userType"]).eq("guest").fillna(False) | \
        text(users["userPrincipalName"]).str.contains("#EXT#", case=False, regex=False).fillna(False)
    for entra_id, user in users[guest.to_numpy()].sort_values("userPrincipalName").iterrows():
        yield Hit(_subject(users, entra_id), {"userType": _clean(user.get("userType")),
                                              "mail": _clean(user.get("mail")), "nameIdSource": source,
                                              "guestNameIdSource": None},
                  detail=f"NameID would be the guest UPN, not {user.get('mail')}")


# --------------------------------------------------------------------------------------------- attribute rules


@check(id="scim.missing_required_attribute", title="Required attribute missing for SCIM",
       passed="Every user SCIM would send (in scope, and enabled or already provisioned) gets a value for userName, "
              "displayName, name.givenName and name.familyName from the job's attribute mappings.",
       severity="medium", area="scim", subject_kind="user",
       controls=nist("AC-2(1)") + iso("5.16"),
       meaning="Identity Center requires given name, family name, user name and display name; Entra sends nothing "
               "for an empty attribute, so this user is refused (\"Value at 'name.givenName' failed to satisfy "
               "constraint: Member must have length greater than or equal to 1\") and is not provisioned.",
       fix="Fill in the missing attributes in Entra (service accounts too, or take them out of scope), then "
           "provision the user on demand.",
       references=(AWS_CREATE_USER, AWS_ENTRA, MS_TUTORIAL), tables=ENTRA_TABLES)
def missing_required_attribute(data, settings) -> Iterator[Hit]:
    model = bridge(data, need_idc=False)
    users = _users(model)
    missing: dict[str, list[str]] = {}
    for target in REQUIRED_TARGETS:
        expressions = mapping.expressions_for(model.user_mappings, target)
        sent = pd.Series(False, index=users.index)
        for expression in expressions:
            sent |= mapping.sent(users, expression)
        label = f"{target} ({', '.join(expressions) or 'not mapped'})"
        for entra_id in users.index[~sent.to_numpy()]:
            missing.setdefault(entra_id, []).append(label)
    for entra_id in sorted(missing, key=lambda i: str(users.at[i, "userPrincipalName"])):
        yield Hit(_subject(users, entra_id), {"missing": missing[entra_id]},
                  detail="no value for " + ", ".join(m.split(" ")[0] for m in missing[entra_id]))


@check(id="scim.multi_valued_attribute", title="Several values for a single-valued SCIM attribute",
       passed="No user SCIM would send gets more than one entry in emails, phoneNumbers, addresses or roles from the "
              "job's attribute mappings.",
       severity="medium", area="scim", subject_kind="user",
       controls=nist("AC-2(1)") + iso("5.16"),
       meaning="Identity Center accepts one entry per emails, phoneNumbers, addresses and roles. With two mappings "
               "into the same attribute (e.g. business phone and mobile both to phoneNumbers) a user who has both "
               "values is refused (\"List attribute phoneNumbers exceeds allowed limit of 1\"; Entra shows "
               "\"Request is unparsable...\").",
       fix="Keep one mapping per multi-valued attribute in the app's attribute mappings (delete the mobile or fax "
           "mapping), or clear the second value for these users; then provision them on demand.",
       references=(AWS_CREATE_USER, MS_TUTORIAL), tables=ENTRA_TABLES)
def multi_valued_attribute(data, settings) -> Iterator[Hit]:
    model = bridge(data, need_idc=False)
    users = _users(model)
    entries: dict[str, dict[str, list[str]]] = {}
    for target, expression in model.user_mappings[["target", "expression"]].itertuples(index=False):
        entry = mapping.entry_of(target)
        if entry:
            entries.setdefault(entry[0], {}).setdefault(entry[1], []).append(expression)
    found: dict[str, dict] = {}
    for attribute, keys in entries.items():
        if sum(len(v) for v in keys.values()) < 2 and "*" not in keys:
            continue  # a single mapping can only make one entry
        total = pd.Series(0, index=users.index)
        for key, expressions in keys.items():
            if key == "*":  # a bare target: every value is an entry of its own
                for expression in expressions:
                    source = mapping.plain_source(expression)
                    total += mapping.count(mapping.values(users, source), users.index) if source \
                        else mapping.sent(users, expression).astype(int)
            else:
                sent = pd.Series(False, index=users.index)
                for expression in expressions:
                    sent |= mapping.sent(users, expression)
                total += sent.astype(int)
        for entra_id in users.index[(total > 1).to_numpy()]:
            found.setdefault(entra_id, {})[attribute] = {
                "entries": int(total[entra_id]),
                "mappings": {k: [f"{e} = {_clean(_value(users, entra_id, e))}" for e in v] for k, v in keys.items()}}
    for entra_id in sorted(found, key=lambda i: str(users.at[i, "userPrincipalName"])):
        yield Hit(_subject(users, entra_id), found[entra_id],
                  detail="; ".join(f"{a}: {v['entries']} values" for a, v in found[entra_id].items()))


def _value(users: pd.DataFrame, entra_id: str, expression: str) -> Any:
    """The user's value(s) behind an expression, for evidence."""
    names = mapping.references(expression)
    values = [mapping.values(users.loc[[entra_id]], n) for n in names]
    found = [_clean(v.iloc[0]) for v in values if v is not None and _clean(v.iloc[0]) is not None]
    return found[0] if len(found) == 1 else (found or None)


@check(id="scim.forbidden_characters", title="Mapped attribute holds a character Identity Center refuses",
       passed="No collected Entra attribute that the job maps to a text SCIM attribute holds a tab, line break or \" "
              "< > | ; : % for a user or group SCIM would send (mapped attributes that were not collected were not "
              "read).",
       severity="medium", area="scim", subject_kind="user",
       controls=nist("AC-2(1)") + iso("5.16"),
       meaning="Identity Center refuses tab, line breaks and the characters \" < > | ; : % in the attributes SCIM "
               "sends (\"failed to satisfy constraint: Member must satisfy regular expression pattern\"): this user "
               "is not provisioned, or no longer updated; such a group silently never appears in AWS, and neither "
               "does any account assignment meant for it.",
       fix="Remove the character from the attribute in Entra (e.g. quotes around a nickname in the display name, "
           "a colon in an address or a group name), or stop mapping that attribute; then provision the user or "
           "group on demand.",
       references=(MS_TUTORIAL, AWS_CREATE_USER), tables=ENTRA_TABLES)
def forbidden_characters(data, settings) -> Iterator[Hit]:
    model = bridge(data, need_idc=False)
    users = _users(model)
    targets: dict[str, list[str]] = {}
    for target, expression in model.user_mappings[["target", "expression"]].itertuples(index=False):
        if target in mapping.NOT_TEXT_TARGETS or target.lower().endswith("manager"):
            continue  # never validated as text (externalId, active, members; manager is a reference)
        for source in mapping.references(expression):
            targets.setdefault(source, []).append(target)
    found: dict[str, list[dict]] = {}
    for source, written_to in targets.items():
        values = mapping.values(users, source)
        if values is None:
            continue  # not collected (e.g. state, postalCode): cannot be judged
        flat = values.map(lambda v: "\x00".join(v) if isinstance(v, list) else v) if values.dtype == object \
            else values  # list attributes: every item counts
        hits = flat.astype("string").str.contains(_FORBIDDEN, regex=True).fillna(False)
        for entra_id in users.index[hits.to_numpy()]:
            value = flat[entra_id]
            characters = sorted({_SHOWN.get(c, c) for c in _FORBIDDEN.findall(value)})
            found.setdefault(entra_id, []).append({"attribute": source, "scimTargets": sorted(set(written_to)),
                                                   "value": value.replace("\x00", ", "),
                                                   "characters": characters})
    for entra_id in sorted(found, key=lambda i: str(users.at[i, "userPrincipalName"])):
        yield Hit(_subject(users, entra_id), {"attributes": found[entra_id]},
                  detail="; ".join(f"{a['attribute']} contains {character_words(a['characters'])}"
                                 for a in found[entra_id]))
    yield from _group_forbidden_characters(data, model)


def _group_forbidden_characters(data, model: Bridge) -> Iterator[Hit]:
    """The same rule for the groups SCIM sends: Identity Center refuses the group, which then never appears in
    AWS with any of its account assignments."""
    groups = _groups(model)
    found: dict[str, list[dict]] = {}
    for source, written_to in _group_text_sources(data, groups).items():
        values = groups[source].astype("string")
        for entra_id in groups.index[values.str.contains(_FORBIDDEN, regex=True).fillna(False).to_numpy()]:
            value = str(values[entra_id])
            found.setdefault(entra_id, []).append({
                "attribute": source, "scimTargets": sorted(set(written_to)), "value": value,
                "characters": sorted({_SHOWN.get(c, c) for c in _FORBIDDEN.findall(value)})})
    for entra_id in sorted(found, key=lambda i: (str(groups.at[i, "displayName"]), i)):
        yield Hit(f"group:{groups.at[entra_id, 'displayName']}", {"groupId": entra_id, "attributes": found[entra_id]},
                  detail="; ".join(f"{a['attribute']} contains {character_words(a['characters'])}"
                                   for a in found[entra_id]))


# --------------------------------------------------------------------------------------------- uniqueness


def _entra_values(model: Bridge, users: pd.DataFrame) -> pd.DataFrame:
    """(entraId, attribute, value) of what SCIM would send for the unique attributes, case-folded."""
    rows = []
    for attribute, target in UNIQUE_TARGETS:
        source = mapping.single_source(model.user_mappings, target)
        values = mapping.values(users, source) if source else None
        if values is None:
            continue
        values = mapping.scalar(values)
        rows.append(pd.DataFrame({"entraId": users.index, "attribute": attribute,
                                  "value": values.str.strip().str.lower().to_numpy(),
                                  "shown": values.to_numpy()}))
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["entraId", "attribute", "value", "shown"])
    return frame.dropna(subset=["value"])


def _idc_values(model: Bridge) -> pd.DataFrame:
    idc = model.idc_users
    if idc.empty:
        return pd.DataFrame(columns=["idcUserId", "attribute", "value"])
    ids = text(idc["userId"]).to_numpy()
    external = explode_ids(idc, "userId", "externalIds")
    frame = pd.concat([
        pd.DataFrame({"idcUserId": ids, "attribute": "userName", "value": folded(idc["userName"]).to_numpy()}),
        pd.DataFrame({"idcUserId": ids, "attribute": "email",
                      "value": folded(idc["email"]).to_numpy() if "email" in idc else None}),
        pd.DataFrame({"idcUserId": external["userId"], "attribute": "externalId",
                      "value": folded(external["externalId"])}),
    ], ignore_index=True)
    return frame.dropna(subset=["value"])


@check(id="scim.duplicate_value", title="userName, email, externalId or group name shared with another",
       passed="No two users SCIM would send share a userName, email or externalId (ignoring case), no other "
              "Identity Center user already holds one of their values, and no two groups SCIM would send share a "
              "displayName (values mapped from a single collected attribute; Identity Center compared only when "
              "collected).",
       severity="medium", area="scim", subject_kind="user",
       controls=nist("AC-2(1)", "IA-4") + iso("5.16"),
       meaning="Identity Center keeps userName, primary email and externalId unique. Of two users SCIM sends with "
               "the same value, the second is refused (\"Refused to create a new, duplicate resource\", CloudTrail "
               "\"Duplicate Email\"); the same happens when an Identity Center user that is not this person (made by "
               "hand, or left behind by a deleted user) already holds the value. Every user involved is listed. Entra "
               "also allows two groups with one displayName; Identity Center refuses the second (\"Duplicate "
               "GroupDisplayName\"), which silently never appears in AWS with the assignments it should carry.",
       fix="Give each user their own value in Entra (an admin account needs its own mailbox address or no mail), "
           "or remove the stale Identity Center user; rename one of two groups that share a name; then provision "
           "on demand.",
       references=(AWS_CONSIDER, AWS_TROUBLESHOOT), tables=ENTRA_TABLES)
def duplicate_value(data, settings) -> Iterator[Hit]:
    model = bridge(data, need_idc=False)
    users = _users(model)
    values = _entra_values(model, users)
    found: dict[str, list[dict]] = {}
    shared = values[values.duplicated(subset=["attribute", "value"], keep=False)]
    for (attribute, _), rows in shared.groupby(["attribute", "value"], sort=False):
        holders = [str(users.at[i, "userPrincipalName"]) for i in rows["entraId"]]
        for entra_id, shown in zip(rows["entraId"], rows["shown"]):
            others = [h for h in holders if h != users.at[entra_id, "userPrincipalName"]]
            found.setdefault(f"user:{users.at[entra_id, 'userPrincipalName']}", []).append(
                {"attribute": attribute, "value": shown, "sharedWith": sorted(others), "where": "Entra"})
    # Against Identity Center: a holder of the value that is not this user's own Identity Center copy.
    idc = _idc_values(model)
    clash = values.merge(idc, on=["attribute", "value"])
    own = model.user_match.set_index("entraId")["idcUserId"]
    clash = clash[clash["idcUserId"].ne(clash["entraId"].map(own)).fillna(True).to_numpy()]
    # An Identity Center copy of another in-scope user who still has the value in Entra: already listed above.
    holder = clash["idcUserId"].map(model.user_match.set_index("idcUserId")["entraId"])
    listed = pd.MultiIndex.from_frame(values[["entraId", "attribute", "value"]])
    seen = pd.MultiIndex.from_arrays([holder, clash["attribute"], clash["value"]]).isin(listed)
    clash = clash[~seen]
    if not clash.empty:
        idc_users = model.idc_users.set_index(text(model.idc_users["userId"]).to_numpy())
        entra_of = model.user_match.set_index("idcUserId")["entraId"]
        in_scope = set(users.index)
        for row in clash.itertuples(index=False):
            other = str(idc_users.at[row.idcUserId, "userName"])
            found.setdefault(_subject(users, row.entraId), []).append(
                {"attribute": row.attribute, "value": row.shown, "sharedWith": [other], "where": "Identity Center"})
            matched = entra_of.get(row.idcUserId)
            if matched is None or matched not in in_scope:  # not someone Entra sends: list it as a subject too
                found.setdefault(f"user:{other}", []).append(
                    {"attribute": row.attribute, "value": row.shown,
                     "sharedWith": [str(users.at[row.entraId, "userPrincipalName"])], "where": "Identity Center",
                     **origins(data).explain("user", row.idcUserId)})
    for subject in sorted(found):
        items = list({(i["attribute"], i["where"], tuple(i["sharedWith"])): i for i in found[subject]}.values())
        yield Hit(subject, {"shared": items},
                  detail="; ".join(f"{i['attribute']} {i['value']} also on {', '.join(i['sharedWith'])}"
                                   for i in items))
    yield from _duplicate_group_names(data, model)


def _duplicate_group_names(data, model: Bridge) -> Iterator[Hit]:
    """Groups SCIM sends with the same displayName (Entra allows it; Identity Center keeps group names unique and
    refuses the second, "Duplicate GroupDisplayName"). Compared exactly: AWS documents no case folding for group
    names. One finding per name, listing every Entra group that carries it."""
    groups = _groups(model)
    source = mapping.single_source(_group_mappings(data), "displayName")
    if source is None or source not in groups.columns:
        return
    names = groups[source].astype("string").str.strip()
    shared = names[names.duplicated(keep=False).fillna(False) & names.notna()]
    for name, ids in sorted(shared.groupby(shared).groups.items(), key=lambda kv: str(kv[0])):
        yield Hit(f"group:{name}", {"attribute": "displayName", "value": str(name),
                                    "groupIds": sorted(str(i) for i in ids), "where": "Entra"},
                  detail=f"{len(ids)} assigned Entra groups are named {name}")
