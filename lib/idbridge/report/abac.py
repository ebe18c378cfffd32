"""The access review's view of ABAC (docs/abac.md): access whose permission set tests session tags is
conditional — it depends on the tags the person's session carries. One row per person and such permission set
(the accounts where they hold it listed), with the person's values and, per statement, whether their tags let it
apply. The reviewer packs say it per path."""

from __future__ import annotations

import pandas as pd

from idbridge.model import abac
from idbridge.model.abac import conditional_paths
from idbridge.report.safe import Text
from idbridge.snapshot.store import NotCollected


def conditional_access(snapshot, access: pd.DataFrame) -> pd.DataFrame | Text:
    try:
        rows = conditional_paths(access, snapshot)
    except NotCollected as exc:
        return Text("Not checked: {source} was not collected ({why}).", source=exc.source, why=exc.why)
    if rows.empty:
        return Text("No access depends on session tags: no permission set's inline policy tests aws:PrincipalTag.")
    # Tags are the person's and conditions the set's, so every account of one (person, set) reads the same: one
    # row each, its accounts listed, instead of one a path (the demo's DataEngineer paths printed three pages).
    same = ["user_principal_name", "permission_set_name", "tags", "satisfied", "conditions", "held_back"]
    rows = rows.assign(held_back=rows["held_back"].map({True: "yes", False: "no"}).fillna("not known"))
    rows = (rows.groupby(same, sort=False, dropna=False)["account_name"]
            .agg(lambda accounts: ", ".join(sorted(dict.fromkeys(str(a) for a in accounts)))).reset_index())
    return rows[["user_principal_name", "permission_set_name", "account_name", "tags", "satisfied", "conditions",
                 "held_back"]].rename(columns={
        "user_principal_name": "person", "account_name": "accounts", "permission_set_name": "permission set",
        "tags": "this person's tags", "satisfied": "this person", "conditions": "conditions (as far as tags decide)",
        "held_back": "tags hold access back"})


def conditional(snapshot, access: pd.DataFrame) -> abac.ConditionalAccess:
    """Which paths depend on session tags, for the heatmaps and the reviewer packs (never raises NotCollected:
    what was not collected is said in the figure and the cells)."""
    return abac.conditional_access(access, snapshot)
