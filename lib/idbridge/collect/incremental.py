"""Incremental collection (collection.incremental): which previous snapshot a run builds on, and whether a source's
stored delta link may be used. Every "no" comes with a reason that goes into the manifest, and the source is then
read in full: an incremental snapshot is only ever one whose completeness can be shown.

Delta links are kept in the manifest (`delta`). They are state, not credentials: each delta request still needs an
access token of the app with the read permissions (the same ones a full read needs), and a link replayed by anyone
else answers 401. What one yields is a subset of the directory data the snapshot beside it already holds in full,
so storing it exposes nothing the snapshot does not; they are kept out of reports and logs all the same (nothing
downstream reads `delta`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from idbridge.clients.graph.delta import TOKEN_LIFETIME_DAYS
from idbridge.core.parameters import Parameters
from idbridge.snapshot.store import MANIFEST, Snapshot


def _candidates(params: Parameters) -> list[Path]:
    """Snapshot folders of the engagement in both layouts: <root>/<engagement>/<time>/snapshot (idbridge run) and
    <root>/<engagement>/snapshots/<time> (idbridge collect)."""
    base = Path(params.run_root) / params.engagement
    if not base.is_dir():
        return []
    found = [p.parent for p in base.glob(f"*/snapshot/{MANIFEST}")]
    found += [p.parent for p in base.glob(f"snapshots/*/{MANIFEST}")]
    return found


def find_previous(params: Parameters, now: datetime, exclude: Path | None = None) -> tuple[Snapshot | None, str]:
    """The newest readable snapshot of the same engagement and tenant collected before `now`, or None and why."""
    best: tuple[str, Snapshot] | None = None
    skipped = 0
    for folder in _candidates(params):
        if exclude is not None and folder.resolve() == Path(exclude).resolve():
            continue
        try:
            snapshot = Snapshot(folder)
        except Exception:  # an unreadable earlier snapshot is not one to build on
            skipped += 1
            continue
        manifest = snapshot.manifest
        if manifest.get("engagement") != params.engagement or manifest.get("tenant_id") != params.graph.tenant_id:
            skipped += 1
            continue
        when = str(manifest.get("collected_at", ""))
        try:
            if datetime.fromisoformat(when) >= now:
                continue
        except ValueError:
            skipped += 1
            continue
        if best is None or when > best[0]:
            best = (when, snapshot)
    if best is None:
        where = Path(params.run_root) / params.engagement
        extra = f" ({skipped} unreadable or of another engagement/tenant)" if skipped else ""
        return None, f"no earlier snapshot of engagement {params.engagement!r} under {where}{extra}"
    return best[1], f"builds on {best[1].directory}"


def usable_link(previous: Snapshot | None, previous_why: str | None, source: str, query: str,
                now: datetime, needs: tuple[str, ...] = ()) -> tuple[dict | None, str]:
    """The previous snapshot's delta link record for `source` when it may be used, else None and why not."""
    if previous is None:
        return None, previous_why or "no previous snapshot"
    for name in (source, *needs):
        status, _error = previous.status(name)
        if status != "complete":
            return None, f"the previous snapshot's {name} is {status.replace('_', ' ')}"
    record = (previous.manifest.get("delta") or {}).get(source)
    if not isinstance(record, dict) or not record.get("link"):
        return None, "the previous snapshot holds no delta link for it (collected without collection.incremental)"
    if record.get("query") != query:
        return None, "the properties tracked changed since the previous snapshot"
    try:
        taken = datetime.fromisoformat(str(record.get("taken_at")))
    except ValueError:
        return None, "the previous delta link has no readable time"
    if now - taken > timedelta(days=TOKEN_LIFETIME_DAYS):
        return None, (f"the previous delta link is {(now - taken).days} days old; Graph keeps directory change "
                      f"tracking {TOKEN_LIFETIME_DAYS} days")
    return record, "previous delta link"
