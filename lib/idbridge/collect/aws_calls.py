"""Small helpers the AWS collectors share: paging, fanning calls out over threads, values and tables.

Conventions of every AWS table (see collect/aws.py):
- datetimes are ISO-8601 strings in UTC to the second, "2026-05-01T12:00:00Z" (Graph's own form, so Entra and
  AWS times compare as text and parse the same way);
- lists are Python lists of strings; a missing value is None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from typing import Any, TypeVar

import pandas as pd
from botocore.exceptions import ClientError

from idbridge.collect.catalogue import SOURCES

T = TypeVar("T")
R = TypeVar("R")

COLUMNS: dict[str, tuple[str, ...]] = {t: cols for s in SOURCES if s.side == "aws" for t, cols in s.tables.items()}


def pages(client, operation: str, result_key: str, **params: Any) -> Iterator[list[dict]]:
    """Each page's `result_key` list, following NextToken. Pass MaxResults yourself (it differs per API)."""
    call = getattr(client, operation)
    while True:
        response = call(**params)
        yield response.get(result_key) or []
        token = response.get("NextToken")
        if not token:
            return
        params = {**params, "NextToken": token}


def read_all(client, operation: str, result_key: str, **params: Any) -> list[dict]:
    return [item for page in pages(client, operation, result_key, **params) for item in page]


def fan_out(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """fn over items on up to `workers` threads, results in input order. The first failure cancels what has not
    started and is raised (a half-read source is reported as not collected, never as complete)."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="idbridge-aws") as pool:
        futures = [pool.submit(fn, item) for item in items]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            if future.exception() is not None:
                for other in pending:
                    other.cancel()
                raise future.exception()
        return [future.result() for future in futures]


def error_code(exc: BaseException) -> str | None:
    return exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None


def utc_iso(value: Any) -> str | None:
    """A botocore datetime (tz-aware, often local time) or epoch seconds -> '2026-05-01T12:00:00Z'."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def table(name: str, rows: list[dict]) -> pd.DataFrame:
    """Rows (dicts keyed by column name) -> a frame with exactly the catalogue's columns, in order."""
    columns = COLUMNS[name]
    return pd.DataFrame([[row.get(c) for c in columns] for row in rows], columns=list(columns), dtype=object)
