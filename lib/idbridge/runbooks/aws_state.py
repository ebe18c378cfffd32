"""What Identity Center holds now, for the AWS access step: the organisation's accounts (OU path, tags), the
permission sets the desired state names (attributes, policies, boundary, where they are provisioned) and their
account assignments. Reads only, paced like the collectors."""

from __future__ import annotations

from dataclasses import dataclass, field

from idbridge.clients.aws import organizations as aws_org
from idbridge.clients.aws.calls import error_code, fan_out, read_all
from idbridge.runbooks.context import Runbook

PAGE = 100
NOT_PROVISIONED = "LATEST_PERMISSION_SET_NOT_PROVISIONED"


@dataclass
class Account:
    id: str
    name: str
    ou_path: str
    tags: dict[str, str]


@dataclass
class PermissionSet:
    arn: str
    name: str
    description: str | None
    session_duration: str | None
    relay_state: str | None
    managed: set[str] = field(default_factory=set)
    customer_managed: set[tuple[str, str]] = field(default_factory=set)   # (name, path)
    inline: str | None = None
    boundary: dict | None = None
    provisioned_to: set[str] = field(default_factory=set)   # accounts, any version
    outdated_in: set[str] = field(default_factory=set)      # accounts on an older version


@dataclass(frozen=True)
class Assignment:
    account: str
    permission_set_arn: str
    principal_type: str
    principal_id: str


def accounts(rb: Runbook) -> dict[str, Account]:
    """Every account of the organisation; read once per run (Organizations is paced at 5 calls a second)."""
    if "accounts" not in rb.cache:
        rb.cache["accounts"] = _accounts(rb)
    return rb.cache["accounts"]


def _accounts(rb: Runbook) -> dict[str, Account]:
    org = rb.aws("organizations")
    workers = rb.params.collection.concurrency
    rows = aws_org.walk(org, workers)
    tags = aws_org.tags(org, [r["Id"] for r in rows], workers)
    return {r["Id"]: Account(r["Id"], r.get("Name", ""), r["ouPath"],
                             dict(t.split("=", 1) for t in tags.get(r["Id"], []))) for r in rows}


def _boundary(sso, instance: str, arn: str) -> dict | None:
    try:
        return sso.get_permissions_boundary_for_permission_set(InstanceArn=instance,
                                                               PermissionSetArn=arn)["PermissionsBoundary"]
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def _details(sso, instance: str, described: dict) -> PermissionSet:
    arn = described["PermissionSetArn"]
    ps = PermissionSet(arn, described["Name"], described.get("Description"), described.get("SessionDuration"),
                       described.get("RelayState"))
    ps.managed = {p["Arn"] for p in read_all(sso, "list_managed_policies_in_permission_set", "AttachedManagedPolicies",
                                             InstanceArn=instance, PermissionSetArn=arn, MaxResults=PAGE)}
    ps.customer_managed = {(p["Name"], p.get("Path") or "/") for p in read_all(
        sso, "list_customer_managed_policy_references_in_permission_set", "CustomerManagedPolicyReferences",
        InstanceArn=instance, PermissionSetArn=arn, MaxResults=PAGE)}
    inline = sso.get_inline_policy_for_permission_set(InstanceArn=instance, PermissionSetArn=arn).get("InlinePolicy")
    ps.inline = inline or None
    ps.boundary = _boundary(sso, instance, arn)
    # list_accounts_for_provisioned_permission_set pages are capped at 100 items.
    ps.provisioned_to = set(read_all(sso, "list_accounts_for_provisioned_permission_set", "AccountIds",
                                     InstanceArn=instance, PermissionSetArn=arn, MaxResults=PAGE))
    if ps.provisioned_to:
        ps.outdated_in = set(read_all(sso, "list_accounts_for_provisioned_permission_set", "AccountIds",
                                      InstanceArn=instance, PermissionSetArn=arn,
                                      ProvisioningStatus=NOT_PROVISIONED, MaxResults=PAGE))
    return ps


def permission_sets(rb: Runbook, names: set[str]) -> dict[str, PermissionSet]:
    """The instance's permission sets among `names`, by name (the others are not this runbook's business)."""
    sso, instance = rb.aws("sso-admin"), rb.instance.arn
    arns = read_all(sso, "list_permission_sets", "PermissionSets", InstanceArn=instance, MaxResults=PAGE)
    workers = rb.params.collection.concurrency
    described = fan_out(lambda arn: sso.describe_permission_set(InstanceArn=instance, PermissionSetArn=arn)
                        ["PermissionSet"], arns, workers)
    wanted = [d for d in described if d["Name"] in names]
    return {ps.name: ps for ps in fan_out(lambda d: _details(sso, instance, d), wanted, workers)}


def assignments(rb: Runbook, sets: dict[str, PermissionSet]) -> set[Assignment]:
    """Assignments of these permission sets, read where each is provisioned: creating an assignment provisions
    its permission set to the account, so an account it is not provisioned to holds none."""
    sso, instance = rb.aws("sso-admin"), rb.instance.arn
    pairs = [(account, ps.arn) for ps in sets.values() for account in sorted(ps.provisioned_to)]

    def one(pair: tuple[str, str]) -> list[dict]:
        return read_all(sso, "list_account_assignments", "AccountAssignments", InstanceArn=instance,
                        AccountId=pair[0], PermissionSetArn=pair[1], MaxResults=PAGE)

    rows = [row for found in fan_out(one, pairs, rb.params.collection.concurrency) for row in found]
    return {Assignment(r["AccountId"], r["PermissionSetArn"], r["PrincipalType"], r["PrincipalId"]) for r in rows}


def store_id(rb: Runbook, kind: str, attribute: str, value: str) -> str | None:
    """The Identity Center id of the user or group (kind "user" / "group") whose unique `attribute` (userName,
    displayName, ...) is `value` (GetUserId / GetGroupId); None when there is none (not provisioned, or not yet)."""
    store = rb.aws("identitystore", rb.instance.region)
    lookup, id_field = (store.get_user_id, "UserId") if kind == "user" else (store.get_group_id, "GroupId")
    try:
        return lookup(IdentityStoreId=rb.instance.identity_store_id, AlternateIdentifier={
            "UniqueAttribute": {"AttributePath": attribute, "AttributeValue": value}})[id_field]
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def group_ids(rb: Runbook, names: set[str]) -> dict[str, str | None]:
    """Identity Center group id by display name; None for a group not provisioned (yet)."""
    rb.aws("identitystore", rb.instance.region)   # the client, made once before the threads share it
    ordered = sorted(names)
    found = fan_out(lambda name: store_id(rb, "group", "displayName", name), ordered,
                    rb.params.collection.concurrency)
    return dict(zip(ordered, found))


def principal_name(rb: Runbook, principal_type: str, principal_id: str) -> str:
    """A readable name for an assignment to delete (its id when the principal is gone)."""
    store = rb.aws("identitystore", rb.instance.region)
    try:
        if principal_type == "GROUP":
            return store.describe_group(IdentityStoreId=rb.instance.identity_store_id,
                                        GroupId=principal_id)["DisplayName"]
        return store.describe_user(IdentityStoreId=rb.instance.identity_store_id, UserId=principal_id)["UserName"]
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return f"{principal_type.lower()} {principal_id} (no longer in Identity Center)"
        raise
