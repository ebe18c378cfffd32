"""Stand-in snapshots for tests of folders and history: finished, of a given engagement and time, in which every
source was not collected (each table says why it is missing) unless a table is given."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def stand_in_snapshot(folder: Path, collected_at: str, engagement: str,
                      tables: dict[str, tuple[str, pd.DataFrame]] | None = None) -> Path:
    """`tables`: table name -> (source, frame) written as collected; every other source is not collected."""
    from idbridge.snapshot.schema import SOURCES
    from idbridge.snapshot.store import SnapshotWriter

    tables = tables or {}
    writer = SnapshotWriter(folder)
    for name, (source, frame) in tables.items():
        writer.write_table(source, name, frame)
    given = {source for source, _ in tables.values()}
    for source in SOURCES:
        if source.name not in given:
            writer.mark(source.name, "not_collected", error="stand-in", tables=list(source.tables))
    return writer.finish({"engagement": engagement, "collected_at": collected_at})


def _plain(value):
    import numpy as np

    if isinstance(value, np.ndarray):
        return tuple(_plain(v) for v in value.tolist())
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def table_rows(snapshot, table: str) -> list[tuple]:
    """A snapshot table as sorted tuples of reprs (arrays as tuples, NaN as None): two collections of the same
    tenant compare equal whatever the row order."""
    frame: pd.DataFrame = snapshot.table(table)
    return sorted(tuple(repr(_plain(v)) for v in record) for record in frame.itertuples(index=False))
