"""Calling AWS through boto3, for the collectors and the runbooks alike: paging, fanning calls out over threads,
CloudTrail lookups, error codes. (Turning answers into tables is the collectors' part: aws_tables.py.)"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any, TypeVar

from botocore.exceptions import ClientError

T = TypeVar("T")
R = TypeVar("R")
LOOKUP_PAGE = 50  # CloudTrail LookupEvents' MaxResults ceiling


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


def count_attempts(client, counter) -> None:
    """Count every HTTP attempt `client` sends ("service:Operation"), botocore's retries included: the
    difference from the logical calls is what throttling and transient errors cost."""
    service = client.meta.service_model.service_name

    def before_send(event_name: str, **_kwargs) -> None:
        counter.add(f"{service}:{event_name.rsplit('.', 1)[-1]}")
        return None  # a non-None value would short-circuit the request

    client.meta.events.register("before-send", before_send, unique_id="idbridge-aws-attempts")


def error_code(exc: BaseException) -> str | None:
    return exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None


def lookup_events(trail, attribute: dict[str, str], start: datetime, end: datetime,
                  on_page: Callable[[int], None] = lambda n: None,
                  each: Callable[[dict], Any] | None = None) -> list:
    """CloudTrail LookupEvents for one lookup attribute (the API takes one per call) over [start, end]. `each`,
    if given, turns every event into what is kept of it as its page arrives (None: dropped), so that 100,000
    events are never all held as boto3 returned them."""
    events = []
    for page in lookup_pages(trail, attribute, start, end):
        events += page if each is None else [kept for kept in map(each, page) if kept is not None]
        on_page(len(page))
    return events


def lookup_pages(trail, attribute: dict[str, str], start: datetime, end: datetime) -> Iterator[list[dict]]:
    """The pages of lookup_events as they arrive, newest events first (LookupEvents' order), for a reader that acts
    on each page before the next is in."""
    return pages(trail, "lookup_events", "Events", LookupAttributes=[attribute], StartTime=start, EndTime=end,
                 MaxResults=LOOKUP_PAGE)
