"""Open the snapshot a notebook works on: the one named in its parameters, or a new collection."""

from __future__ import annotations

from pathlib import Path

from idbridge.parameters import Parameters
from idbridge.snapshot import Snapshot


def open_snapshot(params: Parameters, snapshot_dir: str | None, run_dir: str | Path) -> Snapshot:
    """An existing snapshot when `snapshot_dir` is given; else the run folder's own, collected on first use so
    that every notebook of one run reads the same data."""
    if snapshot_dir:
        return Snapshot(snapshot_dir)
    target = Path(run_dir) / "snapshot"
    if not (target / "manifest.json").exists():
        from idbridge.collect.run import collect

        collect(params, target)
    return Snapshot(target)


def sources_table(snapshot: Snapshot):
    import pandas as pd

    rows = [{"source": name, "status": record["status"].replace("_", " "),
             "rows": sum(record["rows"].values()), "why": record["error"] or ""}
            for name, record in snapshot.sources.items()]
    return pd.DataFrame(rows, columns=["source", "status", "rows", "why"])
