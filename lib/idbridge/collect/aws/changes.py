"""What changed on the AWS side since the previous snapshot, read from CloudTrail: the plan of an incremental run.

With collection.incremental and a previous complete snapshot of the engagement (collect.incremental.find_previous),
the Identity Center and Organizations sources re-read only what the write events since then touch and keep the
rest of the previous snapshot's rows (collect/aws/incremental.py). This module reads the events and turns them into
that plan, or says why no plan can be trusted, in which case the sources are read in full, the manifest saying why.

Which events. LookupEvents takes one lookup attribute per call; a lookup by EventSource would page through every
read as well (each collection makes thousands of sso-admin and identitystore reads, each SCIM cycle thousands of
SCIM reads, all logged), so one lookup of ReadOnly=false per Region reads the account's writes of every service
(once per run, even when the instance is in us-east-1 and both plans need that Region: RegionHistory), and the
watched sources are kept from it:
    sso.amazonaws.com                  Identity Center's admin API (sso-admin) and console actions
    identitystore.amazonaws.com        the Identity Store API
    identitystore-scim.amazonaws.com   SCIM provisioning (Entra's pushes). AWS's page "Logging IAM Identity Center
                                       SCIM API calls with AWS CloudTrail" names this event source and lists the
                                       operations logged: CreateUser, PutUser, PatchUser, DeleteUser, CreateGroup,
                                       PatchGroup, DeleteGroup and the reads (GetUser, ListUsers, ...)
                                       (https://docs.aws.amazon.com/singlesignon/latest/userguide/
                                       scim-logging-using-cloudtrail.html). Tokens created before September 2024 log
                                       no SCIM call at all: see the blind spot below.
    sso-directory.amazonaws.com        console actions on the identity store and the bridge
    organizations.amazonaws.com        in the management account, Region us-east-1 (Organizations is global:
                                       https://docs.aws.amazon.com/organizations/latest/userguide/
                                       orgs_cloudtrail-integration.html)
Every write event of a watched source must be on the allow-list below (UNDERSTOOD): one that is not, or (outside the
identity store's users and groups and CreatePermissionSet, see below) that lacks the parameter that says what it
touched, makes the whole plan void (a full walk, naming the event). A refused
call (errorCode) changed nothing and is skipped.

What is re-read. Only what a write names; a kind of object is listed whole only when a write of that kind does not
name its object (Changes.relist, said in the source's manifest note with the event), the rest of the plan standing:
- identity store: each user and group a write names is described (DescribeUser / DescribeGroup, one call each;
  ResourceNotFound means deleted, its row dropped), except one a successful DeleteUser / DeleteGroup named, whose
  row is dropped without a call (ids are not reused: "After you delete a user, you cannot undo this action",
  userguide/deleteusers.html); a new one goes after the previous rows (ListUsers' order is not documented).
  Where the events name them:
      Identity Store API   CreateUser / CreateGroup: the answer's userId / groupId (their response is {UserId |
                           GroupId, IdentityStoreId}); UpdateUser, DeleteUser, UpdateGroup, DeleteGroup: the
                           request's userId / groupId (fixture identitystore_api_create_user_event: ids are logged,
                           attribute values masked)
      SCIM                 CreateUser / CreateGroup: responseElements.id (AWS's CreateUser example shows it);
                           PutUser, PatchUser, DeleteUser, PatchGroup, DeleteGroup: `id`, the resource of the
                           /Users/{id} or /Groups/{id} path. AWS's page shows no example of these, so `id` is not
                           documented (fixture cloudtrail_scim_patch_group): an event without it lists its kind
                           (users or groups) whole, and a PatchGroup without it re-reads every group's members.
  Memberships: ListGroupMemberships for groups that are new or named by a membership write (CreateGroupMembership's
  groupId, DeleteGroupMembership's membershipId looked up in the previous table, SCIM PatchGroup's id). AWS does not
  document whether deleting a user removes its memberships, so a deleted user's are asked of AWS with one
  ListGroupMembershipsForMember call (what it lists is kept, the rest of its rows dropped); should AWS answer
  ResourceNotFound for the deleted member, the groups it was in are listed instead. When no kind is listed whole,
  every one of these reads is known from the events, so they run alongside the Describe calls (each identitystore
  API has its own rate limit), and they start as soon as a page of events names them, while the next pages are
  still being read (incremental.EarlyReads);
- permission sets: the previous list plus the sets CreatePermissionSet names (responseElements.permissionSet.
  permissionSetArn); DescribePermissionSet (and its policies) for the sets named by a permission-set write
  (DeletePermissionSet included: the read finds it gone) and new ones;
- provisioning status: the sets named by any write on them (an edited set becomes not provisioned), an assignment
  write or ProvisionPermissionSet, and new ones;
- assignments: the (account, permission set) pairs named by CreateAccountAssignment / DeleteAccountAssignment,
  pairs newly provisioned (these two read while the identity store is), and pairs where a principal now gone held
  an assignment;
- organizations: the OU tree is walked every run (two calls per OU and one per 20 accounts). Organizations' own
  writes are logged in the management account's us-east-1 history (the page above), and since AWS logs joins and
  departures there too ("Organizations logs membership events in CloudTrail, available only in the management
  account's event history": AccountJoinedOrganization / AccountDepartedOrganization, AcceptHandshake's API
  reference), moves and OU changes could follow events. The rows also hold each account's name, e-mail and state,
  which change without an Organizations event in this history: a member account renames itself through the Account
  Management API (PutAccountName without AccountId, logged as account.amazonaws.com in that member's own history),
  and AWS itself moves a closed account to SUSPENDED and later out of the organisation. Reading those needs
  ListAccounts (one call per 20 accounts), which costs about what the walk does; so the walk stays. Account tags,
  one call per account, are re-read only for accounts a TagResource / UntagResource (or any Organizations event
  naming the account) touched and accounts whose tags were not read before.

The window, and why a run may refuse to be incremental. CloudTrail delivers an event some minutes after the call:
"CloudTrail typically delivers logs within an average of about 5 minutes of an API call. This time is not
guaranteed." (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html).
So at a run's start N only events older than N - DELIVERY_MARGIN are taken as surely delivered, and:
- the events read are those of [P - DELIVERY_MARGIN, N], P the previous collection's start: a change made just
  before P that the previous run could not see yet (its event undelivered, or an asynchronous assignment still in
  progress) is re-read now; re-reading something unchanged is harmless;
- the snapshot is complete through N - DELIVERY_MARGIN (manifest: incremental.aws.complete_through); a change of
  the last minutes whose event is not delivered yet is picked up by the next run, whose window starts a margin
  before this one;
- if the previous collection started less than DELIVERY_MARGIN ago, none of its changes can be vouched for yet:
  the incremental snapshot would prove nothing beyond the previous one, so the run reads in full (a fresh,
  complete walk; runs that close together are rare, so this costs little);
- LookupEvents covers 90 days (HISTORY): an older previous snapshot means a full walk.

Also a full walk when: CloudTrail cannot be read (denied, failing); the caller is not the instance's account
(SCIM and console writes are logged in the instance owner's event history) or, for the tags, not the management
account; Identity Center has a delegated administrator, or aws.delegation was not collected to tell (writes made
from a delegated administrator's account are logged in that account); the previous snapshot's source is not
complete, audited another instance, or read tags under another aws.account_tags.

Blind spots (not provable from here, stated rather than hidden): SCIM writes of a token created before September
2024 are not logged at all (AWS's page above): such a bridge must rotate its token, or run without
collection.incremental. A change applied by AWS itself without an API call (none known for these tables) would be
missed until the next full run.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from idbridge.clients.aws.calls import lookup_pages
from idbridge.collect.context import CollectContext

DELIVERY_MARGIN = timedelta(minutes=15)  # three times AWS's stated average delivery time (see above)
HISTORY = timedelta(days=90)  # LookupEvents: "events that occurred in a Region within the last 90 days"
ORGANIZATIONS_REGION = "us-east-1"
WRITES = {"AttributeKey": "ReadOnly", "AttributeValue": "false"}

SSO, STORE, SCIM, DIRECTORY, ORGS = ("sso.amazonaws.com", "identitystore.amazonaws.com",
                                     "identitystore-scim.amazonaws.com", "sso-directory.amazonaws.com",
                                     "organizations.amazonaws.com")
IDENTITY_CENTER_SOURCES = (SSO, STORE, SCIM, DIRECTORY)

# Write events that change none of the tables an incremental run builds on (what they change is read in full
# every run, or not collected at all).
_NO_EFFECT = {
    SSO: {"TagResource", "UntagResource",  # tags of permission sets and instances: not collected
          "CreateInstanceAccessControlAttributeConfiguration", "UpdateInstanceAccessControlAttributeConfiguration",
          "DeleteInstanceAccessControlAttributeConfiguration",  # aws.abac, read in full every run
          "UpdateInstance"},  # the instance's name: aws.instances, read in full every run
    DIRECTORY: {"CreateBearerToken", "DeleteBearerToken",  # the SCIM token and SAML set-up: none of these tables
                *(f"{verb}ExternalIdPConfigurationForDirectory"
                  for verb in ("Create", "Update", "Delete", "Enable", "Disable"))},
    # The OU tree (accounts, OUs, names, states, moves) is walked every run; only tags follow events.
    ORGS: {"MoveAccount", "CreateAccount", "CreateGovCloudAccount", "CreateAccountResult", "CloseAccount",
           "CreateOrganizationalUnit", "UpdateOrganizationalUnit", "DeleteOrganizationalUnit",
           "RemoveAccountFromOrganization", "InviteAccountToOrganization", "AcceptHandshake", "DeclineHandshake",
           "CancelHandshake", "AttachPolicy", "DetachPolicy", "CreatePolicy", "UpdatePolicy", "DeletePolicy",
           "EnablePolicyType", "DisablePolicyType", "RegisterDelegatedAdministrator",
           "DeregisterDelegatedAdministrator", "EnableAWSServiceAccess", "DisableAWSServiceAccess"},
}
ASSIGNMENT_EVENTS = {"CreateAccountAssignment", "DeleteAccountAssignment"}
# Identity-store writes, by what they touch and where the event names it: (request key | None, response key | None).
# The Identity Store API names the id in its request (UpdateUser's userId...) or, for a create, in its answer
# (CreateUser's {UserId, IdentityStoreId}); SCIM names a new object's id in the answer (AWS's CreateUser example:
# responseElements.id) and the object a PUT, PATCH or DELETE went to as `id` (the /Users/{id} path).
STORE_USER_EVENTS = {"CreateUser": (None, "userId"), "UpdateUser": ("userId", None), "DeleteUser": ("userId", None)}
STORE_GROUP_EVENTS = {"CreateGroup": (None, "groupId"), "UpdateGroup": ("groupId", None),
                      "DeleteGroup": ("groupId", None)}
SCIM_USER_EVENTS = {"CreateUser": (None, "id"), "PutUser": ("id", None), "PatchUser": ("id", None),
                    "DeleteUser": ("id", None)}
SCIM_GROUP_EVENTS = {"CreateGroup": (None, "id"), "PatchGroup": ("id", None), "DeleteGroup": ("id", None)}
PERMISSION_SET_EVENTS = {
    "UpdatePermissionSet", "DeletePermissionSet", "AttachManagedPolicyToPermissionSet",
    "DetachManagedPolicyFromPermissionSet", "AttachCustomerManagedPolicyReferenceToPermissionSet",
    "DetachCustomerManagedPolicyReferenceFromPermissionSet", "PutInlinePolicyToPermissionSet",
    "DeleteInlinePolicyFromPermissionSet", "PutPermissionsBoundaryToPermissionSet",
    "DeletePermissionsBoundaryFromPermissionSet"}
# Everything a watched source may log that this module understands (the allow-list), per event source.
UNDERSTOOD = {
    SSO: _NO_EFFECT[SSO] | ASSIGNMENT_EVENTS | PERMISSION_SET_EVENTS | {"ProvisionPermissionSet",
                                                                        "CreatePermissionSet"},
    STORE: set(STORE_USER_EVENTS) | set(STORE_GROUP_EVENTS) | {"CreateGroupMembership", "DeleteGroupMembership"},
    SCIM: set(SCIM_USER_EVENTS) | set(SCIM_GROUP_EVENTS),
    DIRECTORY: _NO_EFFECT[DIRECTORY],
    ORGS: _NO_EFFECT[ORGS] | {"TagResource", "UntagResource"},
}
_ACCOUNT_ID = re.compile(r"^\d{12}$")


class Fallback(Exception):
    """The source must be read in full; the message says why (it goes into the manifest)."""


@dataclass
class Changes:
    """What the write events of the window touched. Sets hold ids / ARNs as the APIs give them."""

    window_start: datetime
    window_end: datetime
    complete_through: datetime
    events: int = 0  # write events of the watched sources applied (refused ones not counted)
    pairs: set[tuple[str, str]] = field(default_factory=set)  # (account id, permission set ARN)
    permission_sets: set[str] = field(default_factory=set)  # content re-read
    provisioning: set[str] = field(default_factory=set)  # provisioning status re-read
    membership_groups: set[str] = field(default_factory=set)
    deleted_memberships: set[str] = field(default_factory=set)  # membership ids; their group from the previous table
    all_memberships: bool = False  # a membership write that does not say which group: every group re-read
    users: set[str] = field(default_factory=set)  # identity-store user ids written (DescribeUser each)
    groups: set[str] = field(default_factory=set)  # group ids written (DescribeGroup each)
    # ids a successful DeleteUser / DeleteGroup named: gone for good (AWS: a deletion "cannot" be undone, and ids
    # are never handed out again), so their rows are dropped without a Describe
    deleted_users: set[str] = field(default_factory=set)
    deleted_groups: set[str] = field(default_factory=set)
    created_sets: set[str] = field(default_factory=set)  # permission sets created (their ARN from the answer)
    # kind ("users", "groups", "permission sets") -> why it is listed whole: the first write that did not name its
    # object. Only that kind is re-listed; the rest of the plan stands.
    relist: dict[str, str] = field(default_factory=dict)
    tag_accounts: set[str] = field(default_factory=set)

    def summary(self) -> dict[str, Any]:
        return {"window": [_iso(self.window_start), _iso(self.window_end)],
                "complete_through": _iso(self.complete_through), "write_events": self.events}


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------------- the window


def window(ctx: CollectContext) -> tuple[datetime, datetime]:
    """[start, end] of the events to read, or Fallback (see the module docstring for the reasoning)."""
    previous = ctx.previous
    if previous is None:
        raise Fallback(ctx.previous_why or "no previous snapshot")
    try:
        began = datetime.fromisoformat(str(previous.manifest.get("collected_at")))
    except ValueError:
        raise Fallback("the previous snapshot has no readable collection time") from None
    now = ctx.window_end
    if now - began < DELIVERY_MARGIN:
        raise Fallback(f"the previous collection started {_ago(now - began)} ago, inside CloudTrail's delivery "
                       f"margin ({_ago(DELIVERY_MARGIN)}): its changes may not be delivered yet")
    start = began - DELIVERY_MARGIN
    if now - start > HISTORY:
        raise Fallback(f"the previous snapshot is {(now - began).days} days old; CloudTrail's event history "
                       f"(LookupEvents) keeps {HISTORY.days} days")
    return start, now


def _ago(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    return f"{seconds // 60} min" if seconds >= 120 else f"{seconds} s"


def previous_complete(ctx: CollectContext, source: str) -> None:
    """Fallback unless the previous snapshot holds `source` completely and audited the same instance."""
    status, _ = ctx.previous.status(source)
    if status != "complete":
        raise Fallback(f"the previous snapshot's {source} is {status.replace('_', ' ')}")


# --------------------------------------------------------------------------------------------- the events


def _record(event: dict) -> dict:
    try:
        return json.loads(event.get("CloudTrailEvent") or "{}")
    except json.JSONDecodeError:
        return {}


def _describe(record: dict) -> str:
    return f"{record.get('eventSource')} {record.get('eventName')} at {record.get('eventTime')}"


def _param(record: dict, *keys: str) -> str:
    """A request parameter the event must carry to say what it touched; Fallback when it does not."""
    params = record.get("requestParameters") or {}
    for key in keys:
        value = params.get(key)
        if isinstance(value, str) and value and value != "HIDDEN_DUE_TO_SECURITY_REASONS":
            return value
    raise Fallback(f"CloudTrail event {_describe(record)} does not say which {'/'.join(keys)} it changed")


def _named(record: dict, request_key: str | None, response_key: str | None) -> str | None:
    """The id an event names at requestParameters.<request_key> or responseElements.<response_key> (a dotted
    path), None when it is absent or masked."""
    for part, key in (("requestParameters", request_key), ("responseElements", response_key)):
        node: Any = record.get(part) if key else None
        for step in (key or "").split("."):
            node = node.get(step) if isinstance(node, dict) else None
        if isinstance(node, str) and node and node != "HIDDEN_DUE_TO_SECURITY_REASONS":
            return node
    return None


def _unnamed(record: dict) -> str:
    return f"CloudTrail event {_describe(record)} does not name what it changed"


def _touch(changes: Changes, record: dict, kind: str, request_key: str | None, response_key: str | None) -> str | None:
    """Add the user or group an identity-store write names; when it names none, that kind is listed whole."""
    found = _named(record, request_key, response_key)
    if found:
        getattr(changes, kind).add(found)
        if record.get("eventName", "").startswith("Delete"):
            getattr(changes, f"deleted_{kind}").add(found)
    else:
        changes.relist.setdefault(kind, _unnamed(record))
    return found


def apply_event(changes: Changes, record: dict) -> None:
    """Add what one write event touched to `changes`; Fallback when it is not understood."""
    source, name = record.get("eventSource"), record.get("eventName")
    if name not in UNDERSTOOD.get(source, ()):
        raise Fallback(f"CloudTrail event {_describe(record)} is not one this idbridge knows how to apply")
    if record.get("errorCode"):
        return  # refused: nothing changed
    changes.events += 1
    params = record.get("requestParameters") or {}
    if source == SSO:
        if name in ASSIGNMENT_EVENTS:
            if params.get("targetType", "AWS_ACCOUNT") != "AWS_ACCOUNT":
                raise Fallback(f"CloudTrail event {_describe(record)} targets {params.get('targetType')}")
            arn = _param(record, "permissionSetArn")
            changes.pairs.add((_param(record, "targetId"), arn))
            changes.provisioning.add(arn)
        elif name in PERMISSION_SET_EVENTS:
            arn = _param(record, "permissionSetArn")
            changes.permission_sets.add(arn)
            changes.provisioning.add(arn)
        elif name == "ProvisionPermissionSet":
            changes.provisioning.add(_param(record, "permissionSetArn"))
        elif name == "CreatePermissionSet":
            arn = _named(record, None, "permissionSet.permissionSetArn")
            if arn:
                changes.created_sets.add(arn)
            else:
                changes.relist.setdefault("permission sets", _unnamed(record))
    elif source == STORE:
        if name == "CreateGroupMembership":
            changes.membership_groups.add(_param(record, "groupId"))
        elif name == "DeleteGroupMembership":
            changes.deleted_memberships.add(_param(record, "membershipId"))
        elif name in STORE_USER_EVENTS:
            _touch(changes, record, "users", *STORE_USER_EVENTS[name])
        else:
            _touch(changes, record, "groups", *STORE_GROUP_EVENTS[name])
    elif source == SCIM:
        if name in SCIM_USER_EVENTS:
            _touch(changes, record, "users", *SCIM_USER_EVENTS[name])
        else:  # a group's name, external id or members (PatchGroup: "displayName, members, and externalId")
            group = _touch(changes, record, "groups", *SCIM_GROUP_EVENTS[name])
            if name == "PatchGroup":
                if group:
                    changes.membership_groups.add(group)
                else:  # a PATCH of an unnamed group: any group's members may have changed
                    changes.all_memberships = True
    elif source == ORGS:
        if name in ("TagResource", "UntagResource"):
            target = _param(record, "resourceId")
            if _ACCOUNT_ID.match(target):
                changes.tag_accounts.add(target)
        account = params.get("accountId")
        if isinstance(account, str) and _ACCOUNT_ID.match(account):
            changes.tag_accounts.add(account)  # moved, closed, removed...: its tags are read again too


class RegionHistory:
    """One ReadOnly=false lookup of a Region's event history, read once on a thread of its own for every plan that
    needs that Region: when the instance is in us-east-1, the Identity Center and Organizations plans read the same
    events, and two lookups would share CloudTrail's 2 calls a second (doubling the time) to fetch each page twice.
    Each plan iterates the pages as they arrive and keeps its own sources' events; a plan that gives up (an event it
    does not understand) stops iterating while the other goes on."""

    def __init__(self, trail, start: datetime, end: datetime) -> None:
        self._pages: list[list[dict]] = []
        self._done = False
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(trail, start, end), daemon=True,
                                        name="idbridge-cloudtrail")
        self._thread.start()

    def _read(self, trail, start: datetime, end: datetime) -> None:
        try:
            for events in lookup_pages(trail, WRITES, start, end):
                with self._changed:
                    self._pages.append(events)
                    self._changed.notify_all()
        except BaseException as exc:  # handed to every reader: each decides what it means for its plan
            self._error = exc
        finally:
            with self._changed:
                self._done = True
                self._changed.notify_all()

    def pages(self) -> Iterator[list[dict]]:
        """Every page, from the first, as it arrives; raises what the lookup raised once the pages before it are
        given."""
        index = 0
        while True:
            with self._changed:
                self._changed.wait_for(lambda: index < len(self._pages) or self._done)
                if index >= len(self._pages):
                    if self._error is not None:
                        raise self._error
                    return
                page = self._pages[index]
            index += 1
            yield page


def read_changes(pages: Iterable[list[dict]], sources: tuple[str, ...], changes: Changes,
                 on_page: Callable[[Changes], None] = lambda changes: None) -> int:
    """Apply the write events of `sources` from one Region's event history (RegionHistory.pages); returns the
    number of events looked through (every service's writes). `on_page` sees `changes` after each page: what it
    names so far can be read while the next pages come in (CloudTrail allows 2 lookups a second; the reads have
    limits of their own)."""
    looked = 0
    for events in pages:
        looked += len(events)
        for event in events:
            if event.get("EventSource") in sources or _record(event).get("eventSource") in sources:
                record = _record(event)
                if not record:
                    raise Fallback(f"CloudTrail event {event.get('EventName')} carries no readable record")
                apply_event(changes, record)
        on_page(changes)
    return looked
