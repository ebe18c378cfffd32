"""Decisions back -> a removal Plan (step "review-removals"), applied later through runbooks.plan.apply_plan.

Each Remove becomes the narrowest write that ends exactly that path:
    group          the user leaves the assigned Entra group (entra.group_member); SCIM removes the Identity
                   Center membership at its next cycle. Every other access through that group ends with it: the
                   change lists them, and flags any a reviewer marked Keep. (When the model could not see Entra's
                   side, under "sync all", the Identity Center membership instead: aws.group_membership.)
    nested_group   the user leaves the nested group they are really in (entra.group_member on the nested group).
                   The path never worked in AWS; the nested group may serve other apps: the summary says so.
    direct_user    the account assignment to the user (aws.account_assignment). When every direct path of that
                   user is removed, their direct app assignment grants nothing kept any more, so it goes too
                   (entra.app_role_assignment): SCIM then deprovisions them unless a group still brings them in.
    idc_only       through an Identity Center group: the user's membership of that group (aws.group_membership);
                   a user's own assignment, or a group row with no user: the account assignment.
    orphaned       the account assignment (its principal no longer exists).
Paths ended by the same write give one change. Changes are ordered AWS assignments, memberships, app assignments.

Applier contract (payload keys; "already gone" counts as done, since a plan comes from a snapshot and an
interrupted apply is finished by running again):
    aws.account_assignment   instance_arn, account_id, permission_set_arn, principal_type, principal_id
                             -> sso-admin DeleteAccountAssignment (TargetType AWS_ACCOUNT), then wait on
                             DescribeAccountAssignmentDeletionStatus
    aws.group_membership     identity_store_id, membership_id (+ group_id, user_id, idc_principal_type/_id,
                             instance_arn, grants_seen to check)
                             -> identitystore DeleteGroupMembership
    entra.group_member       group_id, member_id -> DELETE /groups/{group_id}/members/{member_id}/$ref
                             (+ for an assigned group: idc_principal_type/_id, instance_arn, grants_seen)
    entra.app_role_assignment service_principal_id, assignment_id (+ principal_id; idc_principal_*, instance_arn,
                             grants_seen of the user's direct assignments, to check)
                             -> DELETE /servicePrincipals/{service_principal_id}/appRoleAssignedTo/{assignment_id}
grants_seen: the "account_id permission_set_arn" pairs the principal was assigned as the reviewers saw it; the
appliers (runbooks/review_apply.py) re-read them and refuse a removal whose group now grants more.
The access table holds none of the ids not in its columns: snapshot_ids.SnapshotIds reads them (instance ARN from
the manifest or idc_instances, identityStoreId from idc_instances, membership ids from idc_group_memberships, the
service principal id from entra_service_principal, assignment ids from entra_app_role_assignments where
principalId is the Entra user and principalType User).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd

from idbridge.plan import Change, Plan
from idbridge.review.layout import clean
from idbridge.review.path_index import PathIndex, who
from idbridge.review.snapshot_ids import SnapshotIds

log = logging.getLogger(__name__)
STEP = "review-removals"
_ORDER = {"aws.account_assignment": 0, "aws.group_membership": 1, "entra.group_member": 2,
          "entra.app_role_assignment": 3}
_SHOWN = 5  # accesses named in a summary, then counted


@dataclass
class _Draft:
    kind: str
    key: str                                     # what the plan shows; identity is (kind, payload)
    what: str                                    # the summary's verb phrase
    before: dict
    payload: dict
    ends: list[str]                              # every path_id the write ends
    note: str = ""
    decided: dict[str, None] = field(default_factory=dict)  # the Remove decisions it carries out, in order
    because: list[str] = field(default_factory=list)        # decisions that led to it without it ending them

    @property
    def identity(self) -> tuple:
        return self.kind, tuple(sorted(self.payload.items()))


def plan_removals(decisions: pd.DataFrame, access: pd.DataFrame, snapshot_tables) -> Plan:
    """decisions: read_decisions' frame. snapshot_tables: a Snapshot, MemoryTables or {name: DataFrame}, for the
    ids the access table lacks."""
    index, ids = PathIndex(access), SnapshotIds(snapshot_tables)
    removes = decisions[decisions["decision"].eq("Remove")].drop_duplicates("path_id")
    unknown = [p for p in removes["path_id"] if p not in index]
    if unknown:
        raise ValueError(f"decisions name path_ids not in the access table: {unknown[:5]}")
    kept = set(decisions.loc[decisions["decision"].eq("Keep"), "path_id"])
    where = {r["path_id"]: _where(r) for r in removes.to_dict("records")}
    by = {r["path_id"]: clean(r.get("reviewer")) or "an unnamed reviewer" for r in removes.to_dict("records")}
    drafts: dict[tuple, _Draft] = {}
    for path_id in where:
        draft = _draft(index.row(path_id), index, ids)
        drafts.setdefault(draft.identity, draft).decided[path_id] = None
    for draft in _app_assignments(where, index, ids):
        drafts.setdefault(draft.identity, draft)
    ordered = sorted(drafts.values(), key=lambda d: (_ORDER[d.kind], d.key))
    ended = {p for d in ordered for p in d.ends}
    return Plan(STEP, [_change(d, index, kept, where, by, ended) for d in ordered])


def _where(decision: dict) -> str:
    """'review-x.xlsx Access!O12 (comment)': where a change was decided, for the change log."""
    place = " ".join(clean(decision.get(k)) for k in ("workbook", "cell") if clean(decision.get(k)))
    comment = clean(decision.get("comment"))
    return f"{place} ({comment})" if comment else place


# ----------------------------------------------------------------------------------------------- drafts


def removal_scope(row: dict, index: PathIndex) -> list[str]:
    """Every path_id the write a Remove of `row` makes would end (the row's own included), chosen as _draft
    chooses the write: what a reviewer must see before deciding (the pack's "Removing this also ends"), and
    what makes two decisions on different rows one decision (decisions.contradictions)."""
    kind, own = row["path_kind"], [row["path_id"]]
    idc_group_member = row["idc_principal_type"] == "GROUP" and row["idc_user_id"]
    if kind in ("group", "nested_group"):
        group = row["nested_group_id"] if kind == "nested_group" else row["entra_group_id"]
        if group and row["entra_user_id"]:
            return index.entra_membership.get((row["entra_user_id"], group), own)
        if not idc_group_member:
            return own
        return index.idc_membership.get((row["idc_user_id"], row["idc_principal_id"]), own)
    if kind == "idc_only" and idc_group_member:
        return index.idc_membership.get((row["idc_user_id"], row["idc_principal_id"]), own)
    return index.assignment.get((row["account_id"], row["permission_set_arn"], row["idc_principal_type"],
                                 row["idc_principal_id"]), own)


def _draft(row: dict, index: PathIndex, ids: SnapshotIds) -> _Draft:
    kind = row["path_kind"]
    idc_group_member = row["idc_principal_type"] == "GROUP" and row["idc_user_id"]
    if kind in ("group", "nested_group"):
        group = row["nested_group_id"] if kind == "nested_group" else row["entra_group_id"]
        if group and row["entra_user_id"]:
            return _entra_membership(row, index, ids)
        if not idc_group_member:
            raise ValueError(f"path {row['path_id']} ({index.describe(row['path_id'])}): neither its Entra group "
                             "membership nor its Identity Center one is known")
        return _idc_membership(row, index, ids)  # Entra's side unknown (group not collected under sync all)
    if kind == "idc_only" and idc_group_member:
        return _idc_membership(row, index, ids)
    return _account_assignment(row, index, ids)


def _entra_membership(row: dict, index: PathIndex, ids: SnapshotIds) -> _Draft:
    nested = row["path_kind"] == "nested_group"
    group_id = row["nested_group_id"] if nested else row["entra_group_id"]
    group = (row["nested_group_name"] if nested else row["entra_group_name"]) or group_id
    user_id, user = row["entra_user_id"], who(row)
    note = (f"; the path never worked in AWS, and {group} may grant access to other apps than AWS"
            if nested else "; AWS follows at the next provisioning cycle")
    payload = {"group_id": group_id, "member_id": user_id}
    if not nested and row["idc_principal_type"] == "GROUP" and row["idc_principal_id"]:
        # what the group granted as reviewed: the applier refuses when it grants more now
        payload.update(_granted(row["idc_principal_type"], row["idc_principal_id"], index, ids))
    return _Draft("entra.group_member", f"{group} / member {user}", f"Remove {user} from Entra group {group}",
                  {"group": group, "group_id": group_id, "member": user, "member_id": user_id},
                  payload, removal_scope(row, index), note=note)


def _granted(principal_type: str, principal_id: str, index: PathIndex, ids: SnapshotIds) -> dict:
    """Payload keys for the applier's re-read: the Identity Center principal and the account / permission set
    pairs it was assigned in the access table the reviewers saw ("account_id permission_set_arn" strings)."""
    c = index.columns
    hit = (c["idc_principal_type"] == principal_type) & (c["idc_principal_id"] == principal_id)
    seen = tuple(sorted({f"{a} {p}" for a, p in zip(c["account_id"][hit], c["permission_set_arn"][hit]) if a}))
    try:
        instance = ids.instance_arn()
    except LookupError:  # no instance in the snapshot: the applier cannot compare, and says so
        instance = ""
    return {"idc_principal_type": principal_type, "idc_principal_id": principal_id, "instance_arn": instance,
            "grants_seen": seen}


def _account_assignment(row: dict, index: PathIndex, ids: SnapshotIds) -> _Draft:
    account, ps_arn = row["account_id"], row["permission_set_arn"]
    ptype, pid = row["idc_principal_type"], row["idc_principal_id"]
    principal = row["idc_principal_name"] or who(row)
    ps = row["permission_set_name"] or ps_arn
    where = f"{row['account_name'] or account} ({account})"
    return _Draft("aws.account_assignment", f"{ptype} {principal} -> {account} / {ps}",
                  f"Delete the account assignment of {ps} on {where} to {ptype.lower()} {principal}",
                  {"account": where, "permission_set": ps, "principal_type": ptype, "principal": principal,
                   "principal_id": pid},
                  {"instance_arn": ids.instance_arn(), "account_id": account, "permission_set_arn": ps_arn,
                   "principal_type": ptype, "principal_id": pid},
                  removal_scope(row, index),
                  note="; the principal no longer exists" if row["path_kind"] == "orphaned" else "")


def _idc_membership(row: dict, index: PathIndex, ids: SnapshotIds) -> _Draft:
    group_id, user_id = row["idc_principal_id"], row["idc_user_id"]
    group, user = row["idc_principal_name"] or group_id, who(row)
    return _Draft("aws.group_membership", f"{group} / member {user}",
                  f"Remove {user} from Identity Center group {group}",
                  {"group": group, "group_id": group_id, "member": user, "user_id": user_id},
                  {"identity_store_id": ids.identity_store_id(), "membership_id": ids.membership(group_id, user_id),
                   "group_id": group_id, "user_id": user_id, **_granted("GROUP", group_id, index, ids)},
                  removal_scope(row, index),
                  note=("; Entra does not list this membership, so SCIM will not add it back"
                        if row["path_kind"] == "idc_only" else
                        "; Entra's side of this membership is unknown: if Entra has it, SCIM adds it back"))


def _app_assignments(removed: dict, index: PathIndex, ids: SnapshotIds) -> list[_Draft]:
    """Direct app assignments of users all of whose direct paths are removed."""
    users = dict.fromkeys(index.row(p)["entra_user_id"] for p in removed if index.row(p)["path_kind"] == "direct_user")
    drafts = []
    for user_id in filter(None, users):
        direct = index.direct_by_user.get(user_id, [])
        if not all(p in removed for p in direct):
            continue
        user = who(index.row(direct[0]))
        assignments = ids.app_assignments(user_id)
        if assignments is None:
            log.warning("%s: entra_app_role_assignments / entra_service_principal not collected: the direct app "
                        "assignment is not in the plan", user)
            continue
        for assignment in assignments:
            drafts.append(_Draft(
                "entra.app_role_assignment", f"{ids.app_name} / {user} ({assignment['id']})",
                f"Remove the direct assignment of {user} to the app {ids.app_name}",
                {"app": ids.app_name, "principal": user, "principal_id": user_id, "assignment_id": assignment["id"],
                 "app_role_id": assignment.get("appRoleId", "")},
                {"service_principal_id": ids.service_principal_id, "assignment_id": assignment["id"],
                 "principal_id": user_id, **_idc_user(direct, index, ids)}, [], because=direct,
                note=("; every direct account assignment of the user is removed above; SCIM deprovisions them at "
                      "the next cycle unless an assigned group still brings them in")))
    return drafts


def _idc_user(direct: list[str], index: PathIndex, ids: SnapshotIds) -> dict:
    """The Identity Center user of a person's direct paths, with their direct assignments as reviewed: the
    app assignment goes only while the user has no direct access the reviewers never saw."""
    principal = next((index.row(p)["idc_principal_id"] for p in direct
                      if index.row(p)["idc_principal_type"] == "USER" and index.row(p)["idc_principal_id"]), "")
    return _granted("USER", principal, index, ids) if principal else {}


# ----------------------------------------------------------------------------------------------- changes


def _names(path_ids: list[str], index: PathIndex, kept: set[str]) -> str:
    shown = "; ".join(index.describe(p) + (" [marked Keep]" if p in kept else "") for p in path_ids[:_SHOWN])
    return shown + (f"; and {len(path_ids) - _SHOWN} more" if len(path_ids) > _SHOWN else "")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "es" if word.endswith("s") else "s")


def _change(draft: _Draft, index: PathIndex, kept: set[str], where: dict, by: dict, ended: set[str]) -> Change:
    ends = list(dict.fromkeys(draft.ends))
    also = [p for p in ends if p not in draft.decided]
    conflicts = [p for p in also if p in kept]
    # the same person's other ways to the same account and permission set that no change ends
    remaining = [p for p in dict.fromkeys(q for d in draft.decided for q in index.same_target(d)) if p not in ended]
    summary = ("CONFLICT with a Keep: " if conflicts else "") + draft.what
    if draft.decided:
        summary += f": ends {_plural(len(draft.decided), 'access')} reviewed Remove"
    if also:
        summary += f"; ALSO ends {len(also)} more: {_names(also, index, kept)}"
    if remaining:
        summary += f"; still reached another way: {_names(remaining, index, kept)}"
    summary += draft.note
    before = {**draft.before, "ends": [index.describe(p) for p in ends],
              "also_ends": [index.describe(p) for p in also],
              "marked_keep": [index.describe(p) for p in conflicts],
              "still_reached_by": [index.describe(p) for p in remaining],
              "decided_in": [where[p] for p in (draft.decided or draft.because)],
              # who decided (the packs' reviewers): the change log keeps it next to the write
              "decided_by": list(dict.fromkeys(by[p] for p in (draft.decided or draft.because)))}
    return Change("delete", draft.kind, draft.key, summary, before=before, after=None, payload=draft.payload)
