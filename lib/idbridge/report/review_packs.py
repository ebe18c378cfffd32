"""The reviewer packs of 20_access_review, written with what the engagement's parameters say about the review
(who asks, by when, the signing key, the inactivity period of the recommendations) and the people's sign-ins
from the same snapshot."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from idbridge.checks.runner import CheckResults
from idbridge.model.abac import conditional_access
from idbridge.model.access.build import eligible_access
from idbridge.review import sign_ins, snapshot_meta, write_review_packs
from idbridge.review.signals import INACTIVE_AFTER_DAYS
from idbridge.review.signing import from_parameters


def review_meta(snapshot, params=None) -> dict:
    """snapshot_meta plus the review's deadline and requester from the parameters (review.deadline,
    review.requested_by)."""
    review = getattr(params, "review", None)
    deadline = getattr(review, "deadline", None)
    return snapshot_meta(snapshot, deadline=deadline.isoformat() if deadline else "",
                         requested_by=getattr(review, "requested_by", None) or "")


def write_review_outputs(access: pd.DataFrame, results: CheckResults, snapshot, run_dir, scope: str,
                         owners: dict | None = None, params=None, params_file: str | Path = "parameters",
                         settings=None) -> pd.DataFrame:
    """Reviewer packs (one workbook per reviewer of `scope`) and the access table as CSV + JSON into
    run_dir/review; the table of the files written. Packs cover all access, whatever the notebook's filters. They
    are signed with the key review.signing_key of `params` refers to; without one they are unsigned, and the
    table says so. Eligible access through PIM (never part of `access`) is listed in each pack on a read-only
    sheet. The findings are the run's one artifact (findings.json / findings.csv), not written again."""
    run_dir = Path(run_dir)
    key = from_parameters(params, str(params_file)) if params is not None else None
    meta = review_meta(snapshot, params)
    inactive = getattr(getattr(params, "review", None), "inactive_after_days", INACTIVE_AFTER_DAYS)
    packs = write_review_packs(access, results.findings_frame(), run_dir / "review", scope, owners, meta, key=key,
                               signins=sign_ins(snapshot, settings, inactive),
                               eligible=eligible_access(snapshot, settings),
                               conditional=conditional_access(access, snapshot))
    what = "reviewer pack: fill Decision (Keep / Remove), send it back"
    what += f" by {meta['deadline']}" if meta["deadline"] else " (no review.deadline in the parameters)"
    if key is None:
        what += (" — UNSIGNED (no review.signing_key in the parameters): its decisions could be forged, and "
                 "reading it back needs review.allow_unsigned: true")
    written = [(p, what) for p in packs]
    written += [(run_dir / "review" / f"access.{ext}", "the access table") for ext in ("csv", "json")]
    written += [(path, "every finding of the run (for SIEMs)") for path in
                (run_dir / "findings.csv", run_dir / "findings.json") if path.exists()]
    return pd.DataFrame([{"file": str(p.relative_to(run_dir)) if p.is_relative_to(run_dir) else str(p), "what": w}
                         for p, w in written])


class _Linked:
    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html


def linked(files: pd.DataFrame, reports_dir: str = "reports"):
    """The table of files written, each name a link that opens it from the report (the report sits in
    run_dir/reports, the files in the run folder: the links are relative, so they hold when the folder moves)."""
    from idbridge.report.safe import html_text, local_href, readable

    depth = "../" * len(Path(reports_dir).parts)
    rows = []
    for file, what in zip(files["file"], files["what"]):
        href = local_href(depth + Path(str(file)).as_posix()) if not Path(str(file)).is_absolute() else None
        name = f"<a href='{href}'>{html_text(file)}</a>" if href else html_text(file)
        rows.append(f"<tr><td>{name}</td><td>{html_text(what)}</td></tr>")
    head = "".join(f"<th>{html_text(readable(c))}</th>" for c in ("file", "what"))
    return _Linked(f"<table class='idbridge-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
                   "</table>")
