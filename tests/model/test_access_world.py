"""A tiny organisation with clean access, as rows that tests change before building MemoryTables with the
catalogue's columns (missing values become NaN, as in snapshots read with pandas 3). Shared by the access model
and access check tests; its own tests say the clean organisation raises no access finding.

    alice   assigned to the app directly, direct member of AWS-Readers  -> ReadOnly on dev and prod
    bob     direct member of AWS-Devs                                   -> Developer on dev, ReadOnly on prod
    carol   direct member of AWS-Devs                                   -> same
    dave    member of Nested only; Nested is inside AWS-Devs            -> nested_group paths, never effective
    erin    not in scope
Identity Center holds alice, bob, carol, AWS-Devs (bob, carol) and AWS-Readers (alice), all made by SCIM.
Everyone signed in yesterday on both sides, has MFA; one enabled CA policy requires MFA for the app.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import pandas as pd

from idbridge.checks.runner import MemoryTables
from idbridge.checks.settings import CheckSettings
from idbridge.core.parameters import ChecksParams
from idbridge.snapshot.schema import SOURCES

COLUMNS = {table: columns for source in SOURCES for table, columns in source.tables.items()}
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
YESTERDAY = "2026-05-31T09:00:00Z"
APP_ID = "app-aws"
ADMIN = "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_abc/admin"
DEV, PROD = "111111111111", "222222222222"
PS = {"Developer": "arn:ps/dev", "ReadOnly": "arn:ps/ro", "Admin": "arn:ps/admin", "Auditor": "arn:ps/audit"}
MANAGED = {"Developer": "PowerUserAccess", "ReadOnly": "ReadOnlyAccess", "Admin": "AdministratorAccess",
           "Auditor": "SecurityAudit"}


def user(name: str, **extra) -> dict:
    return {"id": f"u-{name}", "userPrincipalName": f"{name}@contoso.com", "displayName": f"{name.capitalize()} Test",
            "givenName": name.capitalize(), "surname": "Test", "mail": f"{name}@contoso.com", "otherMails": [],
            "userType": "Member", "accountEnabled": True, "mailNickname": name, "businessPhones": [],
            "createdDateTime": "2024-01-01T00:00:00Z", **extra}


def idc_user(name: str, **extra) -> dict:
    return {"userId": f"i-{name}", "userName": f"{name}@contoso.com", "displayName": f"{name.capitalize()} Test",
            "givenName": name.capitalize(), "familyName": "Test", "email": f"{name}@contoso.com",
            "externalIds": [f"u-{name}"], "userStatus": "ENABLED", "createdBy": "7f3e9a2c-0d41-4b8e-9c55-2a6f1d8e4b70",
            "createdAt": "2024-01-02T00:00:00Z", **extra}


def member(group: str, who: str, relation: str = "direct", kind: str = "user") -> dict:
    return {"groupId": group, "memberId": who, "memberType": kind, "relation": relation}


def assignment(account: str, permission_set: str, principal: str, kind: str = "GROUP") -> dict:
    return {"accountId": account, "permissionSetArn": PS[permission_set], "principalType": kind,
            "principalId": principal}


def permission_set(name: str, duration: str = "PT1H") -> dict:
    return {"permissionSetArn": PS[name], "name": name, "sessionDuration": duration,
            "createdDate": "2024-01-01T00:00:00Z"}


def policy(name: str, managed: str | None = None, **extra) -> dict:
    managed = managed or MANAGED[name]
    return {"permissionSetArn": PS[name], "kind": "managed", "policyArn": f"arn:aws:iam::aws:policy/{managed}",
            "policyName": managed, "policyPath": "/", **extra}


def auth(name: str, when: str = YESTERDAY, **extra) -> dict:
    return {"eventId": f"e-{name}-{when}", "eventTime": when, "eventName": "UserAuthentication",
            "eventSource": "signin.amazonaws.com", "userName": f"{name}@contoso.com", "userId": f"i-{name}", **extra}


def rows() -> dict[str, list[dict]]:
    """Every table as a list of row dicts; change them, then call tables()."""
    people = ("alice", "bob", "carol", "dave", "erin")
    return copy.deepcopy({
        "entra_users": [user(n) for n in people],
        "entra_groups": [{"id": f"g-{n.lower()}", "displayName": n, "securityEnabled": True, "isDynamic": False}
                         for n in ("AWS-Devs", "AWS-Readers", "Nested", "Other")],
        "entra_app_role_assignments": [
            {"id": "a1", "principalId": "u-alice", "principalType": "User", "principalDisplayName": "Alice Test"},
            {"id": "a2", "principalId": "g-aws-devs", "principalType": "Group", "principalDisplayName": "AWS-Devs"},
            {"id": "a3", "principalId": "g-aws-readers", "principalType": "Group",
             "principalDisplayName": "AWS-Readers"}],
        "entra_group_members": [
            member("g-aws-devs", "u-bob"), member("g-aws-devs", "u-carol"),
            member("g-aws-devs", "g-nested", kind="group"),
            member("g-aws-devs", "u-bob", "transitive"), member("g-aws-devs", "u-carol", "transitive"),
            member("g-aws-devs", "u-dave", "transitive"), member("g-aws-devs", "g-nested", "transitive", "group"),
            member("g-aws-readers", "u-alice"), member("g-aws-readers", "u-alice", "transitive")],
        "entra_sync_jobs": [{"id": "job", "templateId": "aWSSingleSignon", "statusCode": "Active",
                             "status_json": '{"code": "Active"}'}],
        "entra_sync_mappings": [],
        "entra_sign_in_activity": [{"id": f"u-{n}", "lastSignInDateTime": YESTERDAY,
                                    "lastSuccessfulSignInDateTime": YESTERDAY,
                                    "lastNonInteractiveSignInDateTime": YESTERDAY} for n in people],
        "entra_sign_ins": [],
        "entra_mfa_registration": [{"id": f"u-{n}", "userPrincipalName": f"{n}@contoso.com", "userType": "member",
                                    "isMfaRegistered": True, "isMfaCapable": True,
                                    "methodsRegistered": ["microsoftAuthenticatorPush"]} for n in people],
        "entra_ca_policies": [{"id": "ca1", "displayName": "Require MFA for AWS", "state": "enabled",
                               "includeApplications": [APP_ID], "excludeApplications": [], "includeUsers": ["All"],
                               "excludeUsers": [], "includeGroups": [], "excludeGroups": [],
                               "grantOperator": "OR", "builtInControls": ["mfa"]}],
        "entra_service_principal": [{"id": "sp", "appId": APP_ID, "displayName": "AWS IAM Identity Center"}],
        "idc_users": [idc_user(n) for n in ("alice", "bob", "carol")],
        "idc_groups": [{"groupId": "ig-devs", "displayName": "AWS-Devs", "externalIds": ["g-aws-devs"],
                        "createdBy": "7f3e9a2c-0d41-4b8e-9c55-2a6f1d8e4b70", "createdAt": "2024-01-02T00:00:00Z"},
                       {"groupId": "ig-readers", "displayName": "AWS-Readers", "externalIds": ["g-aws-readers"],
                        "createdBy": "7f3e9a2c-0d41-4b8e-9c55-2a6f1d8e4b70", "createdAt": "2024-01-02T00:00:00Z"}],
        "idc_group_memberships": [{"groupId": "ig-devs", "userId": "i-bob", "membershipId": "m1"},
                                  {"groupId": "ig-devs", "userId": "i-carol", "membershipId": "m2"},
                                  {"groupId": "ig-readers", "userId": "i-alice", "membershipId": "m3"}],
        "idc_permission_sets": [permission_set("Developer", "PT2H"), permission_set("ReadOnly")],
        "idc_permission_set_policies": [policy("Developer"), policy("ReadOnly")],
        "idc_permission_set_provisioning": [],
        "idc_account_assignments": [assignment(DEV, "Developer", "ig-devs"), assignment(PROD, "ReadOnly", "ig-devs"),
                                    assignment(DEV, "ReadOnly", "ig-readers"),
                                    assignment(PROD, "ReadOnly", "ig-readers")],
        "org_accounts": [{"accountId": DEV, "name": "dev", "status": "ACTIVE", "ouPath": "Workloads/NonProd",
                          "tags": ["environment=dev"]},
                         {"accountId": PROD, "name": "prod", "status": "ACTIVE", "ouPath": "Workloads/Prod",
                          "tags": ["environment=prod", "owner=platform"]}],
        "cloudtrail_events": [auth(n) for n in ("alice", "bob", "carol")],
        # Identity Center run by a delegated administrator; nothing assigned in the management account
        "org_organization": [{"organizationId": "o-1", "managementAccountId": "999999999999", "featureSet": "ALL"}],
        "org_delegated_admins": [{"servicePrincipal": "sso.amazonaws.com", "accountId": "333333333333",
                                  "name": "identity", "status": "ACTIVE"}],
        "entra_pim_schedules": [], "entra_pim_instances": [], "entra_pim_requests": [],  # no group is PIM-managed
    })


def frame(table: str, items: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{c: item.get(c) for c in COLUMNS[table]} for item in items], columns=list(COLUMNS[table]))


def tables(data: dict[str, list[dict]] | None = None, not_collected: dict[str, str] | None = None) -> MemoryTables:
    data = rows() if data is None else data
    return MemoryTables({name: frame(name, items) for name, items in data.items() if name in COLUMNS},
                        not_collected)


def settings(now: datetime = NOW, **checks) -> CheckSettings:
    return CheckSettings(now=now, checks=ChecksParams(**checks))


def hits(check_function, data: dict[str, list[dict]] | None = None, **checks) -> dict:
    """subject -> Hit of one check function on these rows (one finding per subject)."""
    found = list(check_function(tables(data), settings(**checks)))
    subjects = [h.subject for h in found]
    assert len(subjects) == len(set(subjects)), f"one finding per subject: {subjects}"
    return {h.subject: h for h in found}


# --------------------------------------------------------------------------------------------- the world itself


def test_the_clean_world_raises_no_access_finding():
    from idbridge.checks import load_all
    from idbridge.checks.runner import run_checks

    load_all()
    results = run_checks(tables(), settings(sod_conflicts=[("Developer", "Auditor")], revocation_prepared="scp"),
                         areas=["access"])
    assert {o.check_id: o.status for o in results.outcomes if o.status != "pass"} == {}
    assert results.findings == []


def test_without_declared_pairs_the_sod_check_is_not_applicable():
    from idbridge.checks import load_all
    from idbridge.checks.runner import run_checks

    load_all()
    outcome = run_checks(tables(), settings(), ids=["access.sod_conflict"]).outcomes[0]
    assert outcome.status == "not_applicable" and "sod_conflicts" in outcome.reason
