"""Walk an AWS organisation from its roots: every account with the path of OU names above it, and its tags.

One level of the tree at a time, each parent's OUs and accounts read concurrently: about 2 calls per OU plus one
per 20 accounts, instead of a ListParents call per account (and per OU above it).
"""

from __future__ import annotations

from collections.abc import Callable

from idbridge.clients.aws.calls import fan_out, read_all

PAGE = 20  # Organizations' MaxResults ceiling for these listings


def walk(org, workers: int, on_accounts: Callable[[int], None] = lambda n: None) -> list[dict]:
    """Accounts as dicts: Id, Name, Email, Status, ouPath ('Workloads/Prod'; '' at the root), ouId (the parent's
    id: an OU id, or the root id for accounts directly under the root)."""
    level = [(root["Id"], "") for root in read_all(org, "list_roots", "Roots", MaxResults=PAGE)]
    accounts: list[dict] = []
    while level:
        def children(parent: tuple[str, str]) -> tuple[list[dict], list[tuple[str, str]]]:
            parent_id, path = parent
            found = read_all(org, "list_accounts_for_parent", "Accounts", ParentId=parent_id, MaxResults=PAGE)
            ous = read_all(org, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent_id,
                           MaxResults=PAGE)
            on_accounts(len(found))
            rows = [{**a, "ouPath": path, "ouId": parent_id} for a in found]
            return rows, [(ou["Id"], f"{path}/{ou['Name']}".lstrip("/")) for ou in ous]

        results = fan_out(children, level, workers)
        accounts += [row for rows, _ in results for row in rows]
        level = [child for _, kids in results for child in kids]
    return accounts


def tags(org, account_ids: list[str], workers: int) -> dict[str, list[str]]:
    """Account id -> tags as 'key=value' strings. Readers split at the first '=': a tag key may itself hold '='
    (rare), a value may too."""
    def one(account_id: str) -> list[str]:
        return [f"{t['Key']}={t['Value']}" for t in read_all(org, "list_tags_for_resource", "Tags",
                                                               ResourceId=account_id)]

    return dict(zip(account_ids, fan_out(one, account_ids, workers)))
