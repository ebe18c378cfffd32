"""AWS-side configuration of Identity Center that drifts silently: permission sets changed but not provisioned."""

from __future__ import annotations

import json
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


# --------------------------------------------------------------------------------------------- identity source

AWS_CLOUDTRAIL_INFO = "https://docs.aws.amazon.com/singlesignon/latest/userguide/sso-info-in-cloudtrail.html"
AWS_CHANGE_SOURCE = "https://docs.aws.amazon.com/singlesignon/latest/userguide/manage-your-identity-source-change.html"
AWS_CONSIDER = ("https://docs.aws.amazon.com/singlesignon/latest/userguide/"
                "manage-your-identity-source-considerations.html")
# Event name -> (what it does, severity). ExternalIdP* come from sso-directory.amazonaws.com, *Directory from
# sso.amazonaws.com (console operations in AWS's "IAM Identity Center information in CloudTrail").
IDENTITY_SOURCE_CHANGES: dict[str, tuple[str, str]] = {
    "DisassociateDirectory": ("identity source detached from a directory", "high"),
    "AssociateDirectory": ("identity source switched to an Active Directory", "high"),
    "DeleteExternalIdPConfigurationForDirectory": ("external IdP (SAML) configuration deleted", "high"),
    "DisableExternalIdPConfigurationForDirectory": ("external IdP (SAML) configuration disabled", "high"),
    "CreateExternalIdPConfigurationForDirectory": ("external IdP (SAML) configuration created", "medium"),
    "EnableExternalIdPConfigurationForDirectory": ("external IdP (SAML) configuration enabled", "medium"),
    "UpdateExternalIdPConfigurationForDirectory": ("external IdP (SAML) metadata or certificate updated", "low"),
}
_CHANGE_SOURCES = ("sso.amazonaws.com", "sso-directory.amazonaws.com")
_ORDER = ("info", "low", "medium", "high", "critical")


def _who(event_json) -> str:
    """The caller of a CloudTrail record: its ARN (an assumed role's session names the person), else its type."""
    try:
        record = json.loads(event_json) if isinstance(event_json, str) else {}
    except ValueError:
        record = {}
    ident = (record or {}).get("userIdentity") or {}
    return ident.get("arn") or ident.get("principalId") or ident.get("type") or "unknown"


@check(id="aws.identity_source_changed", title="Identity source or SAML configuration changed recently",
       passed="CloudTrail (the collection window) holds no change to Identity Center's identity source: no "
              "Associate/DisassociateDirectory and no Create/Update/Delete/Enable/DisableExternalIdPConfiguration"
              "ForDirectory event, successful or refused.",
       severity="medium", area="aws", subject_kind="app",
       controls=nist("CM-3", "AU-6") + iso("8.32", "8.16"),
       graded={"high": "the identity source was detached, switched, or its SAML configuration deleted or disabled",
               "low": "the only changes were metadata/certificate updates or attempts AWS refused"},
       meaning="Someone changed how Identity Center trusts its identity source: switched it (to or from a directory), "
               "created, disabled, re-enabled or deleted the external IdP (SAML) configuration, or uploaded new "
               "metadata or a certificate. A switch of identity source deletes or disconnects users, groups and "
               "their assignments and breaks SCIM; a disabled or replaced IdP configuration stops every sign-in from "
               "Entra or lets another IdP sign people in (an attacker's way to persist). Each change is listed with "
               "who made it and when. Certificate uploads (Update) are expected at each rotation and are low.",
       fix="Confirm each change with the person named and the change ticket. If it was not planned, restore Entra's "
           "metadata in Identity Center (Settings › Identity source › Manage authentication), review who holds "
           "the Identity Center administrator permission sets, and check that SCIM provisioning still runs.",
       references=(AWS_CLOUDTRAIL_INFO, AWS_CHANGE_SOURCE, AWS_CONSIDER), tables=("cloudtrail_events",))
def identity_source_changed(data, settings) -> Iterator[Hit]:
    events = data.table("cloudtrail_events")
    names, sources = text(events["eventName"]), text(events["eventSource"])
    wanted = (names.isin(list(IDENTITY_SOURCE_CHANGES)) & sources.isin(list(_CHANGE_SOURCES))).fillna(False)
    chosen = events[wanted.to_numpy()].sort_values("eventTime")
    if chosen.empty:
        return
    changes, worst = [], "info"
    for _, row in chosen.iterrows():
        what, severity = IDENTITY_SOURCE_CHANGES[row["eventName"]]
        refused = row.get("errorCode")
        refused = None if refused is None or pd.isna(refused) else str(refused)
        if refused:
            severity = "low" if severity != "high" else "medium"  # an attempt AWS refused: still worth a look
        worst = max(worst, severity, key=_ORDER.index)
        changes.append({"event": row["eventName"], "what": what, "time": row["eventTime"],
                        "who": _who(row.get("event_json")), "sourceIPAddress": row.get("sourceIPAddress"),
                        "result": f"refused: {refused}" if refused else "succeeded"})
    last = changes[-1]
    yield Hit(settings.app_subject, {"changes": changes, "count": len(changes)}, severity=worst,
              detail=f"{len(changes)} change(s) to the identity source; last: {last['what']} by {last['who']} at "
                     f"{last['time']}" + (f" ({last['result']})" if last["result"] != "succeeded" else ""))
