"""Reading the access table: one path explained hop by hop, who reaches what, and privilege matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _v(row: pd.Series, column: str):
    value = row.get(column)
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value


def _person(row: pd.Series) -> str:
    upn, name = _v(row, "user_principal_name"), _v(row, "user_display_name")
    if upn:
        kind = "guest" if str(_v(row, "user_type") or "").lower() == "guest" else "member"
        state = _v(row, "entra_state") or "active"
        return f"Entra user {name or upn} ({upn}; {kind}, {state} in Entra)."
    idc_name = _v(row, "idc_user_name")
    why = {"deleted": "its Entra user was deleted after it was provisioned (SCIM made it)",
           "not_in_entra": "it was created in Identity Center, not by SCIM"}.get(_v(row, "entra_state"), "")
    return f"Identity Center user {idc_name} has no Entra user: {why}." if idc_name else ""


def _idc_user(row: pd.Series) -> str:
    name, status = _v(row, "idc_user_name"), _v(row, "idc_user_status")
    if name:
        return f"Identity Center user {name} ({status})"
    return "no Identity Center user"


def _assignment(row: pd.Series) -> str:
    principal = _v(row, "idc_principal_name") or _v(row, "idc_principal_id")
    kind = "group" if _v(row, "idc_principal_type") == "GROUP" else "user"
    return (f"Identity Center {kind} {principal} is assigned permission set {_v(row, 'permission_set_name')} "
            f"on account {_v(row, 'account_name') or _v(row, 'account_id')}.")


def _permission_set(row: pd.Series) -> str:
    parts = [f"{_v(row, 'permission_set_name')} grants {_v(row, 'privilege')}"]
    if _v(row, "reasons"):
        parts[0] += f" ({_v(row, 'reasons')})"
    if _v(row, "session_duration"):
        parts.append(f"sessions of {_v(row, 'session_duration')}")
    parts.append(f"boundary {_v(row, 'boundary')}" if _v(row, "boundary") else "no permissions boundary")
    return "; ".join(parts) + "."


def _account(row: pd.Series) -> str:
    ou = _v(row, "ou_path")
    where = f"OU {ou}" if ou else "the organisation root"
    tags = _v(row, "account_tags")
    production = "production" if bool(row.get("is_production")) else "not production"
    return (f"Account {_v(row, 'account_name') or '(name unknown)'} ({_v(row, 'account_id')}) sits in {where}"
            f"{', tags ' + tags if tags else ''}: {production}.")


def _outcome(row: pd.Series) -> str:
    kind = _v(row, "path_kind")
    if bool(row.get("effective")):
        state = _v(row, "entra_state")
        extra = f", although the user is {state} in Entra" if state in ("disabled", "deleted") else ""
        return f"Effective: AWS grants this access today{extra}."
    if kind == "orphaned":
        return "Not effective: nobody gets access through an assignment to a principal that no longer exists."
    if kind == "nested_group":
        return "Not effective: Entra suggests this access, AWS never grants it."
    if not _v(row, "idc_user_id"):
        return "Not effective: the user is not in Identity Center (not provisioned yet, or refused by SCIM)."
    if _v(row, "idc_user_status") != "ENABLED":
        return f"Not effective: the Identity Center user is {_v(row, 'idc_user_status')}."
    return (f"Not effective: Identity Center does not list the user as a member of {_v(row, 'idc_principal_name')} "
            "yet (the next provisioning cycle adds it).")


def explain(access: pd.DataFrame, path_id: str) -> list[str]:
    """The path as sentences, one per hop, ending with whether AWS grants it."""
    rows = access[access["path_id"] == path_id]
    if rows.empty:
        raise KeyError(f"no path {path_id!r} in this access table")
    row = rows.iloc[0]
    kind = _v(row, "path_kind")
    group = _v(row, "entra_group_name")
    principal = _v(row, "idc_principal_name")
    if kind == "orphaned":
        account = _v(row, "account_name") or _v(row, "account_id")
        principal_type = str(_v(row, "idc_principal_type")).lower()
        sentences = [f"An account assignment of {_v(row, 'permission_set_name')} on account {account} names "
                     f"{principal_type} id {_v(row, 'idc_principal_id')}, which Identity Center no longer has "
                     "(deleted, or deleted and created again under a new id)."]
    elif kind == "direct_user":
        sentences = [_person(row), f"Provisioned by SCIM as {_idc_user(row)}.", _assignment(row)]
    elif kind == "group":
        member = ", a member of the group." if bool(row.get("effective")) else "."
        in_idc = f"In Identity Center: {_idc_user(row)}{member}" if _v(row, "idc_user_name") else \
            "Identity Center has no user for them."
        sentences = [_person(row), f"Direct member of Entra group {group}, which Identity Center holds as group "
                                   f"{principal}.", in_idc, _assignment(row)]
    elif kind == "nested_group":
        nested = _v(row, "nested_group_name")
        through = f"member of Entra group {nested}, nested in {group}" if nested else \
            f"member of a group nested in {group}"
        sentences = [_person(row), f"Not a direct member of {group}: {through}.",
                     "SCIM provisions only the direct members of assigned groups and Identity Center has no nested "
                     f"groups, so the user is never a member of Identity Center group {principal}.", _assignment(row)]
    else:  # idc_only
        via = "directly" if _v(row, "idc_principal_type") == "USER" else f"as a member of group {principal}"
        first = _person(row)
        if _v(row, "entra_user_id"):
            first += (f" Identity Center holds this access for {_idc_user(row)} {via}, but Entra does not explain it "
                      "(no longer a direct member in Entra, or the principal was made in Identity Center by hand).")
        else:
            first += f" It holds this access {via}."
        sentences = [first, _assignment(row)]
    sentences += [_permission_set(row), _account(row), _outcome(row)]
    return [s for s in sentences if s]


def matches(column: pd.Series, value: str) -> np.ndarray:
    """Case-insensitive equality as a bool array; on a categorical, computed once per category (a path table
    repeats a few thousand names over millions of rows)."""
    wanted = str(value).casefold()
    if isinstance(column.dtype, pd.CategoricalDtype):
        hit = np.asarray(pd.Index(column.cat.categories.astype(str)).str.casefold() == wanted, dtype=bool)
        return np.append(hit, False)[column.cat.codes.to_numpy()]  # code -1 (missing) reads the appended False
    return column.astype("string").str.casefold().eq(wanted).fillna(False).to_numpy(dtype=bool)


def among_values(column: pd.Series, values) -> np.ndarray:
    """column.isin(values) as a bool array; on a categorical, computed once per category."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        hit = pd.Index(column.cat.categories, dtype=object).isin(list(values))
        codes = column.cat.codes.to_numpy()
        return np.append(hit, False)[codes]
    return column.isin(list(values)).to_numpy(dtype=bool)


def who_can_reach(access: pd.DataFrame, account: str | None = None, group: str | None = None,
                  user: str | None = None, *, effective: bool = True) -> pd.DataFrame:
    """Paths filtered by account (id or name), group (Entra or Identity Center group, nested group, name or id)
    and user (UPN, Identity Center user name or either id); effective ones only unless effective=False."""
    mask = access["effective"].to_numpy(dtype=bool).copy() if effective else np.ones(len(access), dtype=bool)
    if account is not None:
        mask &= matches(access["account_id"], account) | matches(access["account_name"], account)
    if group is not None:
        is_group = (access["idc_principal_type"] == "GROUP").to_numpy()
        hit = matches(access["entra_group_name"], group) | matches(access["entra_group_id"], group) | \
            matches(access["nested_group_name"], group) | matches(access["nested_group_id"], group)
        hit = hit | (is_group & (matches(access["idc_principal_name"], group)
                                 | matches(access["idc_principal_id"], group)))
        mask &= hit
    if user is not None:
        mask &= (matches(access["user_principal_name"], user) | matches(access["idc_user_name"], user)
                 | matches(access["entra_user_id"], user) | matches(access["idc_user_id"], user))
    return access[mask].reset_index(drop=True)


def coalesce(first: pd.Series, second: pd.Series) -> pd.Series:
    """first, else second, as one categorical (no Python string per row)."""
    first, second = first.astype("category"), second.astype("category")
    categories = first.cat.categories.union(second.cat.categories)
    return first.cat.set_categories(categories).fillna(second.cat.set_categories(categories))


def highest_privilege_matrix(access: pd.DataFrame, by: str = "user") -> pd.DataFrame:
    """Rows (users: UPN, else Identity Center user name; groups: Identity Center group) × accounts (name, else
    id); value = the highest privilege_rank among effective paths, 0 where there is none."""
    if by not in ("user", "group"):
        raise ValueError('by is "user" or "group"')
    paths = access[access["effective"].to_numpy(dtype=bool)]
    if by == "group":
        paths = paths[(paths["idc_principal_type"] == "GROUP").to_numpy()]
        rows = paths["idc_principal_name"]
    else:
        rows = coalesce(paths["user_principal_name"], paths["idc_user_name"])
    columns = coalesce(paths["account_name"], paths["account_id"])
    if paths.empty:
        return pd.DataFrame(dtype="int8")
    ranks = paths["privilege_rank"].groupby([rows.rename(by), columns.rename("account")], observed=True).max()
    matrix = ranks.unstack("account", fill_value=0).astype("int8")
    return matrix.sort_index().sort_index(axis=1)
