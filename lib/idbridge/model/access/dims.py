"""The dimension tables of the access model: one row per Entra user, Identity Center user and group, Entra group,
account, permission set and account assignment, each addressed by its position.

Paths are built as arrays of positions into these tables (access_paths.py) and turned into columns only at the
end (access.py), so that millions of paths cost a few bytes each instead of a Python string per cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from idbridge.model.origin import origins
from idbridge.model.privilege import permission_set_levels
from idbridge.model.scope import Bridge, folded, text
from idbridge.snapshot.store import NotCollected

USER, GROUP = 0, 1  # principal type codes


@dataclass
class Dims:
    users: pd.DataFrame        # Entra users: id, upn, display, user_type, enabled (boolean), idc (position or -1)
    idc_users: pd.DataFrame    # userId, userName, status, enabled (bool), scim (bool), entra (position or -1)
    idc_groups: pd.DataFrame   # groupId, displayName, entra (position in groups or -1)
    groups: pd.DataFrame       # Entra groups: id, displayName, members_known (membership collected)
    accounts: pd.DataFrame     # accountId, name, ou_path, tags (text), is_production
    sets: pd.DataFrame         # privilege.classify(), plus the list columns joined as text
    assignments: pd.DataFrame  # acc, ps, ptype, principal (position in idc_users / idc_groups, -1), principal_id


def optional_table(data, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """A table that may not have been collected: empty with its columns then (the model still builds)."""
    try:
        return data.table(name)
    except (NotCollected, KeyError):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def positions(keys, index: pd.Index) -> np.ndarray:
    """Position of each key in a unique index, -1 when absent (object dtype: fast hash lookups)."""
    return index.get_indexer(pd.Index(np.asarray(keys, dtype=object), dtype=object)).astype(np.int64)


def _unique_index(values: pd.Series) -> pd.Index:
    return pd.Index(text(values).to_numpy(), dtype=object)


def _tags(value) -> dict[str, str]:
    """org_accounts.tags ("key=value" strings; a key may itself hold "=", values rarely) -> dict."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if value is None or isinstance(value, (float, str)):
        return {}
    tags = {}
    for item in value:
        key, _, val = str(item).partition("=")
        tags[key] = val
    return tags


def _is_production(tags: dict[str, str], ou_path: str, production) -> bool:
    lowered = {k.lower(): v.lower() for k, v in tags.items()}
    for key, values in (production.tags or {}).items():
        if lowered.get(key.lower()) in {v.lower() for v in values}:
            return True
    path = (ou_path or "").strip("/").lower()
    for prefix in production.ous or []:
        prefix = prefix.strip("/").lower()
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            return True
    return False


def accounts_dim(data, extra_ids: pd.Series, production) -> pd.DataFrame:
    org = optional_table(data, "org_accounts", ("accountId", "name", "ouPath", "tags"))
    frame = pd.DataFrame({"accountId": text(org["accountId"]).to_numpy(), "name": text(org["name"]).to_numpy(),
                          "ou_path": text(org["ouPath"]).to_numpy(), "raw_tags": org["tags"].to_numpy()})
    frame = frame.drop_duplicates("accountId")
    missing = pd.Index(text(extra_ids).dropna().unique(), dtype=object).difference(frame["accountId"].dropna())
    if len(missing):  # assigned accounts the organisation listing did not return
        frame = pd.concat([frame, pd.DataFrame({"accountId": list(missing)})], ignore_index=True)
    frame = frame.reset_index(drop=True)
    tags = [_tags(v) for v in frame["raw_tags"]]
    frame["tags"] = ["; ".join(f"{k}={v}" for k, v in sorted(t.items())) or None for t in tags]
    frame["is_production"] = np.array([_is_production(t, p if isinstance(p, str) else "", production)
                                       for t, p in zip(tags, frame["ou_path"])], dtype=bool)
    return frame.drop(columns="raw_tags")


def _joined(values) -> str | None:
    return "; ".join(values) if values else None


def sets_dim(data, extra_arns: pd.Series) -> pd.DataFrame:
    sets = permission_set_levels(data)
    missing = pd.Index(text(extra_arns).dropna().unique(), dtype=object).difference(sets["permissionSetArn"])
    if len(missing):  # assigned but no longer listed: nothing known about it
        sets = pd.concat([sets, pd.DataFrame({"permissionSetArn": list(missing), "privilege": "custom",
                                              "privilege_rank": 0, "session_hours": np.nan,
                                              "has_inline_policy": False,
                                              "reasons": [["permission set not listed"]] * len(missing)})],
                         ignore_index=True)
    for column in ("managed_policies", "customer_managed_policies", "reasons"):
        sets[column + "_text"] = [_joined(v) if isinstance(v, list) else None for v in sets[column]]
    sets["privilege_rank"] = sets["privilege_rank"].astype("int8")
    sets["has_inline_policy"] = sets["has_inline_policy"].astype(bool)
    return sets.reset_index(drop=True)


def _scim_made(data, idc_users: pd.DataFrame) -> np.ndarray:
    """Per Identity Center user: SCIM made it, on the evidence model.origin weighs (none when not collected)."""
    if idc_users.empty:
        return np.zeros(len(idc_users), dtype=bool)
    try:
        return origins(data).scim("user", text(idc_users["userId"]))
    except NotCollected:
        return np.zeros(len(idc_users), dtype=bool)


def build_dims(data, model: Bridge, production) -> Dims:
    users = model.users.drop_duplicates("id").reset_index(drop=True)
    user_index = _unique_index(users["id"])
    idc_users = model.idc_users.drop_duplicates("userId").reset_index(drop=True)
    idc_index = _unique_index(idc_users["userId"])
    idc_groups = model.idc_groups.drop_duplicates("groupId").reset_index(drop=True)
    groups = model.groups.drop_duplicates("id").reset_index(drop=True)
    group_index = _unique_index(groups["id"])

    match = model.user_match
    idc_entra = np.full(len(idc_index), -1, dtype=np.int64)
    idc_entra[positions(match["idcUserId"], idc_index)] = positions(match["entraId"], user_index)
    user_idc = np.full(len(user_index), -1, dtype=np.int64)
    user_idc[positions(match["entraId"], user_index)] = positions(match["idcUserId"], idc_index)
    gmatch = model.group_match
    group_entra = np.full(len(idc_groups), -1, dtype=np.int64)
    group_entra[positions(gmatch["idcGroupId"], _unique_index(idc_groups["groupId"]))] = \
        positions(gmatch["entraGroupId"], group_index)

    members = data.table("entra_group_members")
    known = positions(pd.Index(text(members["groupId"]).dropna().unique(), dtype=object), group_index)
    members_known = np.zeros(len(groups), dtype=bool)
    members_known[known[known >= 0]] = True

    enabled = users["accountEnabled"].astype("boolean") if "accountEnabled" in users else \
        pd.array([pd.NA] * len(users), dtype="boolean")
    status = text(idc_users["userStatus"]).str.upper()
    udim = pd.DataFrame({"id": text(users["id"]).to_numpy(), "upn": text(users["userPrincipalName"]).to_numpy(),
                         "display": text(users["displayName"]).to_numpy(),
                         "user_type": text(users["userType"]).to_numpy(), "enabled": enabled, "idc": user_idc})
    # B2B guests: userType Guest, or an #EXT# UPN when userType was not returned
    guest = folded(users["userType"]).eq("guest").fillna(False) | \
        users["userPrincipalName"].astype("string").str.contains("#EXT#", regex=False).fillna(False)
    udim.loc[guest.to_numpy() & udim["user_type"].isna().to_numpy(), "user_type"] = "Guest"
    idim = pd.DataFrame({"userId": text(idc_users["userId"]).to_numpy(),
                         "userName": text(idc_users["userName"]).to_numpy(),
                         "status": status.to_numpy(), "enabled": status.eq("ENABLED").fillna(False).to_numpy(),
                         "scim": _scim_made(data, idc_users), "entra": idc_entra})
    gdim = pd.DataFrame({"groupId": text(idc_groups["groupId"]).to_numpy(),
                         "displayName": text(idc_groups["displayName"]).to_numpy(), "entra": group_entra})
    egdim = pd.DataFrame({"id": text(groups["id"]).to_numpy(), "displayName": text(groups["displayName"]).to_numpy(),
                          "members_known": members_known})

    raw = data.table("idc_account_assignments")
    accounts = accounts_dim(data, raw["accountId"], production)
    sets = sets_dim(data, raw["permissionSetArn"])
    ptype = np.where(text(raw["principalType"]).str.upper().eq("GROUP").fillna(False).to_numpy(), GROUP, USER)
    principal_id = text(raw["principalId"]).to_numpy()
    principal = np.where(ptype == USER, positions(principal_id, idc_index),
                         positions(principal_id, pd.Index(gdim["groupId"], dtype=object)))
    assignments = pd.DataFrame({
        "acc": positions(text(raw["accountId"]), pd.Index(accounts["accountId"], dtype=object)),
        "ps": positions(text(raw["permissionSetArn"]), pd.Index(sets["permissionSetArn"], dtype=object)),
        "ptype": ptype.astype(np.int8), "principal": principal, "principal_id": principal_id,
    }).drop_duplicates(["acc", "ps", "ptype", "principal_id"]).reset_index(drop=True)
    return Dims(udim, idim, gdim, egdim, accounts, sets, assignments)
