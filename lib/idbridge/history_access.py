"""What Identity Center grants, per person, read from one snapshot: the side of history that compares access.

History compares two snapshots taken weeks apart, possibly of a re-created instance: ids and ARNs may differ, so
every row is keyed by names (user name, account id, permission set name). The grant is what AWS enforces today:
an account assignment to the user, or to an Identity Center group the user is a member of.
"""

from __future__ import annotations

import pandas as pd

from idbridge.snapshot import Snapshot

GRANT_COLUMNS = ["user", "account_id", "account_name", "permission_set", "admin", "via"]
ASSIGNMENT_COLUMNS = ["principal", "account_id", "account_name", "permission_set"]


def admin_permission_sets(snapshot: Snapshot) -> set[str]:
    """Names of the permission sets at the access model's `admin` level (model/privilege.py), so that "new
    administrators" here means what it means in the access review."""
    from idbridge.model.privilege import permission_set_levels

    levels = permission_set_levels(snapshot)
    return set(levels.loc[levels["privilege"] == "admin", "name"])


def _named_assignments(snapshot: Snapshot) -> pd.DataFrame:
    assignments = snapshot.table("idc_account_assignments")
    sets = snapshot.table("idc_permission_sets").set_index("permissionSetArn")["name"]
    accounts = snapshot.table("org_accounts").set_index("accountId")["name"]
    users = snapshot.table("idc_users").set_index("userId")["userName"]
    groups = snapshot.table("idc_groups").set_index("groupId")["displayName"]
    frame = assignments.copy()
    frame["permission_set"] = frame["permissionSetArn"].map(sets).fillna(frame["permissionSetArn"])
    frame["account_name"] = frame["accountId"].map(accounts).fillna("")
    is_user = frame["principalType"] == "USER"
    frame["name"] = frame["principalId"].map(users).where(is_user, frame["principalId"].map(groups))
    # A principal id that no longer exists (orphaned assignment) is kept, named by its id.
    frame["principal"] = (frame["principalType"].str.lower() + ":"
                          + frame["name"].fillna("(deleted) " + frame["principalId"]))
    return frame


def assignments(snapshot: Snapshot) -> pd.DataFrame:
    """Account assignments by name: principal (user:NAME / group:NAME), account, permission set."""
    frame = _named_assignments(snapshot).rename(columns={"accountId": "account_id"})
    return (frame[ASSIGNMENT_COLUMNS].drop_duplicates()
            .sort_values(ASSIGNMENT_COLUMNS).reset_index(drop=True))


def grants(snapshot: Snapshot) -> pd.DataFrame:
    """One row per person × account × permission set that Identity Center grants, with the principals it comes
    through (`via`) and whether the permission set is administrator access."""
    frame = _named_assignments(snapshot)
    users = snapshot.table("idc_users").set_index("userId")["userName"]
    members = snapshot.table("idc_group_memberships")[["groupId", "userId"]]
    direct = frame[frame["principalType"] == "USER"].assign(userId=lambda f: f["principalId"])
    via_group = frame[frame["principalType"] == "GROUP"].merge(members, left_on="principalId", right_on="groupId")
    rows = pd.concat([direct, via_group], ignore_index=True)
    rows["user"] = rows["userId"].map(users)
    rows = rows.dropna(subset=["user"])
    if rows.empty:
        return pd.DataFrame(columns=GRANT_COLUMNS)
    admin = admin_permission_sets(snapshot)
    grouped = (rows.groupby(["user", "accountId", "account_name", "permission_set"], as_index=False)
               .agg(via=("principal", lambda p: ", ".join(sorted(set(p))))))
    grouped["admin"] = grouped["permission_set"].isin(admin)
    grouped = grouped.rename(columns={"accountId": "account_id"})
    return grouped[GRANT_COLUMNS].sort_values(["user", "account_id", "permission_set"]).reset_index(drop=True)
