"""The access review's view of ABAC (docs/abac.md): access whose permission set tests session tags is
conditional — it depends on the tags the person's session carries. One row per such effective path, with the
person's values and, per statement, whether their tags let it apply."""

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
    return rows.drop(columns=["statements", "rules"]).rename(columns={
        "user_principal_name": "person", "account_name": "account", "permission_set_name": "permission set",
        "tags": "this person's tags", "satisfied": "this person", "conditions": "conditions (as far as tags decide)"})


def conditional(snapshot, access: pd.DataFrame) -> abac.ConditionalAccess:
    """Which paths depend on session tags, for the heatmaps and the reviewer packs (never raises NotCollected:
    what was not collected is said in the figure and the cells)."""
    return abac.conditional_access(access, snapshot)
