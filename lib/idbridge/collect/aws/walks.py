"""The two complete walks of Identity Center account assignments, and the choice between them.

    pair-walk       ListAccountAssignments per (account, permission set) pair where the permission set is
                    provisioned: every assignment provisions its permission set to its account, so no assignment
                    lies outside these pairs. Valid for every instance and every caller that may read it.
    principal-walk  ListAccountAssignmentsForPrincipal per group and per user of the identity store. The API
                    reference: "must be called from the management account containing your organization instance
                    ... not valid for account instances" (docs.aws.amazon.com/singlesignon/latest/APIReference/
                    API_ListAccountAssignmentsForPrincipal.html). It names no delegated-administrator exception,
                    so from a delegated administrator (or any account but the instance's owner) we do not try it.

Both cost one call per item at least (plus a page per 100 rows beyond the first). The counts that decide are
known after the cheap listings: the provisioned pairs (aws.provisioning_status) and the users and groups
(aws.identity_store, P/100 + G/100 calls). A user's listing also returns the rows it holds through its groups
(PrincipalType GROUP); those are read from the groups themselves, so a user contributes only its USER rows.

Blind spot of the principal-walk: it asks about the principals the identity store lists now, so an assignment
left behind by a deleted principal (an orphan: SCIM deleted and recreated a user) is not seen; only the pair-walk
reads it (such rows stay in AWS, listed per account with no user behind them: github.com/61418/aws-sso-util
issue 93). So a principal-walk result is Partial, and the manifest note says why (`principal_walk_blind_spot`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

PAGE = 100
PAIR, PRINCIPAL = "pair-walk", "principal-walk"


def principal_walk_allowed(instance: dict, caller_account: str | None, management_account: str | None
                           ) -> tuple[bool, str]:
    """(allowed, why). Only the account that owns an organization instance (the management account) may call
    ListAccountAssignmentsForPrincipal; an account instance is owned by a member or standalone account."""
    owner = instance.get("ownerAccountId")
    if not caller_account:
        return False, "the caller's account is unknown"
    if owner and owner != caller_account:
        return False, (f"the caller ({caller_account}) does not own the instance ({owner}): a delegated "
                       "administrator may not use ListAccountAssignmentsForPrincipal")
    if management_account and caller_account != management_account:
        return False, (f"the caller ({caller_account}) is not the management account ({management_account}): "
                       "an account instance, where ListAccountAssignmentsForPrincipal is not valid")
    return True, "the caller owns the instance"


def estimate(pairs: int, users: int | None, groups: int | None) -> dict[str, int | None]:
    """Fewest calls each walk needs (one per item; extra pages only show while walking)."""
    principal = None if users is None or groups is None else users + groups
    return {PAIR: pairs, PRINCIPAL: principal}


def choose(estimates: dict[str, int | None], allowed: bool) -> str:
    principal = estimates[PRINCIPAL]
    if allowed and principal is not None and principal < estimates[PAIR]:
        return PRINCIPAL
    return PAIR


def pages(rows: int) -> int:
    return max(1, math.ceil(rows / PAGE))


def principal_rows(principal_type: str, found: list[dict]) -> list[dict]:
    """The rows a principal's listing adds to the table: a user's own (USER) rows only; its groups' rows are
    read from the groups."""
    return [a for a in found if a.get("PrincipalType", principal_type) == principal_type]


def walk_principals(list_for: Callable[[tuple[str, str]], list[dict]], groups: list[str], users: list[str],
                    fan_out: Callable) -> list[dict]:
    """Every (account, permission set, principal) row, from one listing per group and per user."""
    jobs = [("GROUP", g) for g in groups] + [("USER", u) for u in users]
    results = fan_out(lambda job: principal_rows(job[0], list_for(job)), jobs)
    return [row for rows in results for row in rows]
