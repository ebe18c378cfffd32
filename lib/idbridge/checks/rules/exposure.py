"""Exposure by position rather than by policy: Identity Center run from the management account, permission sets
assigned in the management account, and an Entra app any user of the tenant may sign in to."""

from __future__ import annotations

from typing import Iterator

import pandas as pd

from idbridge.checks.base import Hit, check
from idbridge.checks.common import plain as _plain
from idbridge.checks.controls import iso, nist
from idbridge.model.scope import bridge, text
from idbridge.snapshot.store import NotCollected

AWS_DELEGATED = "https://docs.aws.amazon.com/singlesignon/latest/userguide/delegated-admin.html"
AWS_REGISTER = "https://docs.aws.amazon.com/singlesignon/latest/userguide/delegated-admin-how-to-register.html"
AWS_MGMT_ACCESS = "https://docs.aws.amazon.com/singlesignon/latest/userguide/howtodelegatessoaccess.html"
ORG_LIST_ADMINS = ("https://docs.aws.amazon.com/organizations/latest/APIReference/"
                   "API_ListDelegatedAdministrators.html")
MS_ASSIGNMENT_REQUIRED = "https://learn.microsoft.com/en-us/entra/identity/enterprise-apps/application-properties"
MS_RESTRICT = ("https://learn.microsoft.com/en-us/entra/identity/enterprise-apps/"
               "assign-user-or-group-access-portal")
MS_TUTORIAL = "https://learn.microsoft.com/en-us/entra/identity/saas-apps/aws-single-sign-on-tutorial"

ORG_TABLES = ("org_organization", "org_delegated_admins")


def _management_account(data) -> str | None:
    organization = data.table("org_organization")
    return None if organization.empty else _plain(organization.iloc[0]["managementAccountId"])


@check(id="aws.no_delegated_admin", title="Identity Center administered from the management account",
       passed="The organisation instance of Identity Center has a delegated administrator registered for "
              "sso.amazonaws.com (or the audited instance is not owned by the management account).",
       severity="medium", area="aws", subject_kind="account",
       meaning="An organisation instance always lives in the management account; without a delegated "
               "administrator every Identity Center change (permission sets, assignments, identity source, SCIM "
               "token) is made by people signed in to the management account, the one account no SCP restricts. "
               "The more people need it for routine work, the larger the blast radius of one of them.",
       fix="Register a member account (e.g. a security or identity account) as delegated administrator of IAM "
           "Identity Center (Settings › Management › Register account, from the management account), move "
           "day-to-day administration there and keep management-account access to a few break-glass people.",
       controls=nist("AC-6", "AC-6(5)") + iso("8.2"),
       references=(AWS_DELEGATED, AWS_REGISTER, ORG_LIST_ADMINS), tables=("idc_instances",) + ORG_TABLES)
def no_delegated_admin(data, settings) -> Iterator[Hit]:
    instances = data.table("idc_instances")
    management = _management_account(data)
    if instances.empty or management is None:
        return
    owner = _plain(instances.iloc[0]["ownerAccountId"])
    admins = data.table("org_delegated_admins")
    if owner != management or not admins.empty:
        return
    yield Hit(f"account:{management}", {"instanceArn": _plain(instances.iloc[0]["instanceArn"]),
                                        "ownerAccountId": owner, "managementAccountId": management,
                                        "delegatedAdministrators": []},
              detail="no delegated administrator registered for sso.amazonaws.com")


def _names(data, table: str, key: str, label: str) -> pd.Series:
    try:
        frame = data.table(table)
    except (NotCollected, KeyError):
        return pd.Series(dtype="string")
    return pd.Series(text(frame[label]).to_numpy(), index=text(frame[key]).to_numpy())


@check(id="access.management_account_assignment", title="Permission sets assigned in the management account",
       passed="No account assignment gives a user or group a permission set in the organisation's management "
              "account.",
       severity="high", area="access", subject_kind="account",
       meaning="Access to the management account is privileged by position, whatever the permission set says: it "
               "is outside every SCP, it can change the organisation, and only the management account itself can "
               "manage the permission sets provisioned there (a delegated administrator cannot). Even a billing or "
               "read-only set there is a foothold in the most sensitive account.",
       fix="Remove these assignments unless they are break-glass access or billing work that truly needs the "
           "management account; give the rest the same access in a member account; keep what stays under a "
           "named owner and review it often.",
       controls=nist("AC-6", "AC-6(5)") + iso("8.2"),
       references=(AWS_DELEGATED, AWS_MGMT_ACCESS), tables=("idc_account_assignments", "org_organization"))
def management_account_assignment(data, settings) -> Iterator[Hit]:
    management = _management_account(data)
    if management is None:
        return
    assignments = data.table("idc_account_assignments")
    here = assignments[text(assignments["accountId"]).eq(management).fillna(False)]
    if here.empty:
        return
    sets = _names(data, "idc_permission_sets", "permissionSetArn", "name")
    groups = _names(data, "idc_groups", "groupId", "displayName")
    users = _names(data, "idc_users", "userId", "userName")
    rows = []
    for row in here.itertuples(index=False):
        kind = str(row.principalType or "").upper()
        names = groups if kind == "GROUP" else users
        rows.append({"permissionSet": sets.get(row.permissionSetArn, row.permissionSetArn),
                     "principalType": kind, "principal": names.get(row.principalId, row.principalId)})
    rows.sort(key=lambda r: (str(r["permissionSet"]), str(r["principal"])))
    accounts = _names(data, "org_accounts", "accountId", "name")
    yield Hit(f"account:{management}", {"accountName": accounts.get(management), "assignments": rows},
              detail="; ".join(f"{r['permissionSet']} to {r['principal']}" for r in rows))


@check(id="access.assignment_not_required", title="Any user of the tenant can sign in to the AWS app",
       passed="The AWS app's service principal requires assignment (appRoleAssignmentRequired is true): Entra "
              "issues SAML assertions only to users and groups assigned to it.",
       severity="medium", area="access", subject_kind="app",
       graded={"high": "provisioning syncs all users and groups (inferred)"},
       meaning="With 'Assignment required?' set to No, Entra gives a SAML assertion for AWS to every user of the "
               "tenant, guests included, and the app appears in nobody's assignment list: Conditional Access and "
               "access reviews scoped to assignments miss them. With provisioning scope 'sync all users and "
               "groups' every such user also exists in Identity Center and the assertion is accepted, so "
               "assignment is the only gate left.",
       fix="Enterprise apps › AWS IAM Identity Center › Properties › Assignment required? Yes; then assign the "
           "groups that need AWS (and set the provisioning scope to assigned users and groups).",
       controls=nist("AC-2", "AC-6") + iso("5.15", "5.18"),
       references=(MS_ASSIGNMENT_REQUIRED, MS_RESTRICT, MS_TUTORIAL), tables=("entra_service_principal",))
def assignment_not_required(data, settings) -> Iterator[Hit]:
    sp = data.table("entra_service_principal")
    if sp.empty:
        return
    required = _plain(sp.iloc[0]["appRoleAssignmentRequired"])
    if required is None or bool(required):
        return
    try:
        sync_all = bridge(data, need_idc=False).scope.sync_all
    except (NotCollected, KeyError):
        sync_all = None  # the scope could not be told: the default severity stands
    scope = {True: "all users and groups (inferred)", False: "assigned users and groups", None: "not known"}
    yield Hit(settings.app_subject, {"appRoleAssignmentRequired": False, "provisioningScope": scope[sync_all]},
              severity="high" if sync_all else None,
              detail="assignment not required" + (", and provisioning syncs everyone" if sync_all else ""))
