"""Appliers of the AWS access step: one boto3 call (or two) per change kind, through the paced sso-admin client.

Account assignments are asynchronous in AWS and CreateAccountAssignment allows 15 outstanding requests (rate
limits, "cannot be raised"): AssignmentWindow keeps at most that many in flight, waiting for the oldest to finish
before sending another, and collects the ones that end FAILED. ProvisionPermissionSet (3 concurrent allowed) is
sent one at a time and waited for.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

from idbridge.plan import Change, Outcome, apply_plan, log_change
from idbridge.runbooks import abac
from idbridge.runbooks.aws_access import AccessPlan
from idbridge.runbooks.context import Runbook, RunbookError

MAX_OUTSTANDING = 15          # CreateAccountAssignment's outstanding asynchronous calls
POLL_SECONDS = (0.2, 0.5, 1, 2, 3)
TIMEOUT_SECONDS = 900


def _pause(attempt: int) -> None:
    time.sleep(POLL_SECONDS[min(attempt, len(POLL_SECONDS) - 1)])


@dataclass
class AssignmentWindow:
    sso: object
    instance_arn: str
    limit: int = MAX_OUTSTANDING
    outstanding: OrderedDict = field(default_factory=OrderedDict)   # request id -> (change, "create"|"delete")
    failed: list[tuple[Change, str]] = field(default_factory=list)
    most_in_flight: int = 0

    def submit(self, change: Change, call) -> dict:
        while len(self.outstanding) >= self.limit:
            self._settle(wait_for_one=True)
        status = call()
        self.outstanding[status["RequestId"]] = (change, change.action)
        self.most_in_flight = max(self.most_in_flight, len(self.outstanding))
        self._settle(wait_for_one=False)
        return {"requestId": status["RequestId"], "status": status["Status"]}

    def _status(self, request_id: str, action: str) -> dict:
        if action == "create":
            return self.sso.describe_account_assignment_creation_status(
                InstanceArn=self.instance_arn, AccountAssignmentCreationRequestId=request_id
            )["AccountAssignmentCreationStatus"]
        return self.sso.describe_account_assignment_deletion_status(
            InstanceArn=self.instance_arn, AccountAssignmentDeletionRequestId=request_id
        )["AccountAssignmentDeletionStatus"]

    def _settle(self, *, wait_for_one: bool) -> None:
        """Forget finished requests (noting failures); with wait_for_one, until at least one has finished."""
        started, attempt = time.monotonic(), 0
        while True:
            done = 0
            for request_id, (change, action) in list(self.outstanding.items()):
                status = self._status(request_id, action)
                if status["Status"] != "IN_PROGRESS":
                    del self.outstanding[request_id]
                    done += 1
                    if status["Status"] == "FAILED":
                        self.failed.append((change, status.get("FailureReason") or "FAILED"))
                if not wait_for_one:
                    break  # a cheap look at the oldest only: the window is settled properly when full
            if done or not wait_for_one or not self.outstanding:
                return
            if time.monotonic() - started > TIMEOUT_SECONDS:
                raise RunbookError(f"{len(self.outstanding)} account assignment request(s) still in progress after "
                                   f"{TIMEOUT_SECONDS} s")
            _pause(attempt)
            attempt += 1

    def drain(self) -> None:
        while self.outstanding:
            self._settle(wait_for_one=True)


def _wait_provisioning(sso, instance: str, request_id: str) -> dict:
    started, attempt = time.monotonic(), 0
    while True:
        status = sso.describe_permission_set_provisioning_status(
            InstanceArn=instance, ProvisionPermissionSetRequestId=request_id)["PermissionSetProvisioningStatus"]
        if status["Status"] == "SUCCEEDED":
            return status
        if status["Status"] == "FAILED":
            raise RunbookError(f"ProvisionPermissionSet failed: {status.get('FailureReason') or 'no reason given'}")
        if time.monotonic() - started > TIMEOUT_SECONDS:
            raise RunbookError(f"ProvisionPermissionSet {request_id} still in progress after {TIMEOUT_SECONDS} s")
        _pause(attempt)
        attempt += 1


def appliers(rb: Runbook, access: AccessPlan, window: AssignmentWindow) -> dict:
    sso, instance = rb.aws("sso-admin"), rb.instance.arn

    def arn(change: Change) -> str:
        name = change.payload.get("set") or change.key
        if name not in access.arns:
            raise RunbookError(f"permission set {name} does not exist (its creation did not happen)")
        return access.arns[name]

    def permission_set(change: Change) -> dict:
        if change.action == "create":
            made = sso.create_permission_set(InstanceArn=instance, **change.after)["PermissionSet"]
            access.arns[change.key] = made["PermissionSetArn"]
            return {"permissionSetArn": made["PermissionSetArn"]}
        sso.update_permission_set(InstanceArn=instance, PermissionSetArn=arn(change), **change.after)
        return {}

    def managed(change: Change) -> dict:
        target = {"InstanceArn": instance, "PermissionSetArn": arn(change)}
        if change.action == "delete":
            sso.detach_managed_policy_from_permission_set(**target, ManagedPolicyArn=change.before["ManagedPolicyArn"])
        else:
            sso.attach_managed_policy_to_permission_set(**target, ManagedPolicyArn=change.after["ManagedPolicyArn"])
        return {}

    def customer_managed(change: Change) -> dict:
        target = {"InstanceArn": instance, "PermissionSetArn": arn(change)}
        if change.action == "delete":
            sso.detach_customer_managed_policy_reference_from_permission_set(
                **target, CustomerManagedPolicyReference=change.before)
        else:
            sso.attach_customer_managed_policy_reference_to_permission_set(
                **target, CustomerManagedPolicyReference=change.after)
        return {}

    def inline(change: Change) -> dict:
        target = {"InstanceArn": instance, "PermissionSetArn": arn(change)}
        if change.action == "delete":
            sso.delete_inline_policy_from_permission_set(**target)
        else:
            sso.put_inline_policy_to_permission_set(**target, InlinePolicy=change.after["InlinePolicy"])
        return {}

    def boundary(change: Change) -> dict:
        target = {"InstanceArn": instance, "PermissionSetArn": arn(change)}
        if change.action == "delete":
            sso.delete_permissions_boundary_from_permission_set(**target)
        else:
            sso.put_permissions_boundary_to_permission_set(**target, PermissionsBoundary=change.after)
        return {}

    def provision(change: Change) -> dict:
        status = sso.provision_permission_set(InstanceArn=instance, PermissionSetArn=arn(change),
                                              TargetType="ALL_PROVISIONED_ACCOUNTS")["PermissionSetProvisioningStatus"]
        done = _wait_provisioning(sso, instance, status["RequestId"])
        return {"requestId": done["RequestId"], "status": done["Status"]}

    def assignment(change: Change) -> dict:
        p = change.payload
        if not p["principal"]:
            raise RunbookError(f"group {change.after['group']!r} is not in Identity Center")
        request = {"InstanceArn": instance, "TargetId": p["account"], "TargetType": "AWS_ACCOUNT",
                   "PermissionSetArn": arn(change), "PrincipalType": p["type"], "PrincipalId": p["principal"]}
        if change.action == "delete":
            return window.submit(change, lambda: sso.delete_account_assignment(**request)
                                 ["AccountAssignmentDeletionStatus"])
        return window.submit(change, lambda: sso.create_account_assignment(**request)
                             ["AccountAssignmentCreationStatus"])

    return {"aws.permission_set": permission_set, "aws.managed_policy": managed,
            "aws.customer_managed_policy": customer_managed, "aws.inline_policy": inline,
            "aws.permissions_boundary": boundary, "aws.provision_permission_set": provision,
            "aws.account_assignment": assignment, "aws.abac_configuration": abac.instance_applier(sso, instance)}


def apply(rb: Runbook, access: AccessPlan) -> list[Outcome]:
    """Apply as the desired state allows. Assignments to groups not yet provisioned stop the step before any
    write; assignment requests that end FAILED are reported (and logged) once all have finished."""
    if rb.desired.apply and access.pending_groups:
        raise RunbookError("not in Identity Center yet, so nothing was written: " + ", ".join(access.pending_groups)
                           + ". Run 02_setup_provisioning (apply: true) and let its first cycle finish, then run "
                             "this again.")
    window = AssignmentWindow(rb.aws("sso-admin"), rb.instance.arn)
    outcomes = apply_plan(access.plan, appliers(rb, access, window), apply=rb.desired.apply,
                          allow_removals=rb.desired.allow_removals, change_log=rb.change_log)
    window.drain()
    failed = {id(change): reason for change, reason in window.failed}
    for index, outcome in enumerate(outcomes):
        if id(outcome.change) in failed:
            reason = failed[id(outcome.change)]
            outcomes[index] = Outcome(outcome.change, "failed", reason)
            log_change(rb.change_log, access.plan.step, outcome.change, "failed", {"error": reason})
    return outcomes
