"""MaxResults / NextToken paging over an already ordered list.

moto's @paginate finds its place by scanning for a unique attribute, which is O(n) per page and breaks when that
attribute repeats; an offset in an opaque token is O(1) and enough for a sandbox (AWS tokens are opaque too).
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Collection, Sequence
from typing import Any, TypeVar

from moto.core.exceptions import JsonRESTError

T = TypeVar("T")


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "v": 1}).encode()).decode()


def _decode(token: str) -> int:
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["o"])
    except Exception:  # noqa: BLE001 - any malformed token is the caller's error
        raise JsonRESTError("ValidationException", "Invalid NextToken") from None


def page(items: Collection[T], max_results: Any, next_token: str | None, default: int = 100,
         limit: int = 100) -> tuple[list[T], str | None]:
    """`items` may be a list or a dict view (sliced without copying 100k entries per page)."""
    size = int(max_results) if max_results else default
    size = max(1, min(size, limit))
    start = _decode(next_token) if next_token else 0
    if isinstance(items, Sequence):
        chunk = list(items[start:start + size])
    else:
        chunk = list(itertools.islice(items, start, start + size))
    end = start + len(chunk)
    return chunk, (_encode(end) if end < len(items) else None)
