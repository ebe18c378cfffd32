"""Appliers of the review-removal plan (review/removals.py, step "review-removals"), through plan.apply_plan_async.

A removal plan is made from the snapshot the reviewers saw, often weeks old. So before each write the current
state is read again (the check of each kind, run in a dry run too):
- the access is already gone (someone removed it, or an interrupted apply got that far): AlreadyDone, counted as
  done, nothing written;
- the group (or, for an app assignment, the user) now grants an account / permission set the reviewers never saw:
  Refused, naming what is new; that removal is not made, the others go on. The removal was decided on what the
  group granted then; taking someone out of a group that now grants more ends access nobody reviewed.
The write itself treats "not found" as AlreadyDone too (gone between the read and the write).

    entra.group_member        GET /groups/{id}/members (is the user still a direct member?), then
                              DELETE /groups/{id}/members/{id}/$ref (Graph answers 204 No Content)
    entra.app_role_assignment GET /servicePrincipals/{id}/appRoleAssignedTo (is the assignment still there, for
                              the same principal?), then DELETE /servicePrincipals/{id}/appRoleAssignedTo/{id}
    aws.account_assignment    ListAccountAssignments (still assigned?), then DeleteAccountAssignment and
                              DescribeAccountAssignmentDeletionStatus until it leaves IN_PROGRESS
    aws.group_membership      DescribeGroupMembership (still a member?), then DeleteGroupMembership
What a group or user grants now: sso-admin ListAccountAssignmentsForPrincipal (its own rows only: for a user
AWS adds the rows of its groups), compared with the payload's grants_seen.
"""

from __future__ import annotations

import time

from idbridge.clients.aws.calls import error_code, read_all
from idbridge.plan import AlreadyDone, Change, Outcome, Plan, Refused, apply_plan_async
from idbridge.runbooks import graph
from idbridge.runbooks.aws_apply import TIMEOUT_SECONDS, _pause
from idbridge.runbooks.context import Runbook, RunbookError

NOT_FOUND = "ResourceNotFoundException"


class ReviewAppliers:
    """The checks and appliers of the four removal kinds, on one runbook's clients."""

    def __init__(self, rb: Runbook):
        self.rb = rb
        self._ps_names: dict[str, str] = {}

    # ------------------------------------------------------------------------------------- what is granted now

    def _instance(self, change: Change) -> str:
        return change.payload.get("instance_arn") or self.rb.instance.arn

    def _ps_name(self, instance: str, arn: str) -> str:
        if arn not in self._ps_names:
            try:
                described = self.rb.aws("sso-admin").describe_permission_set(InstanceArn=instance,
                                                                             PermissionSetArn=arn)
                self._ps_names[arn] = described["PermissionSet"]["Name"]
            except Exception as exc:
                if error_code(exc) != NOT_FOUND:
                    raise
                self._ps_names[arn] = arn
        return self._ps_names[arn]

    def _new_grants(self, change: Change, who: str) -> None:
        """Refused when the payload's principal is now assigned an account / permission set it was not when
        reviewed."""
        p = change.payload
        if not p.get("idc_principal_id"):
            return  # nothing to compare with (a nested group, a user not in Identity Center)
        instance = self._instance(change)
        rows = read_all(self.rb.aws("sso-admin"), "list_account_assignments_for_principal", "AccountAssignments",
                        InstanceArn=instance, PrincipalType=p["idc_principal_type"],
                        PrincipalId=p["idc_principal_id"])
        now = {f"{r['AccountId']} {r['PermissionSetArn']}" for r in rows
               if r.get("PrincipalType") == p["idc_principal_type"] and r.get("PrincipalId") == p["idc_principal_id"]}
        new = sorted(now - set(p.get("grants_seen") or ()))
        if new:
            named = "; ".join(f"account {pair.split(' ', 1)[0]} / permission set "
                              f"{self._ps_name(instance, pair.split(' ', 1)[1])}" for pair in new)
            raise Refused(f"{who} now also grants {named}, which the reviewers never saw: not removed. Review this "
                          "access again (the next review pack shows it) before removing it")

    # ------------------------------------------------------------------------------------- Entra

    async def check_group_member(self, change: Change) -> None:
        p = change.payload
        try:
            members = await graph.listing(self.rb.graph, f"/groups/{p['group_id']}/members", **{"$select": "id"})
        except Exception as exc:
            if graph.status_of(exc) == 404:
                raise AlreadyDone(f"already gone: the Entra group {p['group_id']} no longer exists") from None
            raise
        if p["member_id"] not in {m.get("id") for m in members}:
            raise AlreadyDone("already gone: the user is no longer a direct member of the Entra group")
        self._new_grants(change, f"the group {(change.before or {}).get('group') or p['group_id']}")

    async def remove_group_member(self, change: Change) -> dict:
        p = change.payload
        try:
            await graph.delete(self.rb.graph, f"/groups/{p['group_id']}/members/{p['member_id']}/$ref")
        except Exception as exc:
            if graph.status_of(exc) == 404:
                raise AlreadyDone("already gone: removed from the Entra group since it was read") from None
            raise
        return {"removed": "member", "group_id": p["group_id"], "member_id": p["member_id"]}

    async def check_app_assignment(self, change: Change) -> None:
        p = change.payload
        listed = await graph.listing(self.rb.graph, f"/servicePrincipals/{p['service_principal_id']}/appRoleAssignedTo",
                                     **{"$select": "id,principalId"})
        found = next((a for a in listed if a.get("id") == p["assignment_id"]), None)
        if found is None:
            raise AlreadyDone("already gone: the app assignment no longer exists")
        if found.get("principalId") != p["principal_id"]:
            raise Refused(f"the assignment {p['assignment_id']} now belongs to principal {found.get('principalId')}, "
                          f"not {p['principal_id']}: not removed")
        self._new_grants(change, "the user's own account assignments")

    async def remove_app_assignment(self, change: Change) -> dict:
        p = change.payload
        try:
            await graph.delete(self.rb.graph, f"/servicePrincipals/{p['service_principal_id']}/appRoleAssignedTo/"
                                              f"{p['assignment_id']}")
        except Exception as exc:
            if graph.status_of(exc) == 404:
                raise AlreadyDone("already gone: the app assignment was removed since it was read") from None
            raise
        return {"removed": "app role assignment", "assignment_id": p["assignment_id"]}

    # ------------------------------------------------------------------------------------- AWS

    def check_account_assignment(self, change: Change) -> None:
        p = change.payload
        listed = read_all(self.rb.aws("sso-admin"), "list_account_assignments", "AccountAssignments",
                          InstanceArn=p["instance_arn"], AccountId=p["account_id"],
                          PermissionSetArn=p["permission_set_arn"])
        if not any((a.get("PrincipalType"), a.get("PrincipalId")) == (p["principal_type"], p["principal_id"])
                   for a in listed):
            raise AlreadyDone("already gone: the account assignment no longer exists")

    def remove_account_assignment(self, change: Change) -> dict:
        p = change.payload
        sso = self.rb.aws("sso-admin")
        try:
            status = sso.delete_account_assignment(
                InstanceArn=p["instance_arn"], TargetId=p["account_id"], TargetType="AWS_ACCOUNT",
                PermissionSetArn=p["permission_set_arn"], PrincipalType=p["principal_type"],
                PrincipalId=p["principal_id"])["AccountAssignmentDeletionStatus"]
        except Exception as exc:
            if error_code(exc) == NOT_FOUND:
                raise AlreadyDone("already gone: the account assignment was removed since it was read") from None
            raise
        started, attempt = time.monotonic(), 0
        while status["Status"] == "IN_PROGRESS":
            if time.monotonic() - started > TIMEOUT_SECONDS:
                raise RunbookError(f"account assignment deletion {status['RequestId']} still in progress after "
                                   f"{TIMEOUT_SECONDS} s: run again to see it finished")
            _pause(attempt)
            attempt += 1
            status = sso.describe_account_assignment_deletion_status(
                InstanceArn=p["instance_arn"], AccountAssignmentDeletionRequestId=status["RequestId"]
            )["AccountAssignmentDeletionStatus"]
        if status["Status"] == "FAILED":
            raise RunbookError(f"DeleteAccountAssignment failed: {status.get('FailureReason') or 'no reason given'}")
        return {"requestId": status["RequestId"], "status": status["Status"]}

    def check_group_membership(self, change: Change) -> None:
        p = change.payload
        try:
            found = self.rb.aws("identitystore").describe_group_membership(
                IdentityStoreId=p["identity_store_id"], MembershipId=p["membership_id"])
        except Exception as exc:
            if error_code(exc) == NOT_FOUND:
                raise AlreadyDone("already gone: the Identity Center group membership no longer exists") from None
            raise
        if found.get("GroupId") != p["group_id"] or (found.get("MemberId") or {}).get("UserId") != p["user_id"]:
            raise Refused(f"membership {p['membership_id']} is now of another group or user than reviewed: not "
                          "removed")
        self._new_grants(change, f"the Identity Center group {(change.before or {}).get('group') or p['group_id']}")

    def remove_group_membership(self, change: Change) -> dict:
        p = change.payload
        try:
            self.rb.aws("identitystore").delete_group_membership(IdentityStoreId=p["identity_store_id"],
                                                                 MembershipId=p["membership_id"])
        except Exception as exc:
            if error_code(exc) == NOT_FOUND:
                raise AlreadyDone("already gone: the membership was removed since it was read") from None
            raise
        return {"removed": "group membership", "membership_id": p["membership_id"]}

    # -------------------------------------------------------------------------------------

    def checks(self) -> dict:
        return {"entra.group_member": self.check_group_member, "entra.app_role_assignment": self.check_app_assignment,
                "aws.account_assignment": self.check_account_assignment,
                "aws.group_membership": self.check_group_membership}

    def appliers(self) -> dict:
        return {"entra.group_member": self.remove_group_member,
                "entra.app_role_assignment": self.remove_app_assignment,
                "aws.account_assignment": self.remove_account_assignment,
                "aws.group_membership": self.remove_group_membership}


async def apply(rb: Runbook, plan: Plan) -> list[Outcome]:
    """Re-read and apply the removal plan as the desired state allows (apply, allow_removals): each change is
    logged to the run's change log with who decided it (its before's decided_by and decided_in)."""
    review = ReviewAppliers(rb)
    return await apply_plan_async(plan, review.appliers(), apply=rb.desired.apply,
                                  allow_removals=rb.desired.allow_removals, change_log=rb.change_log,
                                  checks=review.checks())
