"""Governance around the bridge that breaks access after a correct setup (issue 17 items 6 and 7): member accounts
free to create account instances of Identity Center outside the bridge, provisioning AWS reports as failed, and
assignments left on suspended accounts."""

from __future__ import annotations

import fnmatch
import json
from typing import Iterator

import pandas as pd

from idbridge.checks.base import Hit, check
from idbridge.checks.common import plain as _plain
from idbridge.checks.controls import iso, nist
from idbridge.collect.aws.trail import PROVISIONING_EVENTS
from idbridge.model.scope import text
from idbridge.snapshot.store import NotCollected

AWS_ACCOUNT_INSTANCE_SCP = "https://docs.aws.amazon.com/singlesignon/latest/userguide/control-account-instance.html"
AWS_ACCOUNT_INSTANCES = "https://docs.aws.amazon.com/singlesignon/latest/userguide/account-instances-identity-center.html"
ORG_LIST_POLICIES = "https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListPolicies.html"
AWS_PS_STATUS = ("https://docs.aws.amazon.com/singlesignon/latest/APIReference/"
                 "API_DescribePermissionSetProvisioningStatus.html")
AWS_ASSIGNMENT_STATUS = ("https://docs.aws.amazon.com/singlesignon/latest/APIReference/"
                         "API_ListAccountAssignmentCreationStatus.html")
AWS_CUSTOMER_MANAGED = ("https://docs.aws.amazon.com/singlesignon/latest/userguide/"
                        "howtocmp.html")
ORG_ACCOUNT = "https://docs.aws.amazon.com/organizations/latest/APIReference/API_Account.html"
ORG_CLOSE = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_close.html"
NO_MEMBER_ROLE = "not collected: no member-account read role configured"


def _frame(data, name: str) -> pd.DataFrame | None:
    try:
        return data.table(name)
    except (NotCollected, KeyError):
        return None


def _names(data, table: str, key: str, label: str) -> pd.Series:
    frame = _frame(data, table)
    if frame is None:
        return pd.Series(dtype="string")
    return pd.Series(text(frame[label]).to_numpy(), index=text(frame[key]).to_numpy())


def _management(data) -> str | None:
    org = _frame(data, "org_organization")
    return None if org is None or org.empty else _plain(org.iloc[0]["managementAccountId"])


# --------------------------------------------------------------------------------------------- item 6


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value] if value is not None else []


def denies_create_instance(content: str | None) -> list[dict]:
    """The Deny statements of an SCP document that cover sso:CreateInstance (Action patterns, case-insensitive;
    NotAction when it does not name it), with their Condition if any."""
    try:
        document = json.loads(content or "{}")
    except ValueError:
        return []
    found = []
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Deny":
            continue
        matches = [fnmatch.fnmatchcase("sso:createinstance", str(a).lower()) for a in _as_list(statement.get("Action"))]
        if "NotAction" in statement:
            excluded = [fnmatch.fnmatchcase("sso:createinstance", str(a).lower())
                        for a in _as_list(statement["NotAction"])]
            covered = not any(excluded)
        else:
            covered = any(matches)
        if covered:
            found.append({"sid": statement.get("Sid"), "condition": statement.get("Condition")})
    return found


def _targets(value) -> list[dict]:
    out = []
    # A list in memory, an array once read back from the snapshot.
    for item in [] if value is None or isinstance(value, str) else list(value):
        kind, _, rest = str(item).partition(":")
        target_id, _, name = rest.partition(":")
        out.append({"type": kind, "id": target_id, "name": name or None})
    return out


@check(id="aws.account_instances_allowed", title="Member accounts may create their own Identity Center instances",
       passed="A service control policy attached to the organisation's root denies sso:CreateInstance without "
              "exceptions: no member account can create an account instance of IAM Identity Center.",
       severity="medium", area="aws", subject_kind="account",
       graded={"low": "a denying SCP exists but is attached only to some OUs or accounts, or lets named accounts "
                      "through (a condition)"},
       meaning="Since November 2023 member accounts can create account instances of IAM Identity Center by "
               "default: a separate identity store, users and application sign-ins bound to one account, outside "
               "the bridge from Entra and outside this audit (their users are never deprovisioned from Entra and "
               "no one reviews them). AWS's way to prevent or limit them is an SCP denying sso:CreateInstance. "
               "Whether account instances already exist cannot be listed from the management account: that needs "
               "a read role in each member account, which this audit does not have.",
       fix="IAM Identity Center › Dashboard › Central management › Prevent account instances: copy the SCP it "
           "offers, create it in AWS Organizations › Policies › Service control policies and attach it to the root "
           "(or add the statement to an SCP already on the root). Limit it with aws:PrincipalAccount only for "
           "accounts that truly need their own instance.",
       controls=nist("CM-6", "AC-2") + iso("8.9", "5.16"),
       references=(AWS_ACCOUNT_INSTANCE_SCP, AWS_ACCOUNT_INSTANCES, ORG_LIST_POLICIES),
       tables=("org_scps", "org_organization"))
def account_instances_allowed(data, settings) -> Iterator[Hit]:
    management = _management(data)
    if management is None:
        return
    scps = data.table("org_scps")
    denying = []
    for row in scps.itertuples(index=False):
        statements = denies_create_instance(row.content)
        targets = _targets(row.targets)
        if statements and targets:
            denying.append({"policyId": row.policyId, "name": row.name, "statements": statements,
                            "targets": targets})
    on_root = [p for p in denying if any(t["type"] == "ROOT" for t in p["targets"])]
    unconditional = [p for p in on_root if any(s["condition"] is None for s in p["statements"])]
    if unconditional:
        return
    evidence = {"organizationId": _plain(data.table("org_organization").iloc[0]["organizationId"]),
                "scpsSeen": len(scps), "denyingScps": denying, "accountInstances": NO_MEMBER_ROLE}
    if not denying:
        yield Hit(f"account:{management}", evidence,
                  detail=f"no service control policy denies sso:CreateInstance ({len(scps)} SCP(s) read)")
        return
    if on_root:
        detail = "sso:CreateInstance is denied at the root only under a condition (accounts let through)"
    else:
        where = sorted({t["name"] or t["id"] for p in denying for t in p["targets"]})
        detail = "sso:CreateInstance is denied only on " + ", ".join(where) + ", not at the root"
    yield Hit(f"account:{management}", evidence, severity="low", detail=detail)


# --------------------------------------------------------------------------------------------- item 7


def _refused_events(data) -> list[dict]:
    """CreateAccountAssignment / ProvisionPermissionSet calls AWS refused (errorCode set), from CloudTrail when it
    was collected."""
    events = _frame(data, "cloudtrail_events")
    if events is None or events.empty:
        return []
    chosen = events[(text(events["eventName"]).isin(list(PROVISIONING_EVENTS))
                     & text(events["errorCode"]).notna()).fillna(False).to_numpy()]
    out = []
    for _, row in chosen.iterrows():
        try:
            record = json.loads(row["event_json"]) if isinstance(row["event_json"], str) else {}
        except ValueError:
            record = {}
        request = (record or {}).get("requestParameters") or {}
        ident = (record or {}).get("userIdentity") or {}
        out.append({"source": "cloudtrail", "event": row["eventName"], "time": row["eventTime"],
                    "permissionSetArn": request.get("permissionSetArn"), "accountId": request.get("targetId"),
                    "failureReason": f"{row['errorCode']}: {_plain(row.get('errorMessage')) or ''}".rstrip(": "),
                    "who": ident.get("arn") or ident.get("type")})
    return out


@check(id="aws.provisioning_failed", title="Permission-set provisioning or account assignment failed",
       passed="AWS reports no failed permission-set provisioning and no failed account-assignment creation that "
              "is still unresolved (the set is not provisioned, or the assignment does not exist, in that account), "
              "and CloudTrail (when collected) holds no refused CreateAccountAssignment or ProvisionPermissionSet.",
       severity="medium", area="aws", subject_kind="permission_set",
       meaning="Identity Center provisions asynchronously: a permission set that names a customer-managed policy or "
               "permissions boundary missing in the target account, an account that is suspended or not in the "
               "organisation, or a refused call ends FAILED with a reason, and nothing tells the people who were "
               "meant to get access. They see no role for that account in the portal, or an old version of it.",
       fix="Read each failure reason. Create the customer-managed policy (same name and path) in every target "
           "account before provisioning, or remove the reference; drop assignments to suspended or departed "
           "accounts; then provision the set again (Permission sets › the set › Update in accounts) or re-create "
           "the assignment, and check the status reads SUCCEEDED.",
       controls=nist("CM-3", "CM-6") + iso("8.9", "8.32"),
       references=(AWS_PS_STATUS, AWS_ASSIGNMENT_STATUS, AWS_CUSTOMER_MANAGED),
       tables=("idc_provisioning_failures", "idc_permission_sets", "idc_permission_set_provisioning",
               "idc_account_assignments"))
def provisioning_failed(data, settings) -> Iterator[Hit]:
    failures = data.table("idc_provisioning_failures")
    provisioned = data.table("idc_permission_set_provisioning")
    current = set(zip(text(provisioned["permissionSetArn"]), text(provisioned["accountId"]),
                      text(provisioned["status"])))
    assignments = data.table("idc_account_assignments")
    existing = set(zip(text(assignments["accountId"]), text(assignments["permissionSetArn"]),
                       text(assignments["principalType"]), text(assignments["principalId"])))
    rows = []
    for row in failures.itertuples(index=False):
        # A later success resolves a failure: the set now provisioned (latest version) there, the assignment there.
        if row.kind == "permission_set" and \
                (row.permissionSetArn, row.accountId, "LATEST_PERMISSION_SET_PROVISIONED") in current:
            continue
        if row.kind == "assignment" and \
                (row.accountId, row.permissionSetArn, row.principalType, row.principalId) in existing:
            continue
        rows.append({"source": row.kind, "time": row.createdDate, "permissionSetArn": row.permissionSetArn,
                     "accountId": row.accountId, "principalType": _plain(row.principalType),
                     "principalId": _plain(row.principalId), "failureReason": _plain(row.failureReason),
                     "requestId": row.requestId})
    rows += _refused_events(data)
    if not rows:
        return
    sets = _names(data, "idc_permission_sets", "permissionSetArn", "name")
    accounts = _names(data, "org_accounts", "accountId", "name")
    by_set: dict[str, list[dict]] = {}
    for item in rows:
        item["accountName"] = accounts.get(item["accountId"]) if item["accountId"] else None
        by_set.setdefault(str(sets.get(item["permissionSetArn"], item["permissionSetArn"] or "unknown")),
                          []).append(item)
    for name, items in sorted(by_set.items()):
        items.sort(key=lambda i: str(i["time"] or ""))
        last = items[-1]
        where = last["accountName"] or last["accountId"] or "an account"
        yield Hit(f"permission_set:{name}", {"failures": items, "count": len(items)},
                  detail=f"{len(items)} failure(s); latest in {where}: {last['failureReason'] or 'no reason given'}")


@check(id="aws.assignment_on_suspended_account", title="Account assignments on suspended accounts",
       passed="No account assignment targets an account whose organisation state is SUSPENDED (closed or "
              "suspended by AWS).",
       severity="low", area="aws", subject_kind="account",
       meaning="A closed account stays SUSPENDED for 90 days and can be reopened; its assignments stay in Identity "
               "Center, fail to provision while it is suspended, and give access again if it is reopened. They "
               "also make provisioning of the permission set to 'all provisioned accounts' fail.",
       fix="Remove the assignments of the suspended account (and re-provision the permission sets that listed it) "
           "unless the account is to be reopened; record who decided.",
       controls=nist("AC-2") + iso("5.18"),
       references=(ORG_ACCOUNT, ORG_CLOSE, AWS_PS_STATUS),
       tables=("idc_account_assignments", "org_accounts"))
def assignment_on_suspended_account(data, settings) -> Iterator[Hit]:
    accounts = data.table("org_accounts")
    suspended = accounts[text(accounts["status"]).str.upper().eq("SUSPENDED").fillna(False).to_numpy()]
    if suspended.empty:
        return
    assignments = data.table("idc_account_assignments")
    sets = _names(data, "idc_permission_sets", "permissionSetArn", "name")
    groups = _names(data, "idc_groups", "groupId", "displayName")
    users = _names(data, "idc_users", "userId", "userName")
    for account in suspended.itertuples(index=False):
        here = assignments[text(assignments["accountId"]).eq(account.accountId).fillna(False).to_numpy()]
        if here.empty:
            continue
        rows = sorted(({"permissionSet": sets.get(r.permissionSetArn, r.permissionSetArn),
                        "principalType": r.principalType,
                        "principal": (groups if str(r.principalType).upper() == "GROUP" else users).get(
                            r.principalId, r.principalId)} for r in here.itertuples(index=False)),
                      key=lambda r: (str(r["permissionSet"]), str(r["principal"])))
        yield Hit(f"account:{account.accountId}", {"accountName": account.name, "status": account.status,
                                                   "assignments": rows},
                  detail=f"{account.name} is {account.status}: " +
                         "; ".join(f"{r['permissionSet']} to {r['principal']}" for r in rows))
