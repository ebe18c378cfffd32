"""Open the snapshot a notebook works on: the one named in its parameters, or a new collection."""

from __future__ import annotations

from pathlib import Path

from idbridge.core.files import atomic_path
from idbridge.core.parameters import Parameters
from idbridge.snapshot.store import Snapshot


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


ACCESS_TABLE = "access.parquet"


def write_access_table(snapshot: Snapshot, settings, run_dir: str | Path) -> Path:
    """The run's access table (model.access), written once so that every notebook of the run shows the same
    rows without building the model again."""
    from idbridge.model.access.build import build_access

    path = Path(run_dir) / ACCESS_TABLE
    table = build_access(snapshot, settings)
    with atomic_path(path) as partial:
        table.to_parquet(partial, index=False)
    return path


def open_access(snapshot: Snapshot, settings, run_dir: str | Path | None):
    """The access table of the run (written by `idbridge run` for this snapshot), else built from the snapshot
    (a notebook run on its own in JupyterLab)."""
    import pandas as pd

    from idbridge.model.access.build import build_access

    path = Path(run_dir) / ACCESS_TABLE if run_dir else None
    if path is not None and path.exists() and Path(snapshot.directory).resolve() == (Path(run_dir) / "snapshot").resolve():
        return pd.read_parquet(path)
    return build_access(snapshot, settings)
