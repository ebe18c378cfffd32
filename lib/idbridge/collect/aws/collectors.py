"""AWS collectors: one plain function per AWS source of catalogue.SOURCES, run by the runner on worker threads.

    tables = collect_permission_sets(ctx)        # {"idc_permission_sets": DataFrame, ...}

Every call goes through a client from `ctx.aws(...)` (the runner counts them) with the process-wide PACER
installed, which holds each AWS limit below its documented rate so throttling never reaches the user; botocore's
adaptive retries (clients/factory.py) are only the second line. Within a source, independent reads run on a
thread pool of `collection.concurrency` workers; listings use the largest page each API allows.

Table conventions (aws_tables.py): datetimes are ISO-8601 UTC strings to the second ("2026-05-01T12:00:00Z");
lists are Python lists of strings; missing values are None. Specific to these tables:
- idc_instances: every instance seen, the one audited first (aws.instance_arn, else the organisation instance);
- idc_users / idc_groups.externalIds: the ExternalIds' Id values (for SCIM-made objects, the Entra object id or
  whatever the provisioning mapping sends); email: the primary address, else the first;
- idc_permission_set_policies.kind: managed | customer_managed | inline | boundary_managed |
  boundary_customer_managed; `document` holds the inline policy JSON as AWS returns it; policyPath of an
  AWS-managed policy is read from its ARN ("/job-function/");
- org_accounts: status is the account State (Status where State is absent); ouPath is the OU names below the
  root joined by "/" ("" for an account directly under the root); ouId is the parent's id (an OU or the root);
  tags are "key=value" strings, None where they were not read (aws.account_tags: by default only accounts with
  a permission set provisioned are read).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

import pandas as pd

from idbridge.clients.aws import organizations as aws_org
from idbridge.clients.aws.calls import error_code, fan_out, lookup_events, pages, read_all
from idbridge.clients.aws.pacing import PACER
from idbridge.collect.aws import incremental as aws_incremental
from idbridge.collect.aws import trail as aws_trail
from idbridge.collect.aws import walks
from idbridge.collect.aws.tables import table, utc_iso
from idbridge.collect.context import CollectContext, Partial, Tables

PAGE = 100  # MaxResults ceiling of the sso-admin and identitystore listings
PROVISIONING_STATUSES = ("LATEST_PERMISSION_SET_PROVISIONED", "LATEST_PERMISSION_SET_NOT_PROVISIONED")


def _unless_gone(read: Callable[[], list]) -> list:
    """A listing of something deleted since it was listed (SCIM and admins keep working during an audit): AWS
    answers ResourceNotFoundException, which means nothing is left to read, not that the audit failed."""
    try:
        return read()
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return []
        raise


def _client(ctx: CollectContext, service: str, region: str | None = None):
    client = ctx.aws(service, region)
    PACER.install(client)
    return client


def _workers(ctx: CollectContext) -> int:
    return ctx.params.collection.concurrency


# --------------------------------------------------------------------------------------------- instances


def instance_regions(params) -> list[str]:
    """Where to look for instances: aws.region, then aws.extra_regions if the parameters have that key."""
    extra = getattr(params.aws, "extra_regions", None) or []
    return list(dict.fromkeys([params.aws.region, *extra]))


def _order_instances(rows: list[dict], params) -> tuple[list[dict], str | None]:
    """The audited instance first; a problem text when it cannot be told which one that is."""
    wanted = params.aws.instance_arn
    if wanted:
        chosen = [r for r in rows if r["instanceArn"] == wanted]
        if not chosen:
            seen = ", ".join(r["instanceArn"] for r in rows) or "none"
            raise LookupError(f"aws.instance_arn {wanted} is not among the instances visible in "
                              f"{', '.join(instance_regions(params))} (seen: {seen})")
        return chosen + [r for r in rows if r["instanceArn"] != wanted], None
    if len(rows) <= 1:
        return rows, None
    org = [r for r in rows if params.aws.management_account and r["ownerAccountId"] == params.aws.management_account]
    if len(org) == 1:  # the organisation instance is owned by the management account; the rest are account instances
        return org + [r for r in rows if r is not org[0]], None
    return rows, (f"{len(rows)} Identity Center instances; audited the first ({rows[0]['instanceArn']}): "
                  "set aws.instance_arn to choose")


def collect_instances(ctx: CollectContext) -> Tables | Partial:
    rows: dict[str, dict] = {}
    for region in instance_regions(ctx.params):
        sso = _client(ctx, "sso-admin", region)
        for item in read_all(sso, "list_instances", "Instances", MaxResults=PAGE):
            # A multi-Region instance is listed in each of its Regions: keep one row, in its primary Region.
            rows.setdefault(item["InstanceArn"], {
                "instanceArn": item["InstanceArn"], "identityStoreId": item.get("IdentityStoreId"),
                "ownerAccountId": item.get("OwnerAccountId"), "name": item.get("Name"),
                "status": item.get("Status"), "region": item.get("PrimaryRegion") or region,
            })
    problems = []
    for row in rows.values():
        row["regions"], problem = _instance_regions(ctx, row)
        if problem:
            problems.append(problem)
    ordered, problem = _order_instances(list(rows.values()), ctx.params)
    problem = "; ".join(p for p in [problem, *problems] if p)
    ctx.progress("aws.instances", len(ordered))
    tables = {"idc_instances": table("idc_instances", ordered)}
    return Partial(tables, problem) if problem else tables


def _instance_regions(ctx: CollectContext, row: dict) -> tuple[list[str], str | None]:
    """Every Region the instance is replicated to (multi-Region Identity Center): each needs its own ACS URL
    in Entra. Without ListRegions only the primary Region is known, which the result says."""
    sso = _client(ctx, "sso-admin", row["region"])
    try:
        regions = read_all(sso, "list_regions", "Regions", InstanceArn=row["instanceArn"])
    except Exception as exc:  # denied or not offered in this partition: keep the primary, say what is missing
        return [row["region"]], f"regions of {row['instanceArn']} beyond {row['region']} unknown: {exc}"
    names = [r["RegionName"] for r in regions if r.get("Status", "ACTIVE") == "ACTIVE"]
    return names or [row["region"]], None


def audited_instance(ctx: CollectContext) -> dict:
    """The instance the other sources read: the first row of idc_instances."""
    frame = ctx.needs("aws.instances")["idc_instances"]
    if frame.empty:
        raise LookupError(f"no IAM Identity Center instance in {', '.join(instance_regions(ctx.params))}")
    return frame.iloc[0].to_dict()


# --------------------------------------------------------------------------------------------- identity store


def _ids(item: dict) -> list[str]:
    return [x["Id"] for x in item.get("ExternalIds") or [] if x.get("Id")]


def _user_row(user: dict) -> dict:
    name = user.get("Name") or {}
    emails = user.get("Emails") or []
    primary = next((e for e in emails if e.get("Primary")), emails[0] if emails else {})
    return {"userId": user["UserId"], "userName": user.get("UserName"), "displayName": user.get("DisplayName"),
            "givenName": name.get("GivenName"), "familyName": name.get("FamilyName"), "email": primary.get("Value"),
            "externalIds": _ids(user), "userStatus": user.get("UserStatus"), "createdBy": user.get("CreatedBy"),
            "createdAt": utc_iso(user.get("CreatedAt")), "updatedAt": utc_iso(user.get("UpdatedAt"))}


def _group_row(group: dict) -> dict:
    return {"groupId": group["GroupId"], "displayName": group.get("DisplayName"),
            "description": group.get("Description"), "externalIds": _ids(group),
            "createdBy": group.get("CreatedBy"), "createdAt": utc_iso(group.get("CreatedAt"))}


def _membership_row(m: dict, group_id: str | None = None) -> dict:
    return {"groupId": group_id or m.get("GroupId"), "userId": (m.get("MemberId") or {}).get("UserId"),
            "membershipId": m.get("MembershipId")}


def _group_members(store, store_id: str, group_id: str) -> list[dict]:
    """idc_group_memberships rows of one group; none when it was deleted since it was listed."""
    found = _unless_gone(lambda: read_all(store, "list_group_memberships", "GroupMemberships",
                                          IdentityStoreId=store_id, GroupId=group_id, MaxResults=PAGE))
    return [_membership_row(m, group_id) for m in found]


def collect_identity_store(ctx: CollectContext) -> Tables:
    # With collection.incremental: the previous snapshot plus what CloudTrail says changed, when that can
    # be shown complete (collect/aws/changes.py); else, and always without it, read in full.
    return aws_incremental.read(ctx, "aws.identity_store", lambda: _full_identity_store(ctx),
                                aws_incremental.identity_store, sys.modules[__name__])


def _full_identity_store(ctx: CollectContext) -> Tables:
    source = "aws.identity_store"
    instance = audited_instance(ctx)
    store = _client(ctx, "identitystore", instance["region"])
    store_id = instance["identityStoreId"]

    def listing(operation_key: tuple[str, str]) -> list[dict]:
        # ListUsers returns the same attributes as DescribeUser: no call per user is needed.
        items = read_all(store, *operation_key, IdentityStoreId=store_id, MaxResults=PAGE)
        ctx.progress(source, len(items))
        return items

    # Users and groups count against different per-API limits: read them side by side.
    users, groups = fan_out(listing, [("list_users", "Users"), ("list_groups", "Groups")], _workers(ctx))

    def members(group_id: str) -> list[dict]:
        found = _group_members(store, store_id, group_id)
        ctx.progress(source, len(found))
        return found

    memberships = fan_out(members, [g["GroupId"] for g in groups], _workers(ctx))
    return {"idc_users": table("idc_users", [_user_row(u) for u in users]),
            "idc_groups": table("idc_groups", [_group_row(g) for g in groups]),
            "idc_group_memberships": table("idc_group_memberships", [m for ms in memberships for m in ms])}


# --------------------------------------------------------------------------------------------- permission sets


def _policy_path(arn: str) -> str:
    """arn:aws:iam::aws:policy/job-function/ViewOnlyAccess -> /job-function/"""
    inner = arn.split(":policy", 1)[-1]
    return inner.rsplit("/", 1)[0] + "/" if inner.count("/") > 1 else "/"


def _policy(arn: str, kind: str, policy_arn=None, name=None, path=None, document=None) -> dict:
    return {"permissionSetArn": arn, "kind": kind, "policyArn": policy_arn, "policyName": name, "policyPath": path,
            "document": document}


def _boundary(sso, args: dict) -> list[dict]:
    try:
        boundary = sso.get_permissions_boundary_for_permission_set(**args).get("PermissionsBoundary") or {}
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return []  # AWS's answer for a permission set without a boundary
        raise
    arn = args["PermissionSetArn"]
    if boundary.get("ManagedPolicyArn"):
        policy_arn = boundary["ManagedPolicyArn"]
        return [_policy(arn, "boundary_managed", policy_arn, policy_arn.rsplit("/", 1)[-1], _policy_path(policy_arn))]
    ref = boundary.get("CustomerManagedPolicyReference")
    return [_policy(arn, "boundary_customer_managed", None, ref.get("Name"), ref.get("Path") or "/")] if ref else []


def _read_permission_set(sso, instance_arn: str, arn: str) -> tuple[dict, list[dict]] | None:
    """The permission set's row and policy rows; None if it was deleted since it was listed."""
    args = {"InstanceArn": instance_arn, "PermissionSetArn": arn}
    found = _unless_gone(lambda: [sso.describe_permission_set(**args)["PermissionSet"]])
    if not found:
        return None
    ps = found[0]
    managed = read_all(sso, "list_managed_policies_in_permission_set", "AttachedManagedPolicies", MaxResults=PAGE,
                       **args)
    customer = read_all(sso, "list_customer_managed_policy_references_in_permission_set",
                        "CustomerManagedPolicyReferences", MaxResults=PAGE, **args)
    inline = sso.get_inline_policy_for_permission_set(**args).get("InlinePolicy")
    policies = [_policy(arn, "managed", p["Arn"], p.get("Name"), _policy_path(p["Arn"])) for p in managed]
    policies += [_policy(arn, "customer_managed", None, p["Name"], p.get("Path") or "/") for p in customer]
    if inline:
        policies.append(_policy(arn, "inline", document=inline))
    policies += _boundary(sso, args)
    row = {"permissionSetArn": arn, "name": ps.get("Name"), "description": ps.get("Description"),
           "sessionDuration": ps.get("SessionDuration"), "relayState": ps.get("RelayState"),
           "createdDate": utc_iso(ps.get("CreatedDate"))}
    return row, policies


def _permission_set_arns(sso, instance_arn: str) -> list[str]:
    return read_all(sso, "list_permission_sets", "PermissionSets", InstanceArn=instance_arn, MaxResults=PAGE)


def collect_permission_sets(ctx: CollectContext) -> Tables:
    # With collection.incremental: the previous snapshot plus what CloudTrail says changed, when that can
    # be shown complete (collect/aws/changes.py); else, and always without it, read in full.
    return aws_incremental.read(ctx, "aws.permission_sets", lambda: _full_permission_sets(ctx),
                                aws_incremental.permission_sets, sys.modules[__name__])


def _full_permission_sets(ctx: CollectContext) -> Tables:
    instance = audited_instance(ctx)
    sso = _client(ctx, "sso-admin", instance["region"])
    arns = _permission_set_arns(sso, instance["instanceArn"])

    def one(arn: str) -> tuple[dict, list[dict]] | None:
        result = _read_permission_set(sso, instance["instanceArn"], arn)
        ctx.progress("aws.permission_sets", 1)
        return result

    results = [r for r in fan_out(one, arns, _workers(ctx)) if r is not None]
    return {"idc_permission_sets": table("idc_permission_sets", [row for row, _ in results]),
            "idc_permission_set_policies": table("idc_permission_set_policies",
                                                 [p for _, policies in results for p in policies])}


# --------------------------------------------------------------------------------------------- provisioning


def collect_provisioning_status(ctx: CollectContext) -> Tables:
    # With collection.incremental: the previous snapshot plus what CloudTrail says changed, when that can
    # be shown complete (collect/aws/changes.py); else, and always without it, read in full.
    return aws_incremental.read(ctx, "aws.provisioning_status", lambda: _full_provisioning_status(ctx),
                                aws_incremental.provisioning_status, sys.modules[__name__])


def _full_provisioning_status(ctx: CollectContext) -> Tables:
    # Lists the permission sets itself (one call per 100) so it can run alongside aws.permission_sets.
    instance = audited_instance(ctx)
    sso = _client(ctx, "sso-admin", instance["region"])
    arns = _permission_set_arns(sso, instance["instanceArn"])

    def one(job: tuple[str, str]) -> list[dict]:
        arn, status = job
        accounts = _unless_gone(lambda: read_all(
            sso, "list_accounts_for_provisioned_permission_set", "AccountIds", InstanceArn=instance["instanceArn"],
            PermissionSetArn=arn, ProvisioningStatus=status, MaxResults=PAGE))
        ctx.progress("aws.provisioning_status", len(accounts))
        return [{"permissionSetArn": arn, "accountId": account, "status": status} for account in accounts]

    results = fan_out(one, [(arn, status) for arn in arns for status in PROVISIONING_STATUSES], _workers(ctx))
    return {"idc_permission_set_provisioning": table("idc_permission_set_provisioning",
                                                     [row for rows in results for row in rows])}


# --------------------------------------------------------------------------------------------- assignments


def assignment_pairs(provisioning: pd.DataFrame) -> list[tuple[str, str]]:
    """(account, permission set) pairs where the permission set is provisioned, in any state: an assignment
    provisions its permission set to the account, so no assignment lies outside these pairs."""
    if provisioning.empty:
        return []
    pairs = provisioning[["accountId", "permissionSetArn"]].drop_duplicates()
    return sorted(pairs.itertuples(index=False, name=None))


def _caller_account(ctx: CollectContext) -> str | None:
    try:
        return _client(ctx, "sts").get_caller_identity()["Account"]
    except Exception:  # an unknown caller only rules the principal-walk out
        return None


def _assignment_row(a: dict, account: str | None = None, arn: str | None = None) -> dict:
    return {"accountId": a.get("AccountId", account), "permissionSetArn": a.get("PermissionSetArn", arn),
            "principalType": a.get("PrincipalType"), "principalId": a.get("PrincipalId")}


def plan_assignment_walk(ctx: CollectContext, instance: dict, pairs: list) -> tuple[str, dict]:
    """The walk for this instance and caller (the pair-walk unless the principal-walk is asked for and allowed),
    the cheaper one by estimate, and the record of why (for the manifest)."""
    store = ctx.wait_for("aws.identity_store")  # optional: without it only the pair-walk is possible
    users = groups = None
    if store is not None:
        users, groups = list(store["idc_users"]["userId"]), list(store["idc_groups"]["groupId"])
    forced = ctx.params.aws.assignment_walk
    allowed, why = walks.principal_walk_allowed(instance, _caller_account(ctx), ctx.params.aws.management_account)
    if store is None:
        allowed, why = False, "aws.identity_store was not collected (the principal-walk needs its users and groups)"
    estimates = walks.estimate(len(pairs), None if users is None else len(users),
                               None if groups is None else len(groups))
    cheaper = walks.choose(estimates, allowed)
    # auto reads the complete walk: the principal-walk misses orphaned assignments (walks.py), and a Partial
    # source would leave reconcile.orphaned_assignment not checked on every scheduled run. It is there to be asked
    # for (aws.assignment_walk: principal-walk) where its saving matters more than that check.
    chosen = walks.PAIR
    if forced == walks.PRINCIPAL and allowed:
        chosen = forced
    note = {"chosen": chosen, "cheaper": cheaper, "estimated_calls": estimates, "principal_walk_allowed": allowed,
            "principal_walk_why": why, "pairs": len(pairs), "users": None if users is None else len(users),
            "groups": None if groups is None else len(groups)}
    if forced != "auto":
        note["requested"] = forced
    note["_principals"] = (groups or [], users or [])
    return chosen, note


def collect_account_assignments(ctx: CollectContext) -> Tables | Partial:
    # With collection.incremental: the previous snapshot plus what CloudTrail says changed, when that can
    # be shown complete (collect/aws/changes.py); else, and always without it, read in full.
    return aws_incremental.read(ctx, "aws.account_assignments", lambda: _full_account_assignments(ctx),
                                aws_incremental.account_assignments, sys.modules[__name__])


def _full_account_assignments(ctx: CollectContext) -> Tables | Partial:
    # The cheaper of the pair-walk and the principal-walk (walks.py), chosen from the listings already read.
    instance = audited_instance(ctx)
    ctx.needs("aws.permission_sets")
    pairs = assignment_pairs(ctx.needs("aws.provisioning_status")["idc_permission_set_provisioning"])
    sso = _client(ctx, "sso-admin", instance["region"])
    chosen, note = plan_assignment_walk(ctx, instance, pairs)
    groups, users = note.pop("_principals")
    spent = {"calls": 0}
    lock = threading.Lock()

    def listing(operation: str, **params) -> list[dict]:
        found = []
        for page in pages(sso, operation, "AccountAssignments", InstanceArn=instance["instanceArn"],
                          MaxResults=PAGE, **params):
            with lock:
                spent["calls"] += 1
            found += page
        return found

    def one_pair(pair: tuple[str, str]) -> list[dict]:
        account, arn = pair
        found = _unless_gone(lambda: listing("list_account_assignments", AccountId=account, PermissionSetArn=arn))
        ctx.progress("aws.account_assignments", len(found))
        return [_assignment_row(a, account, arn) for a in found]

    def one_principal(job: tuple[str, str]) -> list[dict]:
        kind, principal = job
        found = _unless_gone(lambda: listing("list_account_assignments_for_principal", PrincipalType=kind,
                                             PrincipalId=principal))
        ctx.progress("aws.account_assignments", len(found))
        return found

    rows: list[dict] | None = None
    if chosen == walks.PRINCIPAL:
        try:
            found = walks.walk_principals(one_principal, groups, users, lambda f, jobs: fan_out(f, jobs, _workers(ctx)))
            rows = [_assignment_row(a) for a in found]
            note["principal_walk_blind_spot"] = ("assignments of principals no longer in the identity store "
                                                 "(orphans) are not read; aws.assignment_walk: pair-walk reads them")
        except Exception as exc:
            if error_code(exc) not in ("AccessDeniedException", "ValidationException"):
                raise
            # Refused although the caller owns the instance (an account instance, or a policy without the action):
            # the pair-walk is always valid.
            note["fallback"] = f"principal-walk refused ({error_code(exc)}): pair-walk instead"
            note["chosen"] = walks.PAIR
    if rows is None:
        rows = [row for rs in fan_out(one_pair, pairs, _workers(ctx)) for row in rs]
    note["actual_calls"] = spent["calls"]
    ctx.notes["aws.account_assignments"] = note
    rows = sorted({tuple(r.values()): r for r in rows}.values(), key=lambda r: tuple(str(v) for v in r.values()))
    tables = {"idc_account_assignments": table("idc_account_assignments", rows)}
    if note["chosen"] == walks.PRINCIPAL:
        # Partial, not complete: what the principal-walk cannot see must not pass as checked
        # (reconcile.orphaned_assignment would find nothing because nothing was read).
        return Partial(tables, f"principal-walk: {note['principal_walk_blind_spot']}")
    return tables


# --------------------------------------------------------------------------------------------- organizations


def _tagged_accounts(ctx: CollectContext, account_ids: list[str]) -> tuple[list[str], str]:
    """Whose tags to read (aws.account_tags), and why. Tags feed the production test (checks.production.tags)
    and the reviews' owner tag, which only matter where access can reach: accounts with a permission set
    provisioned. An account whose tags were not read has tags None (not read), never [] (no tags)."""
    mode = ctx.params.aws.account_tags
    if mode == "none":
        return [], "aws.account_tags is none"
    if mode == "all":
        return account_ids, "aws.account_tags is all"
    provisioning = ctx.wait_for("aws.provisioning_status")  # optional: without it every account is read
    if provisioning is None:
        return account_ids, "every account: aws.provisioning_status was not collected"
    assigned = set(provisioning["idc_permission_set_provisioning"]["accountId"])
    return [a for a in account_ids if a in assigned], "accounts with a permission set provisioned"


def collect_organizations(ctx: CollectContext) -> Tables:
    # With collection.incremental: the previous snapshot plus what CloudTrail says changed, when that can
    # be shown complete (collect/aws/changes.py); else, and always without it, read in full.
    return aws_incremental.read(ctx, "aws.organizations", lambda: _full_organizations(ctx),
                                aws_incremental.organizations, sys.modules[__name__])


def _full_organizations(ctx: CollectContext) -> Tables:
    org = _client(ctx, "organizations")
    accounts = aws_org.walk(org, _workers(ctx), on_accounts=lambda n: ctx.progress("aws.organizations", n))
    wanted, why = _tagged_accounts(ctx, [a["Id"] for a in accounts])
    tags = aws_org.tags(org, wanted, _workers(ctx))
    ctx.notes["aws.organizations"] = {"accounts": len(accounts), "tags_read_for": len(wanted), "tags_why": why}
    rows = [{"accountId": a["Id"], "name": a.get("Name"), "email": a.get("Email"),
             "status": a.get("State") or a.get("Status"), "ouPath": a["ouPath"], "ouId": a["ouId"],
             "tags": tags.get(a["Id"])} for a in accounts]
    rows.sort(key=lambda r: r["accountId"])
    return {"org_accounts": table("org_accounts", rows)}


# --------------------------------------------------------------------------------------------- delegation

IDENTITY_CENTER_PRINCIPAL = "sso.amazonaws.com"


def collect_delegation(ctx: CollectContext) -> Tables:
    """The management account (DescribeOrganization) and the accounts registered as delegated administrator of
    Identity Center (ListDelegatedAdministrators, filtered on its service principal)."""
    org = _client(ctx, "organizations")
    organization = org.describe_organization()["Organization"]
    admins = read_all(org, "list_delegated_administrators", "DelegatedAdministrators",
                      ServicePrincipal=IDENTITY_CENTER_PRINCIPAL, MaxResults=aws_org.PAGE)
    ctx.progress("aws.delegation", 1 + len(admins))
    return delegation_tables(organization, admins)


def delegation_tables(organization: dict, admins: list[dict]) -> Tables:
    """org_organization and org_delegated_admins from DescribeOrganization's Organization and the
    DelegatedAdministrators of ListDelegatedAdministrators (ServicePrincipal sso.amazonaws.com)."""
    # Status is deprecated in favour of State (AWS Organizations, 2025); either one, State first.
    rows = [{"servicePrincipal": IDENTITY_CENTER_PRINCIPAL, "accountId": a.get("Id"), "name": a.get("Name"),
             "status": a.get("State") or a.get("Status"),
             "delegationEnabledDate": utc_iso(a.get("DelegationEnabledDate"))} for a in admins]
    # MasterAccountId, else the last part of MasterAccountArn (AWS's own example answer leaves the id out).
    management = organization.get("MasterAccountId") or \
        (organization.get("MasterAccountArn") or "").rsplit("/", 1)[-1] or None
    return {"org_organization": table("org_organization", [{
                "organizationId": organization.get("Id"), "managementAccountId": management,
                "featureSet": organization.get("FeatureSet")}]),
            "org_delegated_admins": table("org_delegated_admins", sorted(rows, key=lambda r: r["accountId"] or ""))}


# --------------------------------------------------------------------------------------------- cloudtrail


def collect_cloudtrail(ctx: CollectContext) -> Tables:
    trail = _client(ctx, "cloudtrail")

    def one(attribute: dict[str, str]) -> list[dict]:
        # Rows as the pages arrive: the row keeps CloudTrail's record text, boto3's parsed event goes.
        return lookup_events(trail, attribute, ctx.window_start, ctx.window_end,
                             on_page=lambda n: ctx.progress("aws.cloudtrail", n),
                             each=lambda event: aws_trail.event_row(event) if aws_trail.keep(event) else None)

    rows: dict[str, dict] = {}
    for found in fan_out(one, aws_trail.LOOKUPS, _workers(ctx)):
        for row in found:
            rows.setdefault(row["eventId"], row)  # an event may match two lookups
    ordered = sorted(rows.values(), key=lambda r: (r["eventTime"] or "", r["eventId"]), reverse=True)
    return {"cloudtrail_events": table("cloudtrail_events", ordered)}


# --------------------------------------------------------------------------------------------- registry

from idbridge.collect.aws.abac import ABAC_COLLECTORS  # noqa: E402 - beside its registry entry

AWS_COLLECTORS: dict[str, tuple[Callable[[CollectContext], Tables | Partial], tuple[str, ...]]] = {
    "aws.instances": (collect_instances, ()),
    "aws.identity_store": (collect_identity_store, ("aws.instances",)),
    "aws.permission_sets": (collect_permission_sets, ("aws.instances",)),
    "aws.provisioning_status": (collect_provisioning_status, ("aws.instances",)),
    "aws.account_assignments": (collect_account_assignments,
                                ("aws.instances", "aws.permission_sets", "aws.provisioning_status")),
    "aws.organizations": (collect_organizations, ()),
    "aws.delegation": (collect_delegation, ()),
    "aws.cloudtrail": (collect_cloudtrail, ()),
    **ABAC_COLLECTORS,
}
# Issue 17's governance sources (collect/aws/governance.py): their own module, registered here.
from idbridge.collect.aws.governance import GOVERNANCE_COLLECTORS  # noqa: E402

AWS_COLLECTORS.update(GOVERNANCE_COLLECTORS)
