"""The demo's earlier run: what the demo organisation looked like a while ago, so that `30_changes` has changes to
show on the very first demo.

Before the earlier snapshot is collected, the sandbox's AWS side is set back through the AWS APIs the sandbox
serves (Identity Store, IAM Identity Center) — never by editing a snapshot: one admin is not yet in
AWS-Prod-Admins, and AWS-Billing still holds a Billing assignment on a second account. After the collection both
are put forward again, so the demo's own run sees the scenario exactly as written, and 30 shows a person gaining
admin access to the production accounts and an assignment removed (with the access it ended).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ADMIN_GROUP = "AWS-Prod-Admins"
JOINS = "kwame.mensah@northwind-analytics.com"   # joins ADMIN_GROUP after the earlier run
REMOVED_GROUP, REMOVED_SET, REMOVED_ACCOUNT = "AWS-Billing", "Billing", "log-archive"  # removed after it
PREVIOUS = "previous-run"


@dataclass
class _Aws:
    ids: object
    sso: object
    orgs: object
    instance: str
    store: str


def _clients(box) -> _Aws:
    import boto3

    from idbridge.core.parameters import SANDBOX_AWS_ACCESS_KEY_ID, SANDBOX_AWS_SECRET_ACCESS_KEY

    ep = box.endpoints
    session = boto3.session.Session(aws_access_key_id=SANDBOX_AWS_ACCESS_KEY_ID,
                                    aws_secret_access_key=SANDBOX_AWS_SECRET_ACCESS_KEY, region_name=ep.region)

    def client(name):
        return session.client(name, endpoint_url=ep.aws_endpoint_url)

    return _Aws(client("identitystore"), client("sso-admin"), client("organizations"), ep.instance_arn,
                ep.identity_store_id)


def _group_id(aws: _Aws, name: str) -> str:
    found = aws.ids.list_groups(IdentityStoreId=aws.store, Filters=[
        {"AttributePath": "DisplayName", "AttributeValue": name}])["Groups"]
    return found[0]["GroupId"]


def _user_id(aws: _Aws, name: str) -> str:
    found = aws.ids.list_users(IdentityStoreId=aws.store, Filters=[
        {"AttributePath": "UserName", "AttributeValue": name}])["Users"]
    return found[0]["UserId"]


def _assignment(aws: _Aws) -> dict:
    sets = aws.sso.list_permission_sets(InstanceArn=aws.instance)["PermissionSets"]
    arn = next(a for a in sets if aws.sso.describe_permission_set(InstanceArn=aws.instance, PermissionSetArn=a)
               ["PermissionSet"]["Name"] == REMOVED_SET)
    accounts = [a for page in aws.orgs.get_paginator("list_accounts").paginate() for a in page["Accounts"]]
    account = next(a["Id"] for a in accounts if a["Name"] == REMOVED_ACCOUNT)
    return {"InstanceArn": aws.instance, "TargetId": account, "TargetType": "AWS_ACCOUNT",
            "PermissionSetArn": arn, "PrincipalType": "GROUP", "PrincipalId": _group_id(aws, REMOVED_GROUP)}


def _wait(aws: _Aws, status: dict, kind: str) -> None:
    """Account assignments are made asynchronously: wait (briefly) until the sandbox says it is done."""
    key, call = (("AccountAssignmentCreationStatus", aws.sso.describe_account_assignment_creation_status)
                 if kind == "create" else
                 ("AccountAssignmentDeletionStatus", aws.sso.describe_account_assignment_deletion_status))
    request = status[key]["RequestId"]
    for _ in range(50):
        state = status[key]["Status"]
        if state != "IN_PROGRESS":
            if state != "SUCCEEDED":
                raise RuntimeError(f"the sandbox did not {kind} the demo's assignment: {status[key]}")
            return
        time.sleep(0.05)
        status = call(InstanceArn=aws.instance, **{f"AccountAssignment{'Creation' if kind == 'create' else 'Deletion'}"
                                                   "RequestId": request})
    raise RuntimeError(f"the sandbox did not {kind} the demo's assignment in time")


def set_back(box) -> None:
    """The organisation as it was before: JOINS not in ADMIN_GROUP, the extra Billing assignment in place."""
    aws = _clients(box)
    group, user = _group_id(aws, ADMIN_GROUP), _user_id(aws, JOINS)
    membership = aws.ids.get_group_membership_id(IdentityStoreId=aws.store, GroupId=group,
                                                 MemberId={"UserId": user})["MembershipId"]
    aws.ids.delete_group_membership(IdentityStoreId=aws.store, MembershipId=membership)
    _wait(aws, aws.sso.create_account_assignment(**_assignment(aws)), "create")


def put_forward(box) -> None:
    """Back to the scenario as written: JOINS in ADMIN_GROUP again, the extra assignment removed."""
    aws = _clients(box)
    aws.ids.create_group_membership(IdentityStoreId=aws.store, GroupId=_group_id(aws, ADMIN_GROUP),
                                    MemberId={"UserId": _user_id(aws, JOINS)})
    _wait(aws, aws.sso.delete_account_assignment(**_assignment(aws)), "delete")


def earlier_run(box, params_file: Path, out: Path) -> Path | None:
    """Collect the earlier snapshot into out/previous-run/snapshot with the organisation set back, then put it
    forward; the snapshot's path, or None when the scenario lacks what is changed (another scenario)."""
    from idbridge.collect.run import collect
    from idbridge.core.parameters import load_parameters

    started = time.monotonic()
    try:
        set_back(box)
    except (StopIteration, IndexError, KeyError) as exc:
        log.warning("no earlier run for the changes report: the scenario has no %s / %s / %s (%s)", ADMIN_GROUP,
                    JOINS, REMOVED_GROUP, type(exc).__name__)
        return None
    try:
        target = collect(load_parameters(params_file), out / PREVIOUS / "snapshot", params_file=str(params_file))
    finally:
        put_forward(box)
    log.info("earlier run for the changes report collected in %.1f s", time.monotonic() - started)
    return Path(target)
