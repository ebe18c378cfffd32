"""The access table indexed for planning removals: its text columns cleaned once, rows by path_id, and paths
grouped by the write that would end them (a dict lookup per removal, not a scan of a table of millions)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from idbridge.review.layout import clean

_COLUMNS = ("path_id", "path_kind", "entra_user_id", "user_principal_name", "entra_group_id", "entra_group_name",
            "nested_group_id", "nested_group_name", "idc_principal_type", "idc_principal_id", "idc_principal_name",
            "idc_user_id", "idc_user_name", "account_id", "account_name", "permission_set_arn", "permission_set_name")


def _text(series: pd.Series) -> np.ndarray:
    """Stripped strings, '' for missing (the model's categoricals are mapped per category, then taken)."""
    return series.map(clean).astype(object).to_numpy()


class PathIndex:
    """Built once per plan."""
    def __init__(self, access: pd.DataFrame):
        c = {name: _text(access[name]) for name in _COLUMNS}
        c["idc_principal_type"] = np.array([v.upper() for v in c["idc_principal_type"]], dtype=object)
        self.columns = c
        self.position = {p: i for i, p in enumerate(c["path_id"])}
        kind = c["path_kind"]
        member_of = np.where(kind == "group", c["entra_group_id"],
                             np.where(kind == "nested_group", c["nested_group_id"], ""))
        person = np.where(c["entra_user_id"] != "", c["entra_user_id"], c["idc_user_id"])
        idc_group = np.where(c["idc_principal_type"] == "GROUP", c["idc_principal_id"], "")
        self.entra_membership = _Grouped(c["path_id"], c["entra_user_id"], member_of)
        self.assignment = _Grouped(c["path_id"], c["account_id"], c["permission_set_arn"], c["idc_principal_type"],
                                   c["idc_principal_id"])
        self.idc_membership = _Grouped(c["path_id"], c["idc_user_id"], idc_group)
        self.target = list(zip(person, c["account_id"], c["permission_set_arn"]))
        self.by_target = _Grouped(c["path_id"], person, c["account_id"], c["permission_set_arn"])
        self.direct_by_user = _Grouped(c["path_id"], np.where(kind == "direct_user", c["entra_user_id"], ""))

    def __contains__(self, path_id: str) -> bool:
        return path_id in self.position

    def row(self, path_id: str) -> dict[str, str]:
        i = self.position[path_id]
        return {name: values[i] for name, values in self.columns.items()}

    def same_target(self, path_id: str) -> list[str]:
        """Paths of the same person to the same account and permission set (path_id's own included)."""
        return self.by_target.get(self.target[self.position[path_id]], [])

    def describe(self, path_id: str) -> str:
        """'alice@contoso.com: ReadOnly on data-prod (111122223333) via group AWS-Data-ReadOnly'."""
        r = self.row(path_id)
        via = {"group": f"via group {r['entra_group_name']}",
               "nested_group": f"via {r['nested_group_name']} in {r['entra_group_name']}",
               "direct_user": "assigned directly", "idc_only": f"Identity Center only ({r['idc_principal_name']})",
               "orphaned": "orphaned assignment"}.get(r["path_kind"], r["path_kind"])
        return (f"{who(r)}: {r['permission_set_name']} on {r['account_name'] or r['account_id']} "
                f"({r['account_id']}) {via}")


def who(row: dict) -> str:
    return (row["user_principal_name"] or row["idc_user_name"] or row["idc_principal_name"]
            or row["idc_principal_id"])


class _Grouped:
    """key (a value, or a tuple of values) -> path_ids, for rows whose key parts are all non-empty; ids are taken
    only for the keys looked up."""

    def __init__(self, path_ids: np.ndarray, *keys: np.ndarray):
        full = np.logical_and.reduce([k != "" for k in keys])
        self.ids = path_ids[full]
        frame = pd.DataFrame({n: k[full] for n, k in enumerate(keys)})
        self.positions = frame.groupby(list(frame.columns), sort=False).indices if full.any() else {}

    def get(self, key, default=None):
        found = self.positions.get(key)
        return default if found is None else list(self.ids[found])

