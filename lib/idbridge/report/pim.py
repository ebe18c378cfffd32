"""Admin in production, now and just in time: who holds admin-level access to a production account today
(effective paths, however their membership is held), and who could get it by activating a PIM for Groups
eligibility (the access model's eligible paths). "Admin" and "production" are the access table's: privilege
admin (model/privilege.py), is_production from checks.production (tags / OUs in the parameters)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from idbridge.model.access.build import access_model
from idbridge.report.safe import Text
from idbridge.snapshot.store import NotCollected

COLUMNS = ["person", "accounts", "permission set", "through group", "held as", "until"]


def _admin_in_production(rows: pd.DataFrame) -> pd.DataFrame:
    keep = rows["privilege"].astype(object).eq("admin").to_numpy() & rows["is_production"].to_numpy(dtype=bool)
    return rows[keep]


def _group(rows: pd.DataFrame) -> pd.Series:
    """The group a path comes through, as a reviewer names it."""
    kind = rows["path_kind"].astype(object)
    group = rows["entra_group_name"].astype(object)
    nested = rows["nested_group_name"].astype(object) + " (nested in " + group + ")"
    idc = rows["idc_principal_name"].astype(object) + " (Identity Center only)"
    return pd.Series(np.select([kind.eq("nested_group"), kind.isin(["group", "eligible"]),
                                kind.eq("idc_only") & rows["idc_principal_type"].astype(object).eq("GROUP")],
                               [nested, group, idc], "none: assigned directly"), index=rows.index)


def _table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per person, permission set, group and way of holding it, with the accounts it reaches (a
    production admin group reaches many accounts: one line each would bury the people)."""
    held = rows["membership"].astype(object).fillna("—")
    parts = held.str.partition(" until ")  # "active (PIM) until 2026-…" -> state, until
    state, until = parts[0], parts[2]
    person = rows["user_principal_name"].astype(object).fillna(rows["idc_user_name"].astype(object))
    paths = pd.DataFrame({"person": person.fillna(""), "accounts": rows["account_name"].astype(object).fillna(
        rows["account_id"].astype(object)), "permission set": rows["permission_set_name"].astype(object).fillna(""),
        "through group": _group(rows), "held as": state, "until": until}, columns=COLUMNS)
    keys = [c for c in COLUMNS if c != "accounts"]
    table = paths.groupby(keys, sort=True, dropna=False)["accounts"].agg(lambda a: ", ".join(sorted(set(a))))
    return table.reset_index()[COLUMNS]


def admins_in_production(access: pd.DataFrame) -> pd.DataFrame | Text:
    """Who is admin in production today: every effective path of admin level to a production account."""
    held = access[access["effective"].to_numpy(dtype=bool)]
    rows = _admin_in_production(held)
    if rows.empty:
        return Text("Nobody holds admin-level access to a production account today.")
    return _table(rows)


def could_become_admins_in_production(snapshot, settings, access: pd.DataFrame | None = None) -> pd.DataFrame | Text:
    """Who could become admin in production today: eligible paths (PIM for Groups) of admin level to a
    production account, with "held as" eligible and until when the eligibility lasts. Says so when PIM was not
    collected, and what eligible access there is when none of it is admin in production."""
    model = access_model(snapshot, settings)
    if isinstance(model.pim, NotCollected):
        return Text("Not known: {source} was not collected ({why}), so eligible access through PIM for Groups "
                    "cannot be listed.", source=model.pim.source, why=model.pim.why)
    eligible = model.eligible
    rows = _admin_in_production(eligible)
    if not rows.empty:
        return _table(rows)
    if eligible.empty:
        return Text("Nobody could become admin in production through PIM: no one is eligible for a provisioned "
                    "group that holds AWS access without holding it already.")
    people = eligible["user_principal_name"].astype(object).nunique()
    highest = eligible.sort_values("privilege_rank", ascending=False).iloc[0]
    return Text("Nobody could become admin in production through PIM. Eligible access in all: {people} "
                "{noun}, {paths} paths, at most {level} (e.g. {ps} on {account} through {group}).",
                people=people, noun="person" if people == 1 else "people", paths=len(eligible),
                level=str(highest["privilege"]), ps=str(highest["permission_set_name"]),
                account=str(highest["account_name"]), group=str(highest["entra_group_name"]))
