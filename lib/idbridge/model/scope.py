"""Who is in scope of provisioning, and which Identity Center principal is which Entra one.

Scope ("Sync only assigned users and groups", the recommended setting; shared reference §1b/§1c):
- users assigned to the app directly, the groups assigned to it, and the *direct* user members of those groups.
  Entra does not flatten nested groups: a user who is only a transitive member of an assigned group is never
  provisioned (and is refused at sign-in, AADSTS50105) — `Scope.nested_only`;
- with "Sync all users and groups" every Entra user and group is in scope. That setting lives in the job's
  secrets, which no read API returns, so it is inferred (`detect_sync_all`): Identity Center holds SCIM-made groups
  (model.origin: CloudTrail, externalIds, CreatedBy)
  that are not assigned to the app, or the job's synchronizedEntryCountByType counts more groups than are assigned.
  Users alone are not taken as proof: a user removed from a group after the last cycle looks the same.

Matching (`match_users`, `match_groups`): an Identity Center user is an Entra user when one of its externalIds is
the Entra object id (the recommended, immutable source), else the value of the attribute the job maps to
externalId, else when its userName equals the UPN ignoring case (userName is SCIM's matching attribute). Groups:
externalId = object id, else displayName (the group matching attribute). One-to-one, best key first.
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from idbridge.model import mapping
from idbridge.model.frames import among, explode_ids, flag, folded, text  # noqa: F401 - also used by importers
from idbridge.model.origin import origins
from idbridge.snapshot.store import NotCollected

ENTRA_TABLES = ("entra_users", "entra_groups", "entra_app_role_assignments", "entra_group_members",
                "entra_sync_jobs", "entra_sync_mappings")
IDC_TABLES = ("idc_users", "idc_groups")


# --------------------------------------------------------------------------------------------- helpers


def _ids(series: pd.Series) -> pd.Index:
    return pd.Index(text(series).dropna().unique(), dtype=object)


# --------------------------------------------------------------------------------------------- scope


@dataclass(frozen=True)
class Scope:
    sync_all: bool
    assigned_users: pd.Index      # Entra user ids with their own app role assignment
    assigned_groups: pd.Index     # Entra group ids assigned to the app
    direct_members: pd.DataFrame  # groupId, memberId: direct *user* members of the assigned groups
    reachable: pd.Index           # assigned users and direct members: who the app lets in (SAML)
    users: pd.Index               # Entra user ids provisioning sends to Identity Center
    groups: pd.Index              # Entra group ids provisioning sends
    nested_only: pd.DataFrame     # memberId, groupId: reach an assigned group only through a nested group


def build_scope(users: pd.DataFrame, groups: pd.DataFrame, assignments: pd.DataFrame, members: pd.DataFrame,
                *, sync_all: bool = False) -> Scope:
    kind = text(assignments["principalType"]).str.lower()
    principal = text(assignments["principalId"])
    assigned_users = pd.Index(principal[kind.eq("user").fillna(False)].dropna().unique(), dtype=object)
    assigned_groups = pd.Index(principal[kind.eq("group").fillna(False)].dropna().unique(), dtype=object)
    user_ids = _ids(users["id"])
    assigned_users = assigned_users.intersection(user_ids)  # a deleted user's assignment goes with it

    group_id, member_id = text(members["groupId"]), text(members["memberId"])
    relation, member_type = folded(members["relation"]), folded(members["memberType"])
    in_assigned = among(group_id, assigned_groups)
    is_user = member_type.eq("user").fillna(False) & among(member_id, user_ids)
    direct = pd.DataFrame({"groupId": group_id, "memberId": member_id})[
        in_assigned & is_user & relation.eq("direct").fillna(False)].drop_duplicates().reset_index(drop=True)
    reachable = assigned_users.union(pd.Index(direct["memberId"].unique(), dtype=object))
    transitive = pd.DataFrame({"groupId": group_id, "memberId": member_id})[
        in_assigned & is_user & relation.eq("transitive").fillna(False)].drop_duplicates()
    nested_only = transitive[~among(transitive["memberId"], reachable)].reset_index(drop=True)

    if sync_all:
        scope_users, scope_groups = user_ids, _ids(groups["id"])
        nested_only = nested_only.iloc[0:0]  # everyone is provisioned anyway
    else:
        scope_users, scope_groups = reachable, assigned_groups.intersection(_ids(groups["id"]))
    return Scope(sync_all, assigned_users, assigned_groups, direct, reachable, scope_users, scope_groups,
                 nested_only)


def _entry_counts(jobs: pd.DataFrame) -> dict[str, int]:
    """synchronizedEntryCountByType of the first job, e.g. {"user to User": 144, "group to Group": 12}."""
    if jobs.empty or "status_json" not in jobs:
        return {}
    raw = jobs["status_json"].iloc[0]
    try:
        status = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        return {}
    counts = {}
    for item in (status or {}).get("synchronizedEntryCountByType") or []:
        try:
            counts[str(item.get("key", "")).lower()] = int(item.get("value"))
        except (TypeError, ValueError):
            continue
    return counts


def detect_sync_all(scope: Scope, groups: pd.DataFrame, group_match: pd.DataFrame, jobs: pd.DataFrame,
                    origin=None) -> tuple[bool, dict[str, Any]]:
    """Whether the job syncs all users and groups (see the module docstring), with the evidence. `origin`
    (model.origin.Origins) tells which Identity Center groups SCIM made, and on what evidence."""
    evidence: dict[str, Any] = {}
    provisioned = group_match.iloc[0:0]
    if origin is not None and not group_match.empty:
        provisioned = group_match[origin.scim("group", group_match["idcGroupId"])]
    unassigned = provisioned[~among(provisioned["entraGroupId"], scope.assigned_groups)]
    if not unassigned.empty:
        names = groups.set_index(text(groups["id"]))["displayName"]
        evidence["provisioned_groups_not_assigned"] = sorted(
            str(names.get(g, g)) for g in unassigned["entraGroupId"])
        evidence["provisioned_by"] = {str(names.get(g, g)): origin.explain("group", i)["originDecidedBy"]
                                      for g, i in zip(unassigned["entraGroupId"], unassigned["idcGroupId"])}
    counted = _entry_counts(jobs).get("group to group")
    if counted is not None and counted > len(scope.assigned_groups):
        evidence["synchronized_group_count"] = counted
        evidence["assigned_group_count"] = len(scope.assigned_groups)
    return bool(evidence), evidence


# --------------------------------------------------------------------------------------------- matching


def _one_to_one(candidates: list[pd.DataFrame], left: str, right: str) -> pd.DataFrame:
    """Keep the best match per principal on both sides: candidates are in priority order, and a principal paired
    by a better key is not available to a weaker one."""
    kept: list[pd.DataFrame] = []
    used_left: set = set()
    used_right: set = set()
    for tier in candidates:
        tier = tier.dropna(subset=[left, right])
        tier = tier[~among(tier[left], list(used_left)) & ~among(tier[right], list(used_right))]
        tier = tier.drop_duplicates(subset=[left]).drop_duplicates(subset=[right])
        used_left.update(tier[left])
        used_right.update(tier[right])
        kept.append(tier)
    return pd.concat(kept, ignore_index=True)


def match_users(entra_users: pd.DataFrame, idc_users: pd.DataFrame,
                external_id_values: pd.Series | None = None) -> pd.DataFrame:
    """entraId, idcUserId, matchedBy ("externalId", "externalIdSource", "userName") for every pair found.
    `external_id_values`: what the job maps to externalId per Entra user, when that is not the object id."""
    empty = pd.DataFrame({"entraId": pd.Series(dtype=object), "idcUserId": pd.Series(dtype=object),
                          "matchedBy": pd.Series(dtype=object)})
    if entra_users.empty or idc_users.empty:
        return empty
    external = explode_ids(idc_users, "userId", "externalIds")
    by_object = pd.DataFrame({"entraId": text(entra_users["id"]).to_numpy()})
    first = by_object.merge(external, left_on="entraId", right_on="externalId")
    candidates = [pd.DataFrame({"entraId": first["entraId"], "idcUserId": first["userId"],
                                "matchedBy": "externalId"})]
    if external_id_values is not None:
        mapped = pd.DataFrame({"entraId": text(entra_users["id"]).to_numpy(),
                               "externalId": text(external_id_values).str.strip().to_numpy()}).dropna()
        second = mapped.merge(external, on="externalId")
        candidates.append(pd.DataFrame({"entraId": second["entraId"], "idcUserId": second["userId"],
                                        "matchedBy": "externalIdSource"}))
    upn = pd.DataFrame({"entraId": text(entra_users["id"]).to_numpy(),
                        "key": folded(entra_users["userPrincipalName"]).to_numpy()}).dropna()
    names = pd.DataFrame({"idcUserId": text(idc_users["userId"]).to_numpy(),
                          "key": folded(idc_users["userName"]).to_numpy()}).dropna()
    third = upn.merge(names, on="key")
    candidates.append(pd.DataFrame({"entraId": third["entraId"], "idcUserId": third["idcUserId"],
                                    "matchedBy": "userName"}))
    return _one_to_one(candidates, "entraId", "idcUserId").astype(object)


def match_groups(entra_groups: pd.DataFrame, idc_groups: pd.DataFrame) -> pd.DataFrame:
    """entraGroupId, idcGroupId, matchedBy ("externalId", "displayName")."""
    if entra_groups.empty or idc_groups.empty:
        return pd.DataFrame({"entraGroupId": pd.Series(dtype=object), "idcGroupId": pd.Series(dtype=object),
                             "matchedBy": pd.Series(dtype=object)})
    external = explode_ids(idc_groups, "groupId", "externalIds")
    ids = pd.DataFrame({"entraGroupId": text(entra_groups["id"]).to_numpy()})
    first = ids.merge(external, left_on="entraGroupId", right_on="externalId")
    left = pd.DataFrame({"entraGroupId": text(entra_groups["id"]).to_numpy(),
                         "key": folded(entra_groups["displayName"]).to_numpy()}).dropna()
    right = pd.DataFrame({"idcGroupId": text(idc_groups["groupId"]).to_numpy(),
                          "key": folded(idc_groups["displayName"]).to_numpy()}).dropna()
    second = left.merge(right, on="key")
    candidates = [pd.DataFrame({"entraGroupId": first["entraGroupId"], "idcGroupId": first["groupId"],
                                "matchedBy": "externalId"}),
                  pd.DataFrame({"entraGroupId": second["entraGroupId"], "idcGroupId": second["idcGroupId"],
                                "matchedBy": "displayName"})]
    return _one_to_one(candidates, "entraGroupId", "idcGroupId").astype(object)


# --------------------------------------------------------------------------------------------- the bridge


@dataclass
class Bridge:
    """Both sides of the bridge for one snapshot, matched. Built once per snapshot (see `bridge`)."""

    users: pd.DataFrame          # entra_users
    groups: pd.DataFrame         # entra_groups
    idc_users: pd.DataFrame
    idc_groups: pd.DataFrame
    user_mappings: pd.DataFrame  # target, expression (mapping.user_mappings)
    group_mappings: pd.DataFrame
    scope: Scope
    user_match: pd.DataFrame     # entraId, idcUserId, matchedBy
    group_match: pd.DataFrame    # entraGroupId, idcGroupId, matchedBy
    sync_all_evidence: dict[str, Any] = field(default_factory=dict)
    idc_collected: bool = True

    def upn(self) -> pd.Series:
        """Entra id -> UPN."""
        return pd.Series(text(self.users["userPrincipalName"]).to_numpy(), index=text(self.users["id"]).to_numpy())

    def group_names(self) -> pd.Series:
        return pd.Series(text(self.groups["displayName"]).to_numpy(), index=text(self.groups["id"]).to_numpy())

    def expected_users(self) -> pd.Index:
        """In-scope users Identity Center should hold: a disabled user is only kept once provisioned (Entra
        does not create a user that is not active)."""
        users = self.users.set_index(text(self.users["id"]))
        in_scope = users.loc[among(users.index, self.scope.users)]
        enabled = in_scope["accountEnabled"].astype("boolean").fillna(True)
        matched = among(in_scope.index, self.user_match["entraId"])
        return pd.Index(in_scope.index[np.asarray(enabled) | matched], dtype=object)


_CACHE: "weakref.WeakKeyDictionary[Any, dict[bool, Bridge]]" = weakref.WeakKeyDictionary()


def _idc_tables(data: Any, required: bool) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    try:
        return data.table("idc_users"), data.table("idc_groups"), True
    except NotCollected:
        if required:
            raise
    empty_users = pd.DataFrame(columns=["userId", "userName", "externalIds", "createdBy", "userStatus"])
    empty_groups = pd.DataFrame(columns=["groupId", "displayName", "externalIds", "createdBy"])
    return empty_users, empty_groups, False


def bridge(data: Any, *, need_idc: bool = True) -> Bridge:
    """The matched model of a snapshot (or MemoryTables). `need_idc=False`: checks that predict from Entra alone
    still run when Identity Center was not collected (scope is then taken as "assigned" unless the job's counts
    say otherwise)."""
    try:
        cached = _CACHE.get(data, {})
    except TypeError:  # not weak-referenceable
        cached = {}
    for key in ((True, False) if not need_idc else (True,)):
        if key in cached:
            return cached[key]
    users, groups = data.table("entra_users"), data.table("entra_groups")
    assignments, members = data.table("entra_app_role_assignments"), data.table("entra_group_members")
    jobs, mappings = data.table("entra_sync_jobs"), data.table("entra_sync_mappings")
    idc_users, idc_groups, idc_collected = _idc_tables(data, need_idc)

    user_maps, group_maps = mapping.user_mappings(mappings), mapping.group_mappings(mappings)
    source = mapping.single_source(user_maps, "externalId")
    external_values = mapping.values(users, source) if source and source != "objectId" else None
    user_match = match_users(users, idc_users, external_values)
    group_match = match_groups(groups, idc_groups)

    assigned = build_scope(users, groups, assignments, members, sync_all=False)
    origin = origins(data) if idc_collected else None
    sync_all, evidence = detect_sync_all(assigned, groups, group_match, jobs, origin)
    scope = build_scope(users, groups, assignments, members, sync_all=True) if sync_all else assigned
    result = Bridge(users, groups, idc_users, idc_groups, user_maps, group_maps, scope, user_match, group_match,
                    evidence, idc_collected)
    try:
        _CACHE.setdefault(data, {})[idc_collected] = result
    except TypeError:
        pass
    return result
