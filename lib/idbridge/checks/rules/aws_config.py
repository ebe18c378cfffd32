"""AWS-side configuration of Identity Center that drifts silently: permission sets changed but not provisioned."""

from __future__ import annotations

from typing import Iterator

import pandas as pd

from idbridge.checks.base import Hit, check
from idbridge.checks.controls import iso, nist
from idbridge.model.scope import text
from idbridge.snapshot.store import NotCollected

NOT_PROVISIONED = "LATEST_PERMISSION_SET_NOT_PROVISIONED"
AWS_PROVISION_API = "https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ProvisionPermissionSet.html"
AWS_LIST_API = ("https://docs.aws.amazon.com/singlesignon/latest/APIReference/"
                "API_ListPermissionSetsProvisionedToAccount.html")


def _account_names(data) -> pd.Series:
    """Account id -> name, when the organisation was collected (names only make the evidence readable)."""
    try:
        accounts = data.table("org_accounts")
    except (NotCollected, KeyError):
        return pd.Series(dtype="string")
    return pd.Series(text(accounts["name"]).to_numpy(), index=text(accounts["accountId"]).to_numpy())


@check(id="aws.permission_set_not_reprovisioned", title="Permission set changed but not re-provisioned",
       passed="No account in the collected provisioning status holds an outdated version of a permission set (none "
              "reads LATEST_PERMISSION_SET_NOT_PROVISIONED).",
       severity="medium", area="aws", subject_kind="permission_set",
       controls=nist("CM-3", "CM-6") + iso("8.9", "8.32"),
       meaning="Editing a permission set changes nothing in the accounts until it is provisioned again: the IAM "
               "roles there still carry the previous policies, so people have more or less access than the "
               "permission set says, and the accounts disagree with each other.",
       fix="IAM Identity Center › Permission sets › the set › Update in accounts (ProvisionPermissionSet with "
           "ALL_PROVISIONED_ACCOUNTS), after reviewing the pending change.",
       references=(AWS_PROVISION_API, AWS_LIST_API),
       tables=("idc_permission_set_provisioning", "idc_permission_sets"))
def permission_set_not_reprovisioned(data, settings) -> Iterator[Hit]:
    status = data.table("idc_permission_set_provisioning")
    if status.empty:
        return
    stale = status[text(status["status"]).eq(NOT_PROVISIONED).fillna(False).to_numpy()]
    if stale.empty:
        return
    sets = data.table("idc_permission_sets")
    names = pd.Series(text(sets["name"]).to_numpy(), index=text(sets["permissionSetArn"]).to_numpy())
    accounts = _account_names(data)
    provisioned = status.drop(index=stale.index)
    for arn, rows in sorted(stale.groupby(text(stale["permissionSetArn"])), key=lambda kv: str(names.get(kv[0]))):
        ids = sorted(text(rows["accountId"]).dropna().unique())
        current = sorted(text(provisioned.loc[text(provisioned["permissionSetArn"]).eq(arn).fillna(False),
                                              "accountId"]).dropna().unique())
        evidence = {"permissionSetArn": arn, "accounts_not_provisioned": ids,
                    "account_names": {i: accounts.get(i) for i in ids if i in accounts.index},
                    "accounts_up_to_date": current}
        shown = [f"{accounts.get(i)} ({i})" if i in accounts.index else i for i in ids]
        yield Hit(f"permission_set:{names.get(arn, arn)}", evidence,
                  detail="not provisioned to " + ", ".join(shown))
