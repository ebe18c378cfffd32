"""Snapshots: one folder per collection, one Parquet table per entity and a manifest.

Analysis and reports run from a snapshot alone — no credentials, no network. A source that could not be
collected has no table at all and a manifest entry saying why; reading its table raises NotCollected, so an
uncollected source can never pass for an empty one.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import pandas as pd

from idbridge.core.files import storage_error, write_text_atomic
from idbridge.errors import InputError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SourceStatus = Literal["complete", "partial", "not_collected"]


class NotCollected(Exception):
    """The table's source was not collected; `why` says what went wrong (denied, unlicensed, failing)."""

    def __init__(self, source: str, why: str):
        self.source = source
        self.why = why
        super().__init__(f"{source}: not collected: {why}")


@dataclass
class SourceRecord:
    status: SourceStatus
    tables: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    seconds: float | None = None


class SnapshotWriter:
    """Writes into `<dir>.partial` and renames it into place at `finish()`, so a crashed or interrupted
    collection leaves no folder that looks complete."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        if self.directory.exists():
            raise FileExistsError(f"{self.directory} already exists; snapshots are never overwritten")
        self.partial = self.directory.with_name(self.directory.name + ".partial")
        shutil.rmtree(self.partial, ignore_errors=True)
        self.partial.mkdir(parents=True)
        self.sources: dict[str, SourceRecord] = {}
        self.table_source: dict[str, str] = {}

    def write_table(self, source: str, name: str, frame: pd.DataFrame) -> None:
        frame.to_parquet(self.partial / f"{name}.parquet", index=False)
        record = self.sources.setdefault(source, SourceRecord(status="complete"))
        record.tables.append(name)
        record.rows[name] = len(frame)
        self.table_source[name] = source

    def mark(self, source: str, status: SourceStatus, error: str | None = None, seconds: float | None = None,
             tables: list[str] = ()) -> None:
        """Record how a source ended. `tables` names the tables the source would have written, so that
        reading one of them from the snapshot says why it is missing."""
        record = self.sources.setdefault(source, SourceRecord(status=status))
        record.status = status
        record.error = error
        record.seconds = seconds
        for name in tables:
            if name not in record.tables:
                record.tables.append(name)
            self.table_source[name] = source
        if status == "not_collected":
            # Drop any table a failed source managed to write: half a table must not pass for the whole.
            for name in record.tables:
                (self.partial / f"{name}.parquet").unlink(missing_ok=True)
            record.rows = {}

    def finish(self, manifest: dict) -> Path:
        body = {
            "format": FORMAT_VERSION,
            **manifest,
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "sources": {name: record.__dict__ for name, record in sorted(self.sources.items())},
            "tables": dict(sorted(self.table_source.items())),
        }
        # The manifest last, whole (a reader takes its presence for a finished snapshot), then the folder renamed.
        write_text_atomic(self.partial / MANIFEST, json.dumps(body, indent=2, default=str))
        os.replace(self.partial, self.directory)
        return self.directory

    def abandon(self) -> None:
        shutil.rmtree(self.partial, ignore_errors=True)


class Snapshot:
    """A finished snapshot on disk."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        manifest_path = self.directory / MANIFEST
        if not manifest_path.exists():
            raise InputError(self.directory, f"not a snapshot: {MANIFEST} is missing")
        try:
            self.manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(manifest_path, f"line {exc.lineno}: not valid JSON: {exc.msg}") from None
        if self.manifest.get("format") != FORMAT_VERSION:
            raise InputError(manifest_path, f"format {self.manifest.get('format')!r}; this idbridge reads "
                                            f"format {FORMAT_VERSION}")
        self._cache: dict[str, pd.DataFrame] = {}

    @property
    def sources(self) -> dict[str, dict]:
        return self.manifest["sources"]

    def status(self, source: str) -> tuple[SourceStatus, str | None]:
        record = self.sources.get(source)
        if record is None:
            return "not_collected", "this snapshot did not include the source"
        return record["status"], record.get("error")

    def table(self, name: str) -> pd.DataFrame:
        """The table, or NotCollected naming the source and why it is missing."""
        if name in self._cache:
            return self._cache[name]
        source = self.manifest["tables"].get(name)
        if source is None:
            raise KeyError(f"no table {name!r} in snapshot {self.directory}")
        status, error = self.status(source)
        if status == "not_collected":
            raise NotCollected(source, error or "unknown reason")
        path = self.directory / f"{name}.parquet"
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # a damaged table names its file (pyarrow's errors do not)
            if storage_error(exc):
                raise
            raise InputError(path, f"unreadable table: {type(exc).__name__}: {exc}") from None
        self._cache[name] = frame
        return frame

    def has(self, name: str) -> bool:
        """True when the table was collected (completely or partly)."""
        source = self.manifest["tables"].get(name)
        return source is not None and self.status(source)[0] != "not_collected"
