"""What changed between two snapshots: access gained and lost, new administrators, assignments, findings new and
resolved. The same comparison feeds notebooks/30_changes and `idbridge diff`."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from idbridge.history_access import assignments, grants
from idbridge.parameters import Parameters
from idbridge.snapshot import Snapshot

FINDING_COLUMNS = ["severity", "check_id", "title", "subject", "detail"]
ADMIN_COLUMNS = ["user", "accounts", "via"]


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

    SECTIONS = (("access_gained", "Access gained"), ("access_lost", "Access lost"),
                ("new_admins", "New administrators"), ("admins_gone", "No longer administrators"),
                ("assignments_added", "Account assignments added"),
                ("assignments_removed", "Account assignments removed"),
                ("findings_new", "Findings new"), ("findings_resolved", "Findings resolved"))

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"change": title, "count": len(getattr(self, name))} for name, title in self.SECTIONS])


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


def _findings(snapshot: Snapshot, params: Parameters) -> pd.DataFrame:
    from idbridge.validate import evaluate
    from idbridge.vocabulary import ACCESS_AREAS, VALIDATION_AREAS

    frame = evaluate(snapshot, params, VALIDATION_AREAS + ACCESS_AREAS).findings_frame()
    return frame[FINDING_COLUMNS] if not frame.empty else pd.DataFrame(columns=FINDING_COLUMNS)


def parameters_of(snapshot: Snapshot) -> Parameters:
    """The parameters a snapshot was collected with (recorded in its manifest: references only)."""
    return Parameters.model_validate(snapshot.manifest["parameters"])


def diff_snapshots(before: Snapshot, after: Snapshot, params: Parameters | None = None) -> SnapshotDiff:
    """Compare two snapshots by names. Both are evaluated with the same parameters (the later snapshot's unless
    given), so a changed threshold does not pass for a change in the tenant."""
    params = params or parameters_of(after)
    grants_before, grants_after = grants(before), grants(after)
    key = ["user", "account_id", "permission_set"]
    admins_before, admins_after = _admins(grants_before), _admins(grants_after)
    assign_before, assign_after = assignments(before), assignments(after)
    assign_key = ["principal", "account_id", "permission_set"]
    found_before, found_after = _findings(before, params), _findings(after, params)
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
        if not frame.empty:
            lines += ["", f"{title} ({len(frame)})", _text_table(frame)]
    return "\n".join(lines) + "\n"
