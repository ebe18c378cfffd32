"""What changed between two snapshots: access gained and lost, new administrators, assignments, findings new and
resolved. The same comparison feeds notebooks/30_changes and `idbridge diff`.

Snapshots taken weeks apart may be of a re-created instance: ids and ARNs may differ, so every row is keyed by
names (user name, account id, permission set name). "Access" is the access model's (model.access): the effective
paths, the same rows the access review shows; findings are each run's one evaluation (checks.artifact).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from idbridge.checks.artifact import evaluation_for
from idbridge.checks.evaluate import Evaluation
from idbridge.checks.settings import settings_for
from idbridge.core.parameters import Parameters
from idbridge.model.access.build import build_access
from idbridge.snapshot.store import NotCollected, Snapshot

FINDING_COLUMNS = ["severity", "check_id", "title", "subject", "detail"]
ADMIN_COLUMNS = ["user", "accounts", "via"]
GRANT_COLUMNS = ["user", "account_id", "account_name", "permission_set", "admin", "via"]
ASSIGNMENT_COLUMNS = ["principal", "account_id", "account_name", "permission_set"]


@dataclass
class SnapshotDiff:
    before: str                       # collection times of the two snapshots
    after: str
    access_gained: pd.DataFrame
    access_lost: pd.DataFrame
    new_admins: pd.DataFrame
    admins_gone: pd.DataFrame
    assignments_added: pd.DataFrame
    assignments_removed: pd.DataFrame
    findings_new: pd.DataFrame
    findings_resolved: pd.DataFrame
    not_compared: dict[str, str] = field(default_factory=dict)   # section -> why (data not collected)

    SECTIONS = (("access_gained", "Access gained"), ("access_lost", "Access lost"),
                ("new_admins", "New administrators"), ("admins_gone", "No longer administrators"),
                ("assignments_added", "Account assignments added"),
                ("assignments_removed", "Account assignments removed"),
                ("findings_new", "Findings new"), ("findings_resolved", "Findings resolved"))

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"change": title, "count": (f"not compared: {self.not_compared[name]}"
                                                         if name in self.not_compared else len(getattr(self, name)))}
                             for name, title in self.SECTIONS])


def _only_in(left: pd.DataFrame, right: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Rows of `left` whose key is not in `right`."""
    if left.empty:
        return left.copy()
    marked = left.merge(right[key].drop_duplicates(), on=key, how="left", indicator=True)
    return marked[marked["_merge"] == "left_only"].drop(columns="_merge").reset_index(drop=True)


def _admins(frame: pd.DataFrame) -> pd.DataFrame:
    admin = frame[frame["admin"]]
    if admin.empty:
        return pd.DataFrame(columns=ADMIN_COLUMNS)
    return (admin.groupby("user", as_index=False)
            .agg(accounts=("account_name", lambda a: ", ".join(sorted(set(a)))),
                 via=("via", lambda v: ", ".join(sorted(set(", ".join(v).split(", ")))))))


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


def grants(snapshot: Snapshot, params: Parameters) -> pd.DataFrame:
    """One row per person × account × permission set that AWS grants (the access model's effective paths), with
    the Identity Center principals it comes through (`via`) and whether the set is at the admin level."""
    access = build_access(snapshot, settings_for(params, snapshot.manifest.get("collected_at")))
    held = access[access["effective"].to_numpy(dtype=bool)]
    if held.empty:
        return pd.DataFrame(columns=GRANT_COLUMNS)
    rows = pd.DataFrame({
        "user": held["idc_user_name"].astype(object), "account_id": held["account_id"].astype(object),
        "account_name": held["account_name"].astype(object).fillna(""),
        "permission_set": held["permission_set_name"].astype(object),
        "admin": (held["privilege"].astype(object) == "admin").to_numpy(),
        "via": (held["idc_principal_type"].astype(object).str.lower() + ":"
                + held["idc_principal_name"].astype(object).fillna("")).to_numpy()})
    grouped = (rows.groupby(["user", "account_id", "account_name", "permission_set"], as_index=False)
               .agg(admin=("admin", "any"), via=("via", lambda p: ", ".join(sorted(set(p))))))
    return grouped[GRANT_COLUMNS].sort_values(["user", "account_id", "permission_set"]).reset_index(drop=True)


def _findings(evaluation: Evaluation) -> pd.DataFrame:
    frame = evaluation.results.findings_frame()
    return frame[FINDING_COLUMNS] if not frame.empty else pd.DataFrame(columns=FINDING_COLUMNS)


def _run_dir_of(snapshot: Snapshot):
    """The run folder a snapshot belongs to, when it is a run's `snapshot/` (its evaluation is kept there)."""
    folder = snapshot.directory.parent
    return folder if snapshot.directory.name == "snapshot" and (folder / "findings.json").exists() else None


def parameters_of(snapshot: Snapshot) -> Parameters:
    """The parameters a snapshot was collected with (recorded in its manifest: references only)."""
    return Parameters.model_validate(snapshot.manifest["parameters"])


def diff_snapshots(before: Snapshot, after: Snapshot, params: Parameters | None = None) -> SnapshotDiff:
    """Compare two snapshots by names. The findings of both are under the same parameters (the later snapshot's
    unless given), so a changed threshold does not pass for a change in the tenant: a run's kept evaluation is
    read when it was made under these parameters, else the snapshot is evaluated again (nothing is written)."""
    params = params or parameters_of(after)
    not_compared: dict[str, str] = {}

    def both(function, *sections):
        try:
            return function(before), function(after)
        except NotCollected as exc:
            for section in sections:
                not_compared[section] = str(exc)
            return pd.DataFrame(), pd.DataFrame()

    grants_before, grants_after = both(lambda s: grants(s, params), "access_gained", "access_lost", "new_admins",
                                       "admins_gone")
    key = ["user", "account_id", "permission_set"]
    admins_before, admins_after = ((_admins(grants_before), _admins(grants_after)) if "new_admins" not in not_compared
                                   else (pd.DataFrame(), pd.DataFrame()))
    assign_before, assign_after = both(assignments, "assignments_added", "assignments_removed")
    assign_key = ["principal", "account_id", "permission_set"]
    found_before, found_after = (_findings(evaluation_for(s, params, _run_dir_of(s), write=False))
                                 for s in (before, after))
    finding_key = ["check_id", "subject"]
    return SnapshotDiff(
        before=before.manifest.get("collected_at", str(before.directory)),
        after=after.manifest.get("collected_at", str(after.directory)),
        access_gained=_only_in(grants_after, grants_before, key),
        access_lost=_only_in(grants_before, grants_after, key),
        new_admins=_only_in(admins_after, admins_before, ["user"]),
        admins_gone=_only_in(admins_before, admins_after, ["user"]),
        assignments_added=_only_in(assign_after, assign_before, assign_key),
        assignments_removed=_only_in(assign_before, assign_after, assign_key),
        findings_new=_only_in(found_after, found_before, finding_key),
        findings_resolved=_only_in(found_before, found_after, finding_key),
        not_compared=not_compared,
    )


def _text_table(frame: pd.DataFrame, max_width: int = 60) -> str:
    """Left-aligned columns, cells cut at max_width: one line per row whatever the terminal (pandas would
    right-align text and wrap wide frames into blocks)."""
    def cell(value) -> str:
        text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    rows = [[str(c) for c in frame.columns]] + [[cell(v) for v in row] for row in frame.itertuples(index=False)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(frame.columns))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def format_text(diff: SnapshotDiff) -> str:
    """The comparison as plain-text tables (what `idbridge diff` prints)."""
    lines = [f"Changes from the snapshot of {diff.before} to that of {diff.after}", "",
             _text_table(diff.summary())]
    for name, title in SnapshotDiff.SECTIONS:
        frame = getattr(diff, name)
        if name in diff.not_compared:
            lines += ["", f"{title}: not compared, {diff.not_compared[name]}"]
        elif not frame.empty:
            lines += ["", f"{title} ({len(frame)})", _text_table(frame)]
    return "\n".join(lines) + "\n"
