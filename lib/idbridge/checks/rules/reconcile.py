"""Reconciliation Entra ↔ Identity Center: what provisioning should have made of the scope, against what Identity
Center holds. The scope and the pairing of principals come from idbridge.model.scope (see its docstring)."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pandas as pd

from idbridge.checks.base import Hit, check
from idbridge.checks.common import plain as _clean
from idbridge.checks.controls import cis_aws, iso, nist
from idbridge.model import mapping
from idbridge.model.scope import ENTRA_TABLES, IDC_TABLES, Bridge, among, bridge, created_by_scim, flag, text
from idbridge.snapshot.store import NotCollected

BOTH = ENTRA_TABLES + IDC_TABLES
AWS_TROUBLESHOOT = "https://docs.aws.amazon.com/singlesignon/latest/userguide/troubleshooting.html"
AWS_CONSIDER = ("https://docs.aws.amazon.com/singlesignon/latest/userguide/"
                "manage-your-identity-source-considerations.html")
AWS_ENTRA = "https://docs.aws.amazon.com/singlesignon/latest/userguide/idp-microsoft-entra.html"
AWS_PROVISION = "https://docs.aws.amazon.com/singlesignon/latest/userguide/provision-automatically.html"
MS_TUTORIAL = "https://learn.microsoft.com/en-us/entra/identity/saas-apps/aws-single-sign-on-provisioning-tutorial"
MS_HOW = "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/how-provisioning-works"
MS_KNOWN = "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/known-issues"


def _by_id(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return frame.set_index(text(frame[key]).to_numpy())


def _reached_through(model: Bridge, ids: pd.Index) -> dict[str, list[str]]:
    """How each of these Entra users is in scope: assigned to the app, and/or direct member of assigned groups."""
    names = model.group_names()
    members = model.scope.direct_members
    members = members[among(members["memberId"], ids)]
    reached: dict[str, list[str]] = {i: ["assigned to the app"] for i in model.scope.assigned_users.intersection(ids)}
    for member, group in zip(members["memberId"], members["groupId"].map(names)):
        reached.setdefault(member, []).append(f"direct member of {group}")
    return reached


def _in_scope_pairs(model: Bridge) -> pd.DataFrame:
    pairs = model.user_match[among(model.user_match["entraId"], model.scope.users)]
    users = _by_id(model.users, "id")
    idc = _by_id(model.idc_users, "userId")
    return pd.concat([pairs.reset_index(drop=True),
                      users.loc[pairs["entraId"]].reset_index(drop=True).add_prefix("entra."),
                      idc.loc[pairs["idcUserId"]].reset_index(drop=True).add_prefix("idc.")], axis=1)


# --------------------------------------------------------------------------------------------- presence


@check(id="reconcile.missing_in_idc", title="In scope in Entra, absent from Identity Center",
       passed="Every Entra user and group in provisioning scope has a matching user or group in Identity Center "
              "(in-scope users who are disabled and were never provisioned are not expected there).",
       severity="medium", area="reconcile", subject_kind="user / group",
       controls=nist("AC-2(1)") + iso("5.16"),
       meaning="Entra should have provisioned this user or group (assigned to the app, or a direct member of an "
               "assigned group) but Identity Center does not have it: the person cannot sign in to AWS (the SAML "
               "NameID matches no user) and gets none of the group's access. Usual causes: added after the last "
               "cycle, or refused by SCIM (see provisioning.errors and scim.*). A disabled user that was never "
               "provisioned is not expected there and is not reported.",
       fix="Look up the object in the provisioning log; fix what SCIM refused, or provision it on demand "
           "(Provisioning › Provision on demand) rather than wait for the next cycle.",
       references=(MS_HOW, AWS_TROUBLESHOOT), tables=BOTH)
def missing_in_idc(data, settings) -> Iterator[Hit]:
    model = bridge(data)
    missing = model.expected_users().difference(pd.Index(model.user_match["entraId"], dtype=object))
    if len(missing):
        users = _by_id(model.users, "id").loc[missing]
        through = _reached_through(model, missing)
        for entra_id, user in users.sort_values("userPrincipalName").iterrows():
            reached = through.get(entra_id) or (["sync all users and groups"] if model.scope.sync_all else [])
            yield Hit(f"user:{user['userPrincipalName']}",
                      {"entraId": entra_id, "displayName": _clean(user.get("displayName")),
                       "inScopeThrough": reached, "created": _clean(user.get("createdDateTime"))},
                      detail="in scope: " + ", ".join(reached))
    groups = model.scope.groups.difference(pd.Index(model.group_match["entraGroupId"], dtype=object))
    names = model.group_names()
    for group_id in sorted(groups, key=lambda g: str(names.get(g, g))):
        assigned = group_id in model.scope.assigned_groups
        yield Hit(f"group:{names.get(group_id, group_id)}", {"entraGroupId": group_id, "assigned": assigned},
                  detail="assigned to the app" if assigned else "in scope (sync all)")


@check(id="reconcile.extra_in_idc", title="In Identity Center, not in scope in Entra",
       passed="Every Identity Center user and group matches an Entra user or group in provisioning scope, apart from "
              "disabled users that match an Entra user (Entra's way of deprovisioning).",
       severity="medium", area="reconcile", subject_kind="user / group",
       controls=nist("AC-2", "AC-2(3)") + iso("5.16", "5.18"),
       meaning="Identity Center holds a user or group that Entra does not provision (any more): deleted in Entra "
               "after the last cycle, taken out of scope and still enabled, or created by hand. Its access in AWS "
               "is no longer governed by Entra: nobody's leaver process removes it. A user Entra disabled when it "
               "left scope (Entra's way of deprovisioning) is not reported.",
       fix="If the person or group should keep AWS access, put it in scope in Entra (assign it to the app); "
           "otherwise remove its account assignments and delete it in Identity Center.",
       references=(AWS_CONSIDER, MS_HOW), tables=BOTH)
def extra_in_idc(data, settings) -> Iterator[Hit]:
    model = bridge(data)
    in_scope = model.user_match[among(model.user_match["entraId"], model.scope.users)]
    idc = model.idc_users[~among(model.idc_users["userId"], in_scope["idcUserId"])]
    # Entra deprovisions a user who leaves scope by disabling it (active=false): that copy is Entra's doing.
    deprovisioned = among(idc["userId"], model.user_match["idcUserId"]) & \
        flag(text(idc["userStatus"]).str.upper().eq("DISABLED"))
    idc = idc[~deprovisioned]
    upn = model.upn()
    matched = model.user_match.set_index("idcUserId")["entraId"]
    idc = idc.assign(_scim=created_by_scim(idc["createdBy"]).to_numpy())
    for _, user in idc.sort_values("userName").iterrows():
        entra = matched.get(str(user["userId"]))
        why = (f"Entra user {upn.get(entra)} is not in scope of provisioning" if entra is not None
               else "no Entra user has its externalId or user name (deleted in Entra, or created by hand)")
        yield Hit(f"user:{user['userName']}", {"idcUserId": user["userId"], "createdBy": _clean(user["createdBy"]),
                                              "userStatus": _clean(user.get("userStatus")),
                                              "createdBySCIM": bool(user["_scim"]), "reason": why}, detail=why)
    in_scope_groups = model.group_match[among(model.group_match["entraGroupId"], model.scope.groups)]
    groups = model.idc_groups[~among(model.idc_groups["groupId"], in_scope_groups["idcGroupId"])]
    matched_groups = model.group_match.set_index("idcGroupId")["entraGroupId"]
    names = model.group_names()
    for _, group in groups.sort_values("displayName").iterrows():
        entra = matched_groups.get(str(group["groupId"]))
        why = (f"Entra group {names.get(entra)} is not assigned to the app" if entra is not None
               else "no Entra group has its externalId or name (deleted in Entra, or created by hand)")
        yield Hit(f"group:{group['displayName']}", {"idcGroupId": group["groupId"],
                                                    "createdBy": _clean(group["createdBy"]), "reason": why},
                  detail=why)


@check(id="reconcile.created_by_hand", title="Identity Center principal not created by SCIM",
       passed="Every Identity Center user and group was created by SCIM (its CreatedBy reads SCIM).",
       severity="medium", area="reconcile", subject_kind="user / group",
       controls=nist("AC-2", "AC-2(1)") + iso("5.16") + cis_aws("1.21"),
       meaning="This user or group was created in Identity Center directly (CreatedBy is an administrator, not "
               "SCIM), typically before the switch to Entra. Entra does not manage it: its members and access "
               "escape the joiner/leaver process, and a hand-made user can only sign in if its user name happens "
               "to equal someone's UPN.",
       fix="Replace it with an Entra group or user provisioned by SCIM, move the account assignments over, and "
           "delete the hand-made principal.",
       references=(AWS_CONSIDER, AWS_PROVISION), tables=IDC_TABLES)
def created_by_hand(data, settings) -> Iterator[Hit]:
    users, groups = data.table("idc_users"), data.table("idc_groups")
    for _, user in users[~created_by_scim(users["createdBy"]).to_numpy()].sort_values("userName").iterrows():
        yield Hit(f"user:{user['userName']}", {"idcUserId": user["userId"], "createdBy": _clean(user["createdBy"]),
                                              "createdAt": _clean(user.get("createdAt"))},
                  detail=f"created by {_clean(user['createdBy'])}")
    for _, group in groups[~created_by_scim(groups["createdBy"]).to_numpy()].sort_values("displayName").iterrows():
        yield Hit(f"group:{group['displayName']}", {"idcGroupId": group["groupId"],
                                                    "createdBy": _clean(group["createdBy"]),
                                                    "createdAt": _clean(group.get("createdAt"))},
                  detail=f"created by {_clean(group['createdBy'])}")


# --------------------------------------------------------------------------------------------- membership


@check(id="reconcile.group_membership", title="Group membership differs between Entra and Identity Center",
       passed="Every Entra group assigned to the AWS app and found in Identity Center has there exactly its direct "
              "Entra user members that Identity Center should hold, none missing and none extra.",
       severity="medium", area="reconcile", subject_kind="group",
       controls=nist("AC-2", "AC-2(1)") + iso("5.18"),
       meaning="For an assigned group, Identity Center's members should be the group's direct user members in "
               "Entra that Identity Center should hold. Members missing in Identity Center lack the group's AWS "
               "access; extra members keep access Entra no longer grants.",
       fix="Find why the difference exists (refused or not yet provisioned users, a deleted user, a member added "
           "by hand) and fix it in Entra; then provision the group on demand. Remove hand-added members in "
           "Identity Center.",
       references=(MS_HOW, AWS_TROUBLESHOOT), tables=BOTH + ("idc_group_memberships",))
def group_membership(data, settings) -> Iterator[Hit]:
    model = bridge(data)
    memberships = data.table("idc_group_memberships")
    groups = model.group_match[among(model.group_match["entraGroupId"], model.scope.assigned_groups)]
    expected_users = model.expected_users()
    entra = model.scope.direct_members
    entra = entra[among(entra["groupId"], groups["entraGroupId"]) & among(entra["memberId"], expected_users)]
    entra = pd.DataFrame({"groupId": entra["groupId"], "member": entra["memberId"]})

    user_of = model.user_match.set_index("idcUserId")["entraId"]
    group_of = groups.set_index("idcGroupId")["entraGroupId"]
    idc = pd.DataFrame({"groupId": text(memberships["groupId"]).map(group_of),
                        "idcUserId": text(memberships["userId"])}).dropna(subset=["groupId"])
    idc["member"] = idc["idcUserId"].map(user_of).fillna("idc:" + idc["idcUserId"])
    diff = entra.drop_duplicates().merge(idc[["groupId", "member", "idcUserId"]].drop_duplicates(
        subset=["groupId", "member"]), how="outer", on=["groupId", "member"], indicator=True)
    diff = diff[diff["_merge"] != "both"]
    if diff.empty:
        return
    upn = model.upn()
    idc_names = _by_id(model.idc_users, "userId")["userName"]
    names = model.group_names()
    diff["who"] = diff["member"].map(upn).fillna(diff["idcUserId"].map(idc_names)).fillna(diff["member"])
    diff["side"] = np.where(diff["_merge"].astype(str).eq("left_only"), "missing_in_idc", "extra_in_idc")
    found: dict[str, dict[str, list[str]]] = {}
    for (group_id, side), who in diff.groupby(["groupId", "side"])["who"].agg(lambda s: sorted(map(str, s))).items():
        found.setdefault(group_id, {"missing_in_idc": [], "extra_in_idc": []})[side] = who
    for group_id in sorted(found, key=lambda g: str(names.get(g))):
        missing, extra = found[group_id]["missing_in_idc"], found[group_id]["extra_in_idc"]
        parts = ([f"{len(missing)} Entra member(s) missing"] if missing else []) + \
                ([f"{len(extra)} member(s) only in Identity Center"] if extra else [])
        yield Hit(f"group:{names.get(group_id, group_id)}", found[group_id], detail="; ".join(parts))


def _group_name_source(model: Bridge) -> tuple[str | None, pd.Series | None]:
    """(the Entra attribute the job maps to the group's displayName, its values aligned with model.groups);
    values None when that attribute was not collected or the mapping is not a plain attribute."""
    source = mapping.single_source(model.group_mappings, "displayName")
    if source is None:
        return None, None
    column = mapping.ALIASES.get(source, source)
    if not isinstance(column, str) or column not in model.groups:
        return source, None
    return source, text(model.groups[column]).str.strip()


@check(id="reconcile.group_name_drift", title="Group renamed in Entra, old name in Identity Center",
       passed="Every in-scope Entra group matched to an Identity Center group carries the same display name there.",
       severity="medium", area="reconcile", subject_kind="group",
       controls=nist("AC-2", "IA-4") + iso("5.16"),
       meaning="This Entra group is in scope of provisioning and has its Identity Center group (matched by "
               "externalId = object id, or by name), but the two display names differ: the group was renamed in "
               "Entra and the rename never reached Identity Center (a failed or not yet run cycle, or a name "
               "Identity Center already holds), or the Identity Center group was renamed there. AWS-side reviews, "
               "account assignments and CloudTrail show a name that is no longer the group's: access is reviewed "
               "and granted under the wrong label, and a new Entra group created with the old name is refused as "
               "a duplicate (group display names are unique in Identity Center).",
       fix="Provision the group on demand (the app › Provisioning › Provision on demand) so SCIM sends the "
           "current displayName, and read the provisioning log if it fails (a duplicate name is refused); if the "
           "Identity Center name is the intended one, rename the Entra group back. Check account assignments and "
           "access reviews made under the old name.",
       references=(MS_HOW, MS_TUTORIAL, AWS_CONSIDER), tables=BOTH)
def group_name_drift(data, settings) -> Iterator[Hit]:
    model = bridge(data)
    pairs = model.group_match[among(model.group_match["entraGroupId"], model.scope.groups)]
    if pairs.empty:
        return
    source, values = _group_name_source(model)
    if values is None:
        raise NotCollected("entra.provisioning", f"the group displayName is mapped from {source or 'an expression'}, "
                                         "not from a collected attribute: the name Entra sends is unknown")
    sent = pd.Series(values.to_numpy(), index=text(model.groups["id"]).to_numpy())
    held = _by_id(model.idc_groups, "groupId")["displayName"]
    names = model.group_names()
    found = []
    for entra_id, idc_id, matched_by in zip(pairs["entraGroupId"], pairs["idcGroupId"], pairs["matchedBy"]):
        ours, theirs = _clean(sent.get(entra_id)), _clean(held.get(idc_id))
        theirs = theirs.strip() if isinstance(theirs, str) else theirs
        if ours is None or ours == theirs:
            continue  # nothing to send (Entra sends no empty name), or the same name
        case_only = isinstance(theirs, str) and ours.casefold() == theirs.casefold()
        found.append(Hit(f"group:{names.get(entra_id, entra_id)}",
                         {"entraGroupId": entra_id, "idcGroupId": idc_id, "entra": ours, "identityCenter": theirs,
                          "entraSource": source, "matchedBy": matched_by, "caseOnly": case_only},
                         detail=f"Identity Center group is named {theirs!r}, Entra sends {ours!r}"
                                + (" (letter case only)" if case_only else "")))
    yield from sorted(found, key=lambda h: h.subject)


# --------------------------------------------------------------------------------------------- attributes

COMPARED = (  # Identity Center column, SCIM target it is written from, case matters
    ("displayName", "displayName", True),
    ("email", 'emails[type eq "work"].value', False),
    ("givenName", "name.givenName", True),
    ("familyName", "name.familyName", True),
)


@check(id="reconcile.attribute_mismatch", title="User attributes differ between Entra and Identity Center",
       passed="For every in-scope user found in Identity Center, its displayName, email, givenName and familyName "
              "there equal what the job's mappings would send from Entra now (email ignoring case); attributes not "
              "mapped or not collected were not compared.",
       severity="low", area="reconcile", subject_kind="user",
       controls=nist("AC-2(1)") + iso("5.16"),
       meaning="Identity Center shows another display name, email or name than Entra would send now: the change "
               "has not been provisioned yet, failed, or was a removal (Entra does not sync an attribute that was "
               "cleared). People see stale names in AWS, and email-based processes reach the wrong address.",
       fix="Provision the user on demand; for a cleared attribute set a value in Entra (removals are not synced) "
           "or correct it in Identity Center.",
       references=(MS_KNOWN, AWS_CONSIDER), tables=BOTH)
def attribute_mismatch(data, settings) -> Iterator[Hit]:
    model = bridge(data)
    pairs = _in_scope_pairs(model)
    if pairs.empty:
        return
    differences: dict[str, dict] = {}
    users = pairs.rename(columns=lambda c: c.removeprefix("entra."))
    for idc_column, target, case in COMPARED:
        source = mapping.single_source(model.user_mappings, target)
        values = mapping.values(users, source) if source else None
        if values is None or f"idc.{idc_column}" not in pairs:
            continue  # not mapped, or the source was not collected: nothing to compare
        ours = text(mapping.scalar(values)).str.strip()
        theirs = text(pairs[f"idc.{idc_column}"]).str.strip()
        a, b = (ours, theirs) if case else (ours.str.casefold(), theirs.str.casefold())
        differs = (a.ne(b).fillna(True) & ~(a.isna() & b.isna())).to_numpy()
        for position in differs.nonzero()[0]:
            upn = pairs["entra.userPrincipalName"].iloc[position]
            differences.setdefault(upn, {})[idc_column] = {"entra": _clean(ours.iloc[position]),
                                                           "identityCenter": _clean(theirs.iloc[position]),
                                                           "entraSource": source}
    for upn in sorted(differences):
        fields = differences[upn]
        removed = [f for f, v in fields.items() if v["entra"] is None]
        evidence = dict(fields, **({"note": "cleared in Entra: removals are not synced"} if removed else {}))
        yield Hit(f"user:{upn}", evidence, detail="differs: " + ", ".join(sorted(fields)))


def _user_names(data) -> pd.DataFrame:
    pairs = _in_scope_pairs(bridge(data))
    if pairs.empty:
        return pairs
    upn, name = text(pairs["entra.userPrincipalName"]), text(pairs["idc.userName"])
    return pairs.assign(_differs=upn.ne(name).fillna(False), _case=upn.str.casefold().eq(name.str.casefold()))


@check(id="reconcile.username_mismatch", title="Identity Center user name is not the UPN",
       passed="Every in-scope user found in Identity Center has a user name equal to their UPN, ignoring letter case "
              "(case-only differences are reconcile.username_case).",
       severity="high", area="reconcile", subject_kind="user",
       controls=nist("IA-2", "IA-4") + iso("5.16"),
       meaning="Entra sends the UPN as SAML NameID and AWS requires it to exactly match the Identity Center user "
               "name: this user's sign-ins to AWS fail (\"No user in the identity store matches the SAML "
               "NameID\"). Typical after a UPN change that was not provisioned.",
       fix="Provision the user on demand so SCIM updates userName (matching is by externalId when it is the object "
           "id); if the user was matched by name only, fix the externalId mapping first.",
       references=(AWS_TROUBLESHOOT, AWS_ENTRA), tables=BOTH)
def username_mismatch(data, settings) -> Iterator[Hit]:
    names = _user_names(data)
    if names.empty:
        return
    for _, row in names[names["_differs"] & ~names["_case"]].sort_values("entra.userPrincipalName").iterrows():
        yield Hit(f"user:{row['entra.userPrincipalName']}",
                  {"upn": row["entra.userPrincipalName"], "idcUserName": row["idc.userName"],
                   "matchedBy": row["matchedBy"]}, detail=f"Identity Center user name is {row['idc.userName']}")


@check(id="reconcile.username_case", title="Identity Center user name differs from the UPN in case only",
       passed="No in-scope user found in Identity Center has a user name that differs from their UPN in letter case "
              "only.",
       severity="low", area="reconcile", subject_kind="user",
       controls=nist("IA-2", "IA-4") + iso("5.16"),
       meaning="The user name equals the UPN except for letter case. AWS asks for an exact match of NameID and "
               "user name and does not document whether the match ignores case; SCIM does not fix it, since Entra "
               "sees no change to sync.",
       fix="Align the case: change the UPN in Entra to the form Identity Center has, or update the user in "
           "Identity Center (with SCIM on, through a PATCH from Entra after a change to the UPN).",
       references=(AWS_TROUBLESHOOT,), tables=BOTH)
def username_case(data, settings) -> Iterator[Hit]:
    names = _user_names(data)
    if names.empty:
        return
    for _, row in names[names["_differs"] & names["_case"]].sort_values("entra.userPrincipalName").iterrows():
        yield Hit(f"user:{row['entra.userPrincipalName']}",
                  {"upn": row["entra.userPrincipalName"], "idcUserName": row["idc.userName"]},
                  detail=f"Identity Center user name is {row['idc.userName']}")


# --------------------------------------------------------------------------------------------- identifiers


@check(id="reconcile.external_id", title="externalId missing or mapped from a mutable attribute",
       passed="The job maps externalId from objectId for both users and groups, and every SCIM-made Identity Center "
              "user has an externalId.",
       severity="medium", area="reconcile", subject_kind="user / app",
       controls=nist("IA-2", "IA-4") + iso("5.16"),
       meaning="externalId is how Identity Center and Entra recognise the same person across renames; AWS asks "
               "for a value that is unique, always present and least likely to change, i.e. the Entra object id. "
               "Mapped from mailNickname, UPN or employee id, a rename makes SCIM lose the user (duplicates, "
               "failed updates); a SCIM user without externalId is matched on user name only.",
       fix="In the app's attribute mappings map externalId from objectId (users and groups); for users without "
           "externalId, provision them on demand after the mapping is right so SCIM writes it.",
       references=(AWS_CONSIDER, MS_TUTORIAL), tables=BOTH)
def external_id(data, settings) -> Iterator[Hit]:
    model = bridge(data)
    evidence = {}
    for kind, mappings in (("user", model.user_mappings), ("group", model.group_mappings)):
        expressions = mapping.expressions_for(mappings, "externalId")
        if not expressions:
            evidence[f"{kind}_externalId_source"] = None
        elif mapping.plain_source(expressions[0]) != "objectId":
            evidence[f"{kind}_externalId_source"] = expressions[0]
    if evidence:
        yield Hit(settings.app_subject, evidence,
                  detail="externalId is " + "; ".join(f"{k.split('_')[0]}s: {v or 'not mapped'}"
                                                      for k, v in evidence.items()))
    idc = model.idc_users
    if idc.empty:
        return
    ids = idc["externalIds"].map(lambda v: len([x for x in v if x]) if hasattr(v, "__len__")
                                 and not isinstance(v, str) else int(isinstance(v, str) and bool(v)))
    lacking = idc[(ids == 0).to_numpy() & created_by_scim(idc["createdBy"]).to_numpy()]
    upn = model.upn()
    entra_of = model.user_match.set_index("idcUserId")["entraId"]
    for _, user in lacking.sort_values("userName").iterrows():
        entra = entra_of.get(str(user["userId"]))
        name = upn.get(entra) if entra is not None else user["userName"]
        yield Hit(f"user:{name}", {"idcUserId": user["userId"], "idcUserName": user["userName"], "externalIds": []},
                  detail="Identity Center user has no externalId")


@check(id="reconcile.orphaned_assignment", title="Account assignment to a principal that no longer exists",
       passed="Every account assignment names a user or group that exists in Identity Center.",
       severity="medium", area="reconcile", subject_kind="account",
       controls=nist("AC-2", "AC-6(7)") + iso("5.18"),
       meaning="An account assignment names a user or group id that Identity Center no longer has, typically "
               "because the principal was deleted and created again (new id, same name): the people it was meant "
               "for have lost that access, and the dangling assignment hides it.",
       fix="Delete the orphaned assignment and assign the permission set again to the current principal (AWS: "
           "remove and re-add the assignment after recreating a user or group).",
       references=(AWS_CONSIDER, AWS_TROUBLESHOOT),
       tables=("idc_account_assignments", "idc_users", "idc_groups", "idc_permission_sets"))
def orphaned_assignment(data, settings) -> Iterator[Hit]:
    assignments = data.table("idc_account_assignments")
    if assignments.empty:
        return
    users, groups = text(data.table("idc_users")["userId"]), text(data.table("idc_groups")["groupId"])
    sets = data.table("idc_permission_sets")
    set_names = pd.Series(text(sets["name"]).to_numpy(), index=text(sets["permissionSetArn"]).to_numpy())
    kind, principal = text(assignments["principalType"]).str.upper(), text(assignments["principalId"])
    exists = (flag(kind.eq("USER")) & among(principal, users)) | (flag(kind.eq("GROUP")) & among(principal, groups))
    orphans = assignments[~exists]
    for account, rows in orphans.groupby(text(orphans["accountId"]), sort=True):
        items = [{"permissionSet": set_names.get(str(r["permissionSetArn"]), r["permissionSetArn"]),
                  "principalType": r["principalType"], "principalId": r["principalId"]}
                 for _, r in rows.iterrows()]
        yield Hit(f"account:{account}", {"orphaned_assignments": items},
                  detail="; ".join(f"{i['permissionSet']} assigned to {str(i['principalType']).lower()} id "
                                   f"{i['principalId']}, which Identity Center no longer has" for i in items))


@check(id="reconcile.disabled_still_enabled", title="Disabled or deleted in Entra, still enabled in Identity Center",
       passed="No ENABLED Identity Center user matches an Entra user whose account is disabled, and every ENABLED "
              "SCIM-made Identity Center user still matches an Entra user.",
       severity="high", area="reconcile", subject_kind="user",
       controls=nist("AC-2(3)", "PS-4") + iso("5.16", "5.18"),
       meaning="The person can no longer sign in to Entra, but their Identity Center user is still ENABLED: its "
               "group memberships and account assignments stay, and any path that does not go through Entra "
               "(existing sessions, access keys issued from them) keeps working. Entra disables the user only in "
               "a successful cycle; a deleted Entra user leaves a SCIM-made user no Entra object matches.",
       fix="Run a provisioning cycle (or provision on demand) so SCIM sets active=false; for users deleted in "
           "Entra, disable or delete them in Identity Center and remove their assignments.",
       references=(MS_HOW, AWS_CONSIDER), tables=BOTH)
def disabled_still_enabled(data, settings) -> Iterator[Hit]:
    model = bridge(data)
    idc = _by_id(model.idc_users, "userId")
    enabled = text(idc["userStatus"]).str.upper().eq("ENABLED").fillna(False)
    users = _by_id(model.users, "id")
    pairs = model.user_match
    pairs = pairs[among(pairs["idcUserId"], idc.index[enabled.to_numpy()])]
    disabled = users["accountEnabled"].astype("boolean").eq(False).fillna(False)
    found = pairs[among(pairs["entraId"], users.index[disabled.to_numpy()])]
    found = found.assign(_upn=found["entraId"].map(model.upn())).sort_values("_upn")
    for _, pair in found.iterrows():
        user = users.loc[pair["entraId"]]
        yield Hit(f"user:{user['userPrincipalName']}",
                  {"entra": "accountEnabled false", "idcUserName": idc.loc[pair["idcUserId"], "userName"],
                   "idcUserStatus": "ENABLED"}, detail="disabled in Entra, ENABLED in Identity Center")
    scim = created_by_scim(idc["createdBy"]).to_numpy()
    gone = idc[enabled.to_numpy() & scim & ~among(idc.index, model.user_match["idcUserId"])]
    for user_id, user in gone.sort_values("userName").iterrows():
        yield Hit(f"user:{user['userName']}",
                  {"entra": "no Entra user matches (deleted)", "idcUserId": user_id, "idcUserStatus": "ENABLED"},
                  detail="deleted in Entra, ENABLED in Identity Center")
