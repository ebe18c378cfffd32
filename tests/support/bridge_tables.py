"""A tiny Entra tenant and Identity Center, correct on both sides, as rows a test changes before building
MemoryTables with the catalogue's columns (missing values become NaN, as in snapshots read with pandas 3).

    alice  assigned to the app directly
    bob, carol  direct members of AWS-Devs (assigned)
    dave   member of Nested only; Nested is inside AWS-Devs -> never provisioned
    erin   not in scope; Other is not assigned
Identity Center holds alice, bob, carol and AWS-Devs (bob, carol), all made by SCIM with externalId = object id.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import pandas as pd

from idbridge.checks.runner import MemoryTables
from idbridge.checks.settings import CheckSettings
from idbridge.core.parameters import ChecksParams
from idbridge.model.mapping import DEFAULT_USER_MAPPINGS
from idbridge.snapshot.schema import SOURCES

COLUMNS = {table: columns for source in SOURCES for table, columns in source.tables.items()}
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
APP = "app:AWS IAM Identity Center"
JOB = "aWSSingleSignon.job"
ADMIN_ARN = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_abc/admin"


def _user(name: str, **extra) -> dict:
    first = name.capitalize()
    return {"id": f"u-{name}", "userPrincipalName": f"{name}@contoso.com", "displayName": f"{first} Test",
            "givenName": first, "surname": "Test", "mail": f"{name}@contoso.com", "otherMails": [],
            "userType": "Member", "accountEnabled": True, "mailNickname": name, "businessPhones": [],
            "createdDateTime": "2025-01-01T00:00:00Z", **extra}


def _idc_user(name: str, **extra) -> dict:
    first = name.capitalize()
    return {"userId": f"i-{name}", "userName": f"{name}@contoso.com", "displayName": f"{first} Test",
            "givenName": first, "familyName": "Test", "email": f"{name}@contoso.com", "externalIds": [f"u-{name}"],
            "userStatus": "ENABLED", "createdBy": "7f3e9a2c-0d41-4b8e-9c55-2a6f1d8e4b70", "createdAt": "2025-01-02T00:00:00Z", **extra}


def rows() -> dict[str, list[dict]]:
    """Every table as a list of row dicts; change them, then call tables()."""
    mappings = [{"jobId": JOB, "objectMapping": "Provision Microsoft Entra ID Users", "sourceObjectName": "User",
                 "targetObjectName": "User", "targetAttributeName": target, "sourceExpression": expression,
                 "mappingType": "Attribute", "flowBehavior": "FlowWhenChanged",
                 "matchingPriority": 1 if target == "userName" else 0}
                for target, expression in DEFAULT_USER_MAPPINGS]
    mappings += [{"jobId": JOB, "objectMapping": "Provision Microsoft Entra ID Groups", "sourceObjectName": "Group",
                  "targetObjectName": "Group", "targetAttributeName": target, "sourceExpression": expression,
                  "mappingType": "Attribute", "flowBehavior": "FlowWhenChanged", "matchingPriority": 0}
                 for target, expression in (("displayName", "[displayName]"), ("externalId", "[objectId]"),
                                            ("members", "[members]"))]
    return {
        "entra_users": [_user(n) for n in ("alice", "bob", "carol", "dave", "erin")],
        "entra_groups": [{"id": f"g-{n.lower()}", "displayName": n, "securityEnabled": True, "isDynamic": False}
                         for n in ("AWS-Devs", "Nested", "Other")],
        "entra_app_role_assignments": [
            {"id": "a1", "principalId": "u-alice", "principalType": "User", "principalDisplayName": "Alice Test"},
            {"id": "a2", "principalId": "g-aws-devs", "principalType": "Group", "principalDisplayName": "AWS-Devs"}],
        "entra_group_members": [
            {"groupId": "g-aws-devs", "memberId": "u-bob", "memberType": "user", "relation": "direct"},
            {"groupId": "g-aws-devs", "memberId": "u-carol", "memberType": "user", "relation": "direct"},
            {"groupId": "g-aws-devs", "memberId": "g-nested", "memberType": "group", "relation": "direct"},
            {"groupId": "g-aws-devs", "memberId": "u-bob", "memberType": "user", "relation": "transitive"},
            {"groupId": "g-aws-devs", "memberId": "u-carol", "memberType": "user", "relation": "transitive"},
            {"groupId": "g-aws-devs", "memberId": "u-dave", "memberType": "user", "relation": "transitive"},
            {"groupId": "g-aws-devs", "memberId": "g-nested", "memberType": "group", "relation": "transitive"}],
        "entra_sync_jobs": [{
            "id": JOB, "templateId": "aWSSingleSignon", "statusCode": "Active", "scheduleState": "Active",
            "scheduleInterval": "PT40M", "lastExecutionState": "Succeeded",
            "lastExecutionEnded": "2026-06-01T11:40:00Z",
            "lastSuccessfulExecutionEnded": "2026-06-01T11:40:00Z", "countSuccessiveCompleteFailures": 0,
            "steadyStateFirstAchievedTime": "2025-01-02T00:00:00Z",
            "steadyStateLastAchievedTime": "2026-06-01T11:40:00Z",
            "status_json": '{"code": "Active", "synchronizedEntryCountByType": '
                           '[{"key": "user to User", "value": 3}, {"key": "group to Group", "value": 1}]}'}],
        "entra_sync_mappings": mappings,
        "entra_provisioning_logs": [],
        "entra_app_claims": [{"nameIdFormat": "emailAddress", "nameIdSource": "user.userprincipalname",
                              "guestNameIdSource": "user.mail", "claims_json": "[]"}],
        "idc_users": [_idc_user(n) for n in ("alice", "bob", "carol")],
        "idc_groups": [{"groupId": "ig-devs", "displayName": "AWS-Devs", "externalIds": ["g-aws-devs"],
                        "createdBy": "7f3e9a2c-0d41-4b8e-9c55-2a6f1d8e4b70", "createdAt": "2025-01-02T00:00:00Z"}],
        "idc_group_memberships": [{"groupId": "ig-devs", "userId": "i-bob", "membershipId": "m1"},
                                  {"groupId": "ig-devs", "userId": "i-carol", "membershipId": "m2"}],
        "idc_permission_sets": [{"permissionSetArn": "arn:ps/dev", "name": "Developer", "sessionDuration": "PT1H"},
                                {"permissionSetArn": "arn:ps/ro", "name": "ReadOnly", "sessionDuration": "PT1H"}],
        "idc_permission_set_provisioning": [
            {"permissionSetArn": arn, "accountId": "111111111111", "status": "LATEST_PERMISSION_SET_PROVISIONED"}
            for arn in ("arn:ps/dev", "arn:ps/ro")],
        "idc_account_assignments": [
            {"accountId": "111111111111", "permissionSetArn": "arn:ps/dev", "principalType": "GROUP",
             "principalId": "ig-devs"},
            {"accountId": "111111111111", "permissionSetArn": "arn:ps/ro", "principalType": "USER",
             "principalId": "i-alice"}],
        "org_accounts": [{"accountId": "111111111111", "name": "dev", "status": "ACTIVE"},
                         {"accountId": "222222222222", "name": "prod", "status": "ACTIVE"}],
        "cloudtrail_events": [],
        # Issue 17: target actions on, assignment required, Identity Center delegated to a member account.
        "entra_sync_object_mappings": [
            {"jobId": JOB, "objectMapping": f"Provision Microsoft Entra ID {kind}s", "sourceObjectName": kind,
             "targetObjectName": kind, "enabled": True, "flowTypes": "Add, Update, Delete"}
            for kind in ("User", "Group")],
        "entra_service_principal": [{"id": "sp-aws", "appId": "app-aws", "displayName": "AWS IAM Identity Center",
                                     "appRoleAssignmentRequired": True}],
        "org_organization": [{"organizationId": "o-1", "managementAccountId": "999999999999", "featureSet": "ALL"}],
        "org_delegated_admins": [{"servicePrincipal": "sso.amazonaws.com", "accountId": "333333333333",
                                  "name": "identity", "status": "ACTIVE"}],
        "idc_instances": [{"instanceArn": "arn:aws:sso:::instance/ssoins-1111111111111111",
                           "ownerAccountId": "999999999999"}],
        # Issue 17 items 6, 7: an SCP on the root denies account instances; no provisioning failed.
        "org_scps": [
            {"policyId": "p-FullAWSAccess", "name": "FullAWSAccess", "awsManaged": True,
             "content": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
             "targets": ["ROOT:r-ab12:Root"]},
            {"policyId": "p-denyinstances", "name": "DenyAccountInstances", "awsManaged": False,
             "content": '{"Version":"2012-10-17","Statement":[{"Sid":"DenyMemberAccountInstances","Effect":"Deny",'
                        '"Action":"sso:CreateInstance","Resource":"*"}]}',
             "targets": ["ROOT:r-ab12:Root"]}],
        "idc_provisioning_failures": [],
    }


def frame(table: str, items: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{c: item.get(c) for c in COLUMNS[table]} for item in items], columns=list(COLUMNS[table]))


def tables(data: dict[str, list[dict]] | None = None, not_collected: dict[str, str] | None = None) -> MemoryTables:
    data = rows() if data is None else data
    return MemoryTables({name: frame(name, items) for name, items in data.items()}, not_collected)


def settings(now: datetime = NOW, token: date | None = None, **checks) -> CheckSettings:
    return CheckSettings(now=now, checks=ChecksParams(scim_token_created=token, **checks))


def run(check_function, data: dict[str, list[dict]] | None = None, **kwargs) -> dict[str, object]:
    """subject -> Hit of one check function on these rows."""
    hits = list(check_function(tables(data), settings(**kwargs)))
    subjects = [h.subject for h in hits]
    assert len(subjects) == len(set(subjects)), f"one finding per subject: {subjects}"
    return {h.subject: h for h in hits}


def find(data: dict[str, list[dict]], table: str, **match) -> dict:
    return next(r for r in data[table] if all(r.get(k) == v for k, v in match.items()))


def with_abac(*statements: dict, not_collected: dict[str, str] | None = None, people: dict | None = None):
    """support/bridge_tables' tenant with ABAC: Department from Identity Center (SCIM department), Team as a
    claim from the job title; Developer's inline policy holds `statements`. bob and carol hold Developer in
    AWS (dave only through a nested group: not effective); alice holds ReadOnly (a managed policy). Returns the
    access table (built from every table) and the tables with `not_collected` missing. people: user name ->
    attributes to change ({"carol": {"department": "..."}})."""
    import json

    from idbridge.model.access.build import build_access

    data = rows()
    for user in data["entra_users"]:
        user.update(department="Engineering", jobTitle="platform")
    data["entra_users"][1]["jobTitle"] = "data"  # bob
    for name, changes in (people or {}).items():
        find(data, "entra_users", id=f"u-{name}").update(changes)
    claim = {"@odata.type": "#microsoft.graph.customClaim", "name": "AccessControl:Team",
             "namespace": "https://aws.amazon.com/SAML/Attributes",
             "configurations": [{"attribute": {"source": "user", "id": "jobtitle"}}]}
    data["entra_app_claims"][0]["claims_json"] = json.dumps([claim])
    data["idc_abac_status"] = [{"instanceArn": "arn:aws:sso:::instance/ssoins-1", "configured": True,
                                "status": "ENABLED"}]
    data["idc_abac_attributes"] = [{"key": "Department", "source": "${path:enterprise.department}"}]
    data["idc_permission_set_policies"] = [
        {"permissionSetArn": "arn:ps/dev", "kind": "inline",
         "document": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})},
        {"permissionSetArn": "arn:ps/ro", "kind": "managed", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]
    tables_ = tables(data, not_collected)
    return build_access(tables(data), settings()), tables_
