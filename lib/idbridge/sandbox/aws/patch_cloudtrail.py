"""Patch to moto 5.2.5's CloudTrail: LookupEvents. Installed once by patches.apply_patches().

Gap: moto's LookupEvents returns no events. Served here from trail.py's event store of the caller's account and
Region (an empty history where the sandbox seeded none).
"""

from __future__ import annotations

import json
from datetime import datetime

from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.exceptions import JsonRESTError

from idbridge.sandbox.aws import trail
from idbridge.sandbox.aws.naming import epoch
from idbridge.sandbox.aws.paging import page


def _seconds(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return epoch(value)
    return float(value)


def lookup_events(self: CloudTrailResponse) -> str:
    max_results = self._get_param("MaxResults")
    if max_results is not None and not 1 <= int(max_results) <= 50:
        raise JsonRESTError("InvalidMaxResultsException", "MaxResults must be between 1 and 50")
    start, end = _seconds(self._get_param("StartTime")), _seconds(self._get_param("EndTime"))
    if start is not None and end is not None and start > end:
        raise JsonRESTError("InvalidTimeRangeException", "Start time must be before end time")
    store = trail.store_for(self.current_account, self.region)
    try:
        found = store.lookup(self._get_param("LookupAttributes") or [], start, end) if store else []
    except ValueError as exc:
        raise JsonRESTError("InvalidLookupAttributesException", str(exc)) from None
    items, token = page(found, max_results, self._get_param("NextToken"), default=50, limit=50)
    return json.dumps({"Events": [trail.lookup_response(e) for e in items], "NextToken": token})


def install() -> list[str]:
    CloudTrailResponse.lookup_events = lookup_events  # type: ignore[attr-defined]
    return ["CloudTrailResponse.lookup_events"]
