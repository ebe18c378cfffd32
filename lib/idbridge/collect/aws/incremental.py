"""AWS sources read as the previous snapshot's rows plus what CloudTrail says changed (collect/aws/changes.py has
the reasoning: which events, which window, when a full walk is the only honest answer).

    tables = read(ctx, "aws.permission_sets", full, permission_sets, collectors_module)

`read` runs the source's full collector unless collection.incremental is on and a plan can be trusted; then the
source's apply function re-reads what the plan names and keeps every other row of the previous snapshot, in the
order a full collection gives. The apply functions take the collectors module as `c` (its listings and row
builders: one way of reading AWS, not two); it is passed in because that module imports this one. Each source's
manifest note says which it was and why (incremental.sources.<source>); the window and the time the snapshot is
complete through are in collection_notes["aws.incremental"].
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from idbridge.clients.aws import organizations as aws_org
from idbridge.clients.aws.calls import error_code, fan_out, read_all
from idbridge.collect.aws import changes as ch
from idbridge.collect.aws.tables import table
from idbridge.collect.context import CollectContext, Partial, Tables

_lock = threading.Lock()


def records(frame) -> list[dict]:
    """A previous table as dicts (lists as lists, missing as None), column by column for speed."""
    columns: dict[str, list] = {}
    for name in frame.columns:
        values = frame[name].tolist()
        if frame[name].dtype == object:
            values = [v.tolist() if isinstance(v, np.ndarray) else v for v in values]
        elif frame[name].dtype.kind == "f":
            values = [None if v != v else v for v in values]
        columns[name] = values
    return [{n: columns[n][i] for n in columns} for i in range(len(frame))]


def _grouped(rows: list[dict], key: str) -> dict[Any, list[dict]]:
    out: dict[Any, list[dict]] = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    return out


# --------------------------------------------------------------------------------------------- the plans


def _cached(ctx: CollectContext, key: str, build: Callable[[], Any]) -> Any:
    """One plan per run, whichever source asks first (they run on threads); a Fallback is cached as well."""
    plans = ctx.aws_plans
    with _lock:
        lock = plans.setdefault(f"{key}:lock", threading.Lock())
    with lock:
        if key not in plans:
            try:
                plans[key] = build()
            except ch.Fallback as exc:
                plans[key] = exc
    found = plans[key]
    if isinstance(found, ch.Fallback):
        raise found
    return found


def _history(ctx: CollectContext, c, region: str, start, end) -> ch.RegionHistory:
    """The Region's write events, looked up once per run whichever plan asks first (see RegionHistory)."""
    with _lock:
        key = f"history:{region}"
        if key not in ctx.aws_plans:
            ctx.aws_plans[key] = ch.RegionHistory(c._client(ctx, "cloudtrail", region), start, end)
        return ctx.aws_plans[key]


def _lookup(ctx: CollectContext, c, region: str, start, end, sources, changes: ch.Changes,
            on_page: Callable[[ch.Changes], None] = lambda changes: None) -> int:
    try:
        return ch.read_changes(_history(ctx, c, region, start, end).pages(), sources, changes, on_page)
    except ch.Fallback:
        raise
    except Exception as exc:  # denied, not offered, failing: completeness cannot be shown
        why = f"{error_code(exc)}: {exc}" if error_code(exc) else f"{type(exc).__name__}: {exc}"
        raise ch.Fallback(f"CloudTrail event history in {region} could not be read: {why}") from None


def _note_window(ctx: CollectContext, key: str, changes: ch.Changes, looked: int) -> None:
    with _lock:
        record = ctx.notes.setdefault("aws.incremental", {})
        record[key] = {**changes.summary(), "events_looked_through": looked}


def identity_center_plan(ctx: CollectContext, c) -> ch.Changes:
    def build() -> ch.Changes:
        start, end = ch.window(ctx)
        instance = c.audited_instance(ctx)
        if ctx.previous.manifest.get("instance_arn") not in (None, instance["instanceArn"]):
            raise ch.Fallback(f"the previous snapshot audited another instance "
                              f"({ctx.previous.manifest.get('instance_arn')})")
        caller = c._caller_account(ctx)
        owner = instance.get("ownerAccountId")
        if caller is None or (owner and caller != owner):
            raise ch.Fallback(f"the caller ({caller or 'unknown'}) is not the instance's account ({owner}): SCIM and "
                              "console writes are logged in the instance account's event history")
        delegation = ctx.wait_for("aws.delegation")
        if delegation is None:
            raise ch.Fallback("aws.delegation was not collected, so it cannot be told whether a delegated "
                              "administrator (whose writes its own account logs) changed anything")
        admins = delegation["org_delegated_admins"]
        if not admins.empty:
            raise ch.Fallback(f"Identity Center has a delegated administrator ({', '.join(admins['accountId'])}), "
                              "whose writes are logged in its own account's event history")
        changes = ch.Changes(start, end, end - ch.DELIVERY_MARGIN)
        early = _early_reads(ctx, c)
        try:
            looked = _lookup(ctx, c, instance["region"], start, end, ch.IDENTITY_CENTER_SOURCES, changes,
                             early.start if early else lambda changes: None)
        except BaseException:
            if early:
                early.close()
            raise
        _note_window(ctx, "identity_center", changes, looked)
        return changes

    return _cached(ctx, "identity_center", build)


def organizations_plan(ctx: CollectContext, c) -> ch.Changes:
    def build() -> ch.Changes:
        start, end = ch.window(ctx)
        caller = c._caller_account(ctx)
        management = ctx.params.aws.management_account
        delegation = ctx.wait_for("aws.delegation")
        if delegation is not None and not delegation["org_organization"].empty:
            management = delegation["org_organization"]["managementAccountId"].iloc[0] or management
        if caller is None or caller != management:
            raise ch.Fallback(f"the caller ({caller or 'unknown'}) is not the management account "
                              f"({management or 'unknown'}), where Organizations' events are logged")
        changes = ch.Changes(start, end, end - ch.DELIVERY_MARGIN)
        looked = _lookup(ctx, c, ch.ORGANIZATIONS_REGION, start, end, (ch.ORGS,), changes)
        _note_window(ctx, "organizations", changes, looked)
        return changes

    return _cached(ctx, "organizations", build)


# --------------------------------------------------------------------------------------------- early reads


def _memberships_of_user(c, store, store_id: str, user_id: str) -> list[dict] | None:
    """A deleted user's memberships as AWS lists them now (AWS does not document whether deleting a user removes
    them): one call per user instead of listing every group it was in. None when AWS answers ResourceNotFound for
    the user: then its groups are listed."""
    try:
        found = read_all(store, "list_group_memberships_for_member", "GroupMemberships",
                         IdentityStoreId=store_id, MemberId={"UserId": user_id}, MaxResults=c.PAGE)
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    return [c._membership_row(m) for m in found]


class EarlyReads:
    """The identity-store reads the write events name, started while later pages of events are still coming in.

    CloudTrail serves 2 lookups a second (50 events each) and each identitystore API 20 calls a second, each API a
    limit of its own: reading the events first and the objects after took the sum of the two (at 1% of 100k users,
    ~11 s of events then ~15 s of DescribeUser); reading each page's objects as it arrives takes about the longer.
    A read is started only for what a page already proves must be read (named, not deleted); a later event can
    only add to that (ids are not reused), so an early read is never a wrong one: at worst, when the plan turns out
    void (an event not understood), a wasted call. Reads happen after the window's end either way, so an early read
    sees what a late one would. One pool per API, so one API's limit does not hold up another's calls."""

    KINDS = ("users", "groups", "gone", "members")

    def __init__(self, ctx: CollectContext, c, old_user_ids: set[str], old_group_ids: set[str]) -> None:
        instance = c.audited_instance(ctx)
        self.c, self.old_user_ids, self.old_group_ids = c, old_user_ids, old_group_ids
        self.store = c._client(ctx, "identitystore", instance["region"])
        self.store_id = instance["identityStoreId"]
        self.pools = {kind: ThreadPoolExecutor(max_workers=c._workers(ctx), thread_name_prefix=f"idbridge-early-{kind}")
                      for kind in self.KINDS}
        self.futures: dict[tuple[str, str], Future] = {}
        self.reads = {"users": lambda item: self.described("describe_user", "UserId", item),
                      "groups": lambda item: self.described("describe_group", "GroupId", item),
                      "gone": lambda item: _memberships_of_user(c, self.store, self.store_id, item),
                      "members": lambda item: c._group_members(self.store, self.store_id, item)}

    def described(self, operation: str, key: str, item: str) -> dict | None:
        found = self.c._unless_gone(lambda: [getattr(self.store, operation)(IdentityStoreId=self.store_id,
                                                                            **{key: item})])
        return found[0] if found else None

    def start(self, changes: ch.Changes) -> None:
        """Called after each page of events: start the reads the events so far name and no earlier page did."""
        wanted = {"users": () if "users" in changes.relist else changes.users - changes.deleted_users,
                  "groups": () if "groups" in changes.relist else changes.groups - changes.deleted_groups,
                  "gone": changes.deleted_users & self.old_user_ids,
                  "members": () if changes.all_memberships else
                  (changes.membership_groups | (changes.groups - self.old_group_ids)) - changes.deleted_groups}
        for kind, items in wanted.items():
            for item in sorted(items):
                if (kind, item) not in self.futures:
                    self.futures[(kind, item)] = self.pools[kind].submit(self.reads[kind], item)

    def read(self, kind: str, items: list[str], workers: int) -> list:
        """Each item's answer, in order: from the read started early, else read now."""
        return fan_out(lambda item: (self.futures[(kind, item)].result() if (kind, item) in self.futures
                                     else self.reads[kind](item)), items, workers)

    def close(self) -> None:
        for pool in self.pools.values():
            pool.shutdown(wait=False, cancel_futures=True)


def _early_reads(ctx: CollectContext, c) -> EarlyReads | None:
    """Early reads for aws.identity_store when it is selected and its previous tables can be read (else it will
    fall back to a full read, and early reads would be wasted)."""
    if "aws.identity_store" not in ctx.finished:
        return None
    try:
        ch.previous_complete(ctx, "aws.identity_store")
        users = set(ctx.previous.table("idc_users")["userId"])
        groups = set(ctx.previous.table("idc_groups")["groupId"])
    except Exception:
        return None
    early = EarlyReads(ctx, c, users, groups)
    ctx.aws_plans["early"] = early
    return early


# --------------------------------------------------------------------------------------------- per source


def read(ctx: CollectContext, source: str, full: Callable[[], Tables | Partial],
         apply: Callable[[CollectContext, Any], tuple[Tables, int]], readers) -> Tables | Partial:
    """The source read incrementally when that can be shown complete, else in full; the manifest says which.
    `readers` is the collectors module (its listings and row builders), passed in: it imports this one."""
    if not ctx.params.collection.incremental:
        return full()
    try:
        tables, reread = apply(ctx, readers)
    except ch.Fallback as exc:
        why = str(exc)
    else:
        listed = ctx.aws_plans.get(f"listed:{source}") or {}
        _note(ctx, source, "cloudtrail", f"changes since {ctx.previous.manifest.get('collected_at')} (CloudTrail) "
                                         f"applied to {ctx.previous.directory.name}"
              + "".join(f"; {kind} listed whole: {why}" for kind, why in sorted(listed.items())), reread)
        return tables
    result = full()
    _note(ctx, source, "full", why)
    return result


def _listed_whole(ctx: CollectContext, source: str, kind: str, why: str) -> None:
    """Say in the source's manifest note that `kind` was listed whole, and why (a write that did not name what it
    changed)."""
    with _lock:
        ctx.aws_plans.setdefault(f"listed:{source}", {})[kind] = why


def _note(ctx: CollectContext, source: str, mode: str, why: str, reread: int | None = None) -> None:
    ctx.incremental[source] = {"mode": mode, "why": why, **({"reread": reread} if reread is not None else {})}


def _previous(ctx: CollectContext, source: str, *names: str) -> list[list[dict]]:
    ch.previous_complete(ctx, source)
    try:
        return [records(ctx.previous.table(name)) for name in names]
    except Exception as exc:
        raise ch.Fallback(f"the previous snapshot's {source} cannot be read: {exc}") from None


def _patched(ctx: CollectContext, c, store, early: EarlyReads, kind: str, old: list[dict], touched: set[str],
             changes: ch.Changes) -> tuple[list[dict], int]:
    """The users or groups now: the previous rows with each one a write named read again (Describe*; deleted when
    it answers ResourceNotFound), new ones after the rest; or, when a write did not name its object, the whole
    listing. Returns the rows and the number of calls."""
    key, listing, row = (("userId", ("list_users", "Users"), c._user_row) if kind == "users" else
                         ("groupId", ("list_groups", "Groups"), c._group_row))
    if kind in changes.relist:
        _listed_whole(ctx, "aws.identity_store", kind, changes.relist[kind])
        items = read_all(store, *listing, IdentityStoreId=early.store_id, MaxResults=c.PAGE)
        return [row(item) for item in items], -(-len(items) // c.PAGE) or 1
    rows = {r[key]: r for r in old}
    deleted = getattr(changes, f"deleted_{kind}")
    for item in deleted:
        rows.pop(item, None)
    ids = sorted(touched - deleted)
    for item, found in zip(ids, early.read(kind, ids, c._workers(ctx))):
        if found is None:
            rows.pop(item, None)
        else:
            rows[item] = row(found)
    return list(rows.values()), len(ids)


def identity_store(ctx: CollectContext, c) -> tuple[Tables, int]:
    source = "aws.identity_store"
    changes = identity_center_plan(ctx, c)
    early = ctx.aws_plans.get("early")
    try:
        old_users, old_groups, old_members = _previous(ctx, source, "idc_users", "idc_groups",
                                                       "idc_group_memberships")
        early = early or EarlyReads(ctx, c, {u["userId"] for u in old_users}, {g["groupId"] for g in old_groups})
        return _identity_store(ctx, c, source, changes, early, old_users, old_groups, old_members)
    finally:
        if early:
            early.close()


def _identity_store(ctx: CollectContext, c, source: str, changes: ch.Changes, early: EarlyReads,
                    old_users: list[dict], old_groups: list[dict], old_members: list[dict]) -> tuple[Tables, int]:
    store = early.store
    old_user_ids, old_group_ids = early.old_user_ids, early.old_group_ids
    by_group = _grouped(old_members, "groupId")
    group_of = {m["membershipId"]: m["groupId"] for m in old_members}
    workers = c._workers(ctx)

    def to_reread(now_groups: set[str]) -> set[str]:
        if changes.all_memberships:
            return set(now_groups)
        found = (now_groups - old_group_ids) | changes.membership_groups
        # A deleted membership not in the previous table was made inside the window, by a write that named its
        # group (CreateGroupMembership's groupId, PatchGroup's id).
        found |= {group_of[m] for m in changes.deleted_memberships if m in group_of}
        return found & now_groups

    def read_members(groups: set[str]) -> dict[str, list[dict]]:
        ordered = sorted(groups)
        return dict(zip(ordered, early.read("members", ordered, workers)))

    def read_gone(users: set[str]) -> dict[str, list[dict] | None]:
        ordered = sorted(users)
        return dict(zip(ordered, early.read("gone", ordered, workers)))

    # Without a listing, which groups' members to read and which users are gone is known from the events alone
    # (new and deleted users and groups are named), so those reads go alongside the Describe calls: each API has
    # its own rate limit. Most of them were started while the events were read (EarlyReads).
    early_groups: set[str] = set()
    early_gone: set[str] = set()
    if not {"users", "groups"} & set(changes.relist):
        early_groups = to_reread((old_group_ids | changes.groups) - changes.deleted_groups)
        early_gone = changes.deleted_users & old_user_ids
    jobs = [("users", old_users, changes.users), ("groups", old_groups, changes.groups),
            ("members", None, early_groups), ("gone", None, early_gone)]
    results = fan_out(lambda job: read_members(job[2]) if job[0] == "members" else read_gone(job[2])
                      if job[0] == "gone" else _patched(ctx, c, store, early, job[0], job[1], job[2], changes),
                      jobs, 4)
    (users, user_calls), (groups, group_calls), fresh, gone = results
    ctx.progress(source, len(users) + len(groups))
    group_ids = [g["groupId"] for g in groups]
    now_groups = set(group_ids)
    gone_users = old_user_ids - {u["userId"] for u in users}
    gone.update(read_gone(gone_users - early_gone))  # a listing, or a user found gone without its DeleteUser
    reread = to_reread(now_groups)
    reread |= {m["groupId"] for m in old_members if m["userId"] in gone and gone[m["userId"]] is None}
    reread &= now_groups
    fresh.update(read_members(reread - early_groups))
    still = _grouped([m for found in gone.values() for m in found or ()], "groupId")
    rows = [m for g in group_ids
            for m in (fresh[g] if g in reread else
                      [m for m in by_group.get(g, []) if m["userId"] not in gone] + still.get(g, []))]
    ctx.notes[source] = {"users_described": 0 if "users" in changes.relist else len(changes.users
                                                                                  - changes.deleted_users),
                         "groups_described": 0 if "groups" in changes.relist else len(changes.groups
                                                                                    - changes.deleted_groups),
                         "users_deleted": len(changes.deleted_users), "groups_deleted": len(changes.deleted_groups),
                         "groups_members_reread": len(reread | early_groups),
                         "deleted_users_memberships_read": len(gone),
                         "listed_whole": sorted(k for k in changes.relist if k in ("users", "groups"))}
    return ({"idc_users": table("idc_users", users),
             "idc_groups": table("idc_groups", groups),
             "idc_group_memberships": table("idc_group_memberships", rows)},
            len(reread | early_groups) + len(gone) + user_calls + group_calls)


def _set_arns(ctx: CollectContext, c, source: str, changes: ch.Changes, sso, instance_arn: str) -> list[str]:
    """The permission sets to consider: the previous listing plus the sets CreatePermissionSet events name (a
    deleted one stays in this list: its DeletePermissionSet event makes it read again, and the read finds it
    gone); ListPermissionSets only when a CreatePermissionSet event did not name its set."""
    if "permission sets" in changes.relist:
        _listed_whole(ctx, source, "permission sets", changes.relist["permission sets"])
        return c._permission_set_arns(sso, instance_arn)
    try:
        before = list(ctx.previous.table("idc_permission_sets")["permissionSetArn"])
    except Exception as exc:
        raise ch.Fallback(f"the previous snapshot's permission sets cannot be read: {exc}") from None
    return list(dict.fromkeys([*before, *sorted(changes.created_sets)]))


def permission_sets(ctx: CollectContext, c) -> tuple[Tables, int]:
    source = "aws.permission_sets"
    changes = identity_center_plan(ctx, c)
    old_sets, old_policies = _previous(ctx, source, "idc_permission_sets", "idc_permission_set_policies")
    instance = c.audited_instance(ctx)
    sso = c._client(ctx, "sso-admin", instance["region"])
    arns = _set_arns(ctx, c, source, changes, sso, instance["instanceArn"])
    previous = {row["permissionSetArn"]: row for row in old_sets}
    policies = _grouped(old_policies, "permissionSetArn")
    reread = [a for a in arns if a in changes.permission_sets or a not in previous]
    fresh = dict(zip(reread, fan_out(lambda arn: c._read_permission_set(sso, instance["instanceArn"], arn), reread,
                                     c._workers(ctx))))
    ctx.progress(source, len(arns))
    results = [fresh[a] if a in fresh else (previous[a], policies.get(a, [])) for a in arns]
    results = [r for r in results if r is not None]
    return ({"idc_permission_sets": table("idc_permission_sets", [row for row, _ in results]),
             "idc_permission_set_policies": table("idc_permission_set_policies",
                                                  [p for _, ps in results for p in ps])}, len(reread))


def provisioning_status(ctx: CollectContext, c) -> tuple[Tables, int]:
    source = "aws.provisioning_status"
    changes = identity_center_plan(ctx, c)
    (old,) = _previous(ctx, source, "idc_permission_set_provisioning")
    instance = c.audited_instance(ctx)
    sso = c._client(ctx, "sso-admin", instance["region"])
    arns = _set_arns(ctx, c, source, changes, sso, instance["instanceArn"])
    previous = _grouped(old, "permissionSetArn")
    known = {row["permissionSetArn"] for row in old}
    # A set provisioned nowhere has no previous row: without an event it is still provisioned nowhere, but a new
    # set (not in the previous listing) must be read. The previous listing is idc_permission_sets.
    try:
        listed_before = set(ctx.previous.table("idc_permission_sets")["permissionSetArn"])
    except Exception:
        listed_before = known
    reread = [a for a in arns if a in changes.provisioning or a not in (known | listed_before)]

    def one(arn: str) -> list[dict]:
        return [{"permissionSetArn": arn, "accountId": account, "status": status}
                for status in c.PROVISIONING_STATUSES
                for account in c._unless_gone(lambda: read_all(
                    sso, "list_accounts_for_provisioned_permission_set", "AccountIds",
                    InstanceArn=instance["instanceArn"], PermissionSetArn=arn, ProvisioningStatus=status,
                    MaxResults=c.PAGE))]

    fresh = dict(zip(reread, fan_out(one, reread, c._workers(ctx))))
    rows = [row for a in arns for row in (fresh[a] if a in fresh else previous.get(a, []))]
    ctx.progress(source, len(rows))
    return {"idc_permission_set_provisioning": table("idc_permission_set_provisioning", rows)}, len(reread)


def account_assignments(ctx: CollectContext, c) -> tuple[Tables, int]:
    source = "aws.account_assignments"
    changes = identity_center_plan(ctx, c)
    (old,) = _previous(ctx, source, "idc_account_assignments")
    try:
        old_pairs = set(c.assignment_pairs(ctx.previous.table("idc_permission_set_provisioning")))
        old_users = set(ctx.previous.table("idc_users")["userId"])
        old_groups = set(ctx.previous.table("idc_groups")["groupId"])
    except Exception as exc:
        raise ch.Fallback(f"the previous snapshot's provisioning or identity store cannot be read: {exc}") from None
    instance = c.audited_instance(ctx)
    ctx.needs("aws.permission_sets")
    pairs = c.assignment_pairs(ctx.needs("aws.provisioning_status")["idc_permission_set_provisioning"])
    previous: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in old:
        previous[(row["accountId"], row["permissionSetArn"])].append(row)
    sso = c._client(ctx, "sso-admin", instance["region"])

    def one(pair: tuple[str, str]) -> list[dict]:
        account, arn = pair
        found = c._unless_gone(lambda: read_all(sso, "list_account_assignments", "AccountAssignments",
                                                InstanceArn=instance["instanceArn"], MaxResults=c.PAGE,
                                                AccountId=account, PermissionSetArn=arn))
        return [c._assignment_row(a, account, arn) for a in found]

    # The pairs the events name and the newly provisioned ones are read while the identity store is still being
    # read; the pairs of principals deleted since (which only the identity store can tell) after it.
    named = [p for p in pairs if p in changes.pairs or p not in old_pairs]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="idbridge-aws-pairs") as pool:
        reading = pool.submit(fan_out, one, named, c._workers(ctx))
        store = ctx.wait_for("aws.identity_store")
        if store is None:
            reading.cancel()
            raise ch.Fallback("aws.identity_store was not collected: principals deleted since cannot be told")
        gone = ((old_users - set(store["idc_users"]["userId"]))
                | (old_groups - set(store["idc_groups"]["groupId"])))
        named_set = set(named)
        held = [p for p in pairs if p not in named_set and any(r["principalId"] in gone for r in previous.get(p, ()))]
        fresh = dict(zip(held, fan_out(one, held, c._workers(ctx))))
        fresh.update(zip(named, reading.result()))
    reread = len(named) + len(held)
    rows = [row for p in pairs for row in (fresh[p] if p in fresh else previous.get(p, []))]
    ctx.progress(source, len(rows))
    ctx.notes[source] = {"chosen": "incremental", "pairs": len(pairs), "pairs_reread": reread,
                         "actual_calls": reread}
    rows = sorted({tuple(r.values()): r for r in rows}.values(), key=lambda r: tuple(str(v) for v in r.values()))
    return {"idc_account_assignments": table("idc_account_assignments", rows)}, reread


def organizations(ctx: CollectContext, c) -> tuple[Tables, int]:
    source = "aws.organizations"
    previous_tags_mode = ((ctx.previous.manifest.get("parameters") or {}).get("aws") or {}).get("account_tags") \
        if ctx.previous is not None else None
    changes = organizations_plan(ctx, c)
    if previous_tags_mode != ctx.params.aws.account_tags:
        raise ch.Fallback(f"aws.account_tags was {previous_tags_mode!r} in the previous snapshot")
    (old,) = _previous(ctx, source, "org_accounts")
    org = c._client(ctx, "organizations")
    accounts = aws_org.walk(org, c._workers(ctx), on_accounts=lambda n: ctx.progress(source, n))
    wanted, why = c._tagged_accounts(ctx, [a["Id"] for a in accounts])
    previous = {row["accountId"]: row.get("tags") for row in old}
    to_read = [a for a in wanted if a in changes.tag_accounts or previous.get(a) is None]
    tags = aws_org.tags(org, to_read, c._workers(ctx))
    wanted_set = set(wanted)
    ctx.notes[source] = {"accounts": len(accounts), "tags_read_for": len(to_read), "tags_kept_for":
                         len(wanted_set) - len(to_read), "tags_why": why}
    rows = [{"accountId": a["Id"], "name": a.get("Name"), "email": a.get("Email"),
             "status": a.get("State") or a.get("Status"), "ouPath": a["ouPath"], "ouId": a["ouId"],
             "tags": (tags[a["Id"]] if a["Id"] in tags else previous.get(a["Id"])) if a["Id"] in wanted_set
             else None} for a in accounts]
    rows.sort(key=lambda r: r["accountId"])
    return {"org_accounts": table("org_accounts", rows)}, len(to_read)
