"""Every path from a person to an account assignment, as arrays of positions into the dimension tables.

Group memberships are read from both sides and paired per (Identity Center group, person):
- a direct member in Entra of the group's Entra counterpart (scope.direct_members) and a member in Identity
  Center: a `group` path that works;
- in Entra only (not provisioned yet, refused by SCIM, membership not synced): a `group` path that does not work;
- in Identity Center only: Entra does not explain it (user deleted in Entra, hand-made user or group, or removed
  from the group in Entra since the last cycle): `idc_only`. When Entra's membership of the group was not
  collected (groups not assigned to the app, under "sync all"), the Identity Center membership is trusted: `group`.
Transitive-only members of assigned groups are `nested_group` paths: SCIM never provisions them into the group.
Account assignments to users are `direct_user` (an Entra user's Identity Center user) or `idc_only`; an
assignment whose principal id no longer exists is `orphaned`.

`eligible` paths are built apart (eligible_spine) and never join the access table: people eligible through PIM for
Groups for the membership of a provisioned group, who do not hold it now, reach its account assignments once they
activate. They are access that could be, not access that is (`effective` is always False).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from idbridge.model.access.dims import GROUP, USER, Dims, positions
from idbridge.model.scope import Bridge, folded, text

KINDS = ("direct_user", "group", "nested_group", "idc_only", "orphaned", "eligible")
DIRECT, GROUP_PATH, NESTED, IDC_ONLY, ORPHANED, ELIGIBLE = range(6)
SPINE = ("kind", "effective", "u", "eg", "ng", "ptype", "principal", "i", "acc", "ps", "assignment")


def _take(values: np.ndarray, where: np.ndarray, missing=-1) -> np.ndarray:
    """values[where] with -1 positions giving `missing`."""
    if len(values) == 0:
        return np.full(len(where), missing, dtype=np.int64)
    return np.where(where >= 0, values[np.clip(where, 0, None)], missing)


def entra_to_idc_group(dims: Dims) -> np.ndarray:
    """Entra group position -> its Identity Center group's position (-1 when not provisioned)."""
    eg_to_g = np.full(len(dims.groups), -1, dtype=np.int64)
    matched = dims.idc_groups["entra"].to_numpy()
    eg_to_g[matched[matched >= 0]] = np.flatnonzero(matched >= 0)
    return eg_to_g


def member_pairs(dims: Dims, model: Bridge, memberships: pd.DataFrame) -> pd.DataFrame:
    """(g, u, i, eg, kind, effective) per Identity Center group and person, from both sides."""
    n_users = len(dims.users)
    group_index = pd.Index(dims.idc_groups["groupId"], dtype=object)
    idc_index = pd.Index(dims.idc_users["userId"], dtype=object)
    entra_groups = pd.Index(dims.groups["id"], dtype=object)
    entra_users = pd.Index(dims.users["id"], dtype=object)
    eg_to_g = entra_to_idc_group(dims)

    # Entra: direct user members of the assigned groups, on the group's Identity Center counterpart
    direct = model.scope.direct_members
    e_g = _take(eg_to_g, positions(direct["groupId"], entra_groups))
    e_u = positions(direct["memberId"], entra_users)
    keep = (e_g >= 0) & (e_u >= 0)
    e_g, e_u = e_g[keep], e_u[keep]
    # Identity Center memberships; a person is its Entra user when matched, else its Identity Center user
    i_g = positions(text(memberships["groupId"]), group_index)
    i_i = positions(text(memberships["userId"]), idc_index)
    keep = (i_g >= 0) & (i_i >= 0)
    i_g, i_i = i_g[keep], i_i[keep]
    i_u = dims.idc_users["entra"].to_numpy()[i_i]
    i_person = np.where(i_u >= 0, i_u, n_users + i_i)

    width = np.int64(n_users + len(idc_index) + 1)
    e_key = np.unique(e_g * width + e_u)
    i_key = np.unique(i_g * width + i_person)
    keys = np.union1d(e_key, i_key)
    g, person = keys // width, keys % width
    in_entra, in_idc = np.isin(keys, e_key), np.isin(keys, i_key)
    u = np.where(person < n_users, person, -1)
    i = np.where(u >= 0, _take(dims.users["idc"].to_numpy(), u), person - n_users)
    eg = dims.idc_groups["entra"].to_numpy()[g] if len(g) else np.zeros(0, dtype=np.int64)
    known = _take(dims.groups["members_known"].to_numpy(), eg, False).astype(bool)
    from_entra = (u >= 0) & (eg >= 0) & (in_entra | ~known)
    return pd.DataFrame({
        "g": g, "u": u, "i": i, "eg": np.where(from_entra, eg, -1),
        "kind": np.where(from_entra, GROUP_PATH, IDC_ONLY).astype(np.int8),
        "effective": in_idc & _take(dims.idc_users["enabled"].to_numpy(), i, False).astype(bool),
    })


def nested_pairs(dims: Dims, model: Bridge, members: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """(g, u, i, eg, ng) for users who reach an assigned group only through a group nested in it. The nested
    group is the one whose collected membership holds the user, else the assigned group's only nested group."""
    entra_groups = pd.Index(dims.groups["id"], dtype=object)
    entra_users = pd.Index(dims.users["id"], dtype=object)
    group_id, member_id = text(members["groupId"]), text(members["memberId"])
    relation, member_type = folded(members["relation"]), folded(members["memberType"])
    eg_all, member = positions(group_id, entra_groups), member_id.to_numpy()
    is_user = member_type.eq("user").fillna(False).to_numpy()
    assigned = np.zeros(len(entra_groups), dtype=bool)
    assigned_pos = positions(model.scope.assigned_groups, entra_groups)
    assigned[assigned_pos[assigned_pos >= 0]] = True
    in_assigned = _take(assigned, eg_all, False).astype(bool)

    t = is_user & in_assigned & relation.eq("transitive").fillna(False).to_numpy()
    d = is_user & relation.eq("direct").fillna(False).to_numpy()
    u_all = positions(member, entra_users)
    width = np.int64(len(entra_users) + 1)
    t_key = np.unique(eg_all[t & (u_all >= 0)] * width + u_all[t & (u_all >= 0)])
    d_key = np.unique(eg_all[d & (u_all >= 0)] * width + u_all[d & (u_all >= 0)])
    keys = np.setdiff1d(t_key, d_key)
    eg, u = keys // width, keys % width
    g = _take(entra_to_idc_group(dims), eg)
    # a pair Identity Center already holds is a group / idc_only path, not a nested one
    known = pairs["u"].to_numpy() >= 0
    held = pairs["g"].to_numpy()[known] * width + pairs["u"].to_numpy()[known]
    keep = (g >= 0) & ~np.isin(g * width + u, held)
    eg, u, g = eg[keep], u[keep], g[keep]

    # which nested group: direct group members of the assigned group, narrowed by their collected membership
    gm = (~is_user) & member_type.eq("group").fillna(False).to_numpy() & relation.eq("direct").fillna(False)\
        .to_numpy() & in_assigned
    candidates = pd.DataFrame({"eg": eg_all[gm], "ng": positions(member[gm], entra_groups)})
    candidates = candidates[candidates["ng"] >= 0].drop_duplicates()
    found = pd.DataFrame({"eg": eg, "u": u, "g": g}).merge(candidates, on="eg", how="left")
    found["ng"] = found["ng"].fillna(-1).astype(np.int64)
    known = is_user & (u_all >= 0) & (eg_all >= 0)
    holds = (found["ng"].to_numpy() >= 0) & np.isin(found["ng"].to_numpy() * width + found["u"].to_numpy(),
                                                     eg_all[known] * width + u_all[known])
    count = found.groupby(["eg", "u"])["ng"].transform("size").to_numpy()
    found["score"] = np.where(holds, 2, np.where(count == 1, 1, 0))
    found = found.sort_values("score", ascending=False, kind="stable").drop_duplicates(["eg", "u"])
    found.loc[found["score"] == 0, "ng"] = -1
    found = found.sort_values(["eg", "u"]).reset_index(drop=True)
    found["i"] = _take(dims.users["idc"].to_numpy(), found["u"].to_numpy())
    return found[["g", "u", "i", "eg", "ng"]]


def join_on_group(pair_g: np.ndarray, assign_g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inner join of pairs and group assignments on the group position, as (pair index, assignment index) per
    output row: a sort and a repeat, no hash join (millions of rows)."""
    order = np.argsort(assign_g, kind="stable")
    sorted_g = assign_g[order]
    starts = np.searchsorted(sorted_g, pair_g, side="left")
    counts = np.searchsorted(sorted_g, pair_g, side="right") - starts
    total = int(counts.sum())
    pair_index = np.repeat(np.arange(len(pair_g), dtype=np.int64), counts)
    first = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return pair_index, order[first + np.arange(total, dtype=np.int64)]


def _group_rows(dims: Dims, frame: pd.DataFrame, kind, effective, ng: bool) -> dict:
    """Spine pieces of people in groups (frame: g, u, i, eg[, kind, effective, ng]) joined to the groups' account
    assignments."""
    a = dims.assignments
    principal, ptype = a["principal"].to_numpy(), a["ptype"].to_numpy()
    grouped = np.flatnonzero((principal >= 0) & (ptype == GROUP))
    p, j = join_on_group(frame["g"].to_numpy(), principal[grouped])
    j = grouped[j]
    take = lambda column: frame[column].to_numpy()[p]  # noqa: E731
    return {"kind": take("kind") if kind is None else np.full(len(p), kind),
            "effective": take("effective") if effective is None else np.full(len(p), effective),
            "u": take("u"), "eg": take("eg"), "ng": take("ng") if ng else np.full(len(p), -1),
            "ptype": np.full(len(p), GROUP), "principal": principal[j], "i": take("i"),
            "acc": a["acc"].to_numpy()[j], "ps": a["ps"].to_numpy()[j], "assignment": j}


def _as_spine(pieces: list[dict]) -> dict[str, np.ndarray]:
    spine = {}
    for name in SPINE:  # int32 positions: half the memory of int64 for millions of rows
        dtype = bool if name == "effective" else (np.int8 if name in ("kind", "ptype") else np.int32)
        spine[name] = np.concatenate([np.asarray(p[name]).astype(dtype, copy=False) for p in pieces])
    return spine


def eligible_spine(dims: Dims, model: Bridge, memberships: pd.DataFrame, eg: np.ndarray, u: np.ndarray
                   ) -> dict[str, np.ndarray]:
    """`eligible` rows: per (Entra group position eg, Entra user position u) eligible through PIM, the account
    assignments of the group's Identity Center counterpart, unless the person holds the group already (on
    either side: then it is a group / idc_only path). Groups not provisioned (a PIM group only nested in an
    assigned one) give none: activating them reaches nothing."""
    g = _take(entra_to_idc_group(dims), np.asarray(eg, dtype=np.int64))
    u = np.asarray(u, dtype=np.int64)
    keep = (g >= 0) & (u >= 0)
    pairs = member_pairs(dims, model, memberships)
    width = np.int64(len(dims.users) + 1)
    known = pairs["u"].to_numpy() >= 0
    held = pairs["g"].to_numpy()[known] * width + pairs["u"].to_numpy()[known]
    keep &= ~np.isin(g * width + u, held)
    frame = pd.DataFrame({"g": g[keep], "u": u[keep], "eg": np.asarray(eg, dtype=np.int64)[keep]})
    frame = frame.drop_duplicates(["g", "u"]).sort_values(["g", "u"]).reset_index(drop=True)
    frame["i"] = _take(dims.users["idc"].to_numpy(), frame["u"].to_numpy())
    return _as_spine([_group_rows(dims, frame, ELIGIBLE, False, False)])


def build_spine(dims: Dims, model: Bridge, memberships: pd.DataFrame, members: pd.DataFrame) -> dict[str, np.ndarray]:
    """The path rows as position arrays (SPINE), not yet ordered."""
    a = dims.assignments
    principal, ptype = a["principal"].to_numpy(), a["ptype"].to_numpy()
    exists = principal >= 0
    pairs = member_pairs(dims, model, memberships)
    nested = nested_pairs(dims, model, members, pairs)
    pieces = []
    pieces.append(_group_rows(dims, pairs, None, None, False))
    pieces.append(_group_rows(dims, nested, NESTED, False, True))

    direct = np.flatnonzero(exists & (ptype == USER))
    i = principal[direct]
    u = dims.idc_users["entra"].to_numpy()[i] if len(i) else np.zeros(0, dtype=np.int64)
    none = np.full(len(direct), -1)
    pieces.append({"kind": np.where(u >= 0, DIRECT, IDC_ONLY), "effective": dims.idc_users["enabled"].to_numpy()[i]
                   if len(i) else np.zeros(0, dtype=bool), "u": u, "eg": none, "ng": none,
                   "ptype": np.full(len(direct), USER), "principal": i, "i": i, "acc": a["acc"].to_numpy()[direct],
                   "ps": a["ps"].to_numpy()[direct], "assignment": direct})

    orphan = np.flatnonzero(~exists)
    none = np.full(len(orphan), -1)
    pieces.append({"kind": np.full(len(orphan), ORPHANED), "effective": np.zeros(len(orphan), dtype=bool),
                   "u": none, "eg": none, "ng": none, "ptype": ptype[orphan], "principal": none, "i": none,
                   "acc": a["acc"].to_numpy()[orphan], "ps": a["ps"].to_numpy()[orphan], "assignment": orphan})
    return _as_spine(pieces)
