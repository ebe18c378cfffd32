"""Privilege levels of permission sets (model/privilege.py): managed policies, inline documents, boundaries."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from idbridge.model.privilege import analyse_document, classify, session_hours


def level(*policies: dict) -> tuple[str, list[str]]:
    sets = pd.DataFrame([{"permissionSetArn": "arn:ps", "name": "Set", "sessionDuration": "PT1H"}])
    rows = pd.DataFrame([{"permissionSetArn": "arn:ps", "policyArn": None, "policyName": None, "policyPath": None,
                          "document": None, **p} for p in policies])
    out = classify(sets, rows).iloc[0]
    return out["privilege"], out["reasons"]


def managed(name: str, path: str = "/") -> dict:
    return {"kind": "managed", "policyName": name, "policyPath": path}


def inline(*statements: dict) -> dict:
    return {"kind": "inline", "document": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})}


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize("name, expected", [
    ("AdministratorAccess", "admin"), ("IAMFullAccess", "admin"), ("AWSOrganizationsFullAccess", "admin"),
    ("PowerUserAccess", "power"), ("SystemAdministrator", "power"), ("ReadOnlyAccess", "read"),
    ("ViewOnlyAccess", "read"), ("SecurityAudit", "read"), ("Billing", "billing"),
    ("AmazonS3ReadOnlyAccess", "read"), ("AmazonAthenaFullAccess", "write"), ("NetworkAdministrator", "write"),
    ("SomethingNew", "custom"),
])
def test_aws_managed_policies(name, expected):
    assert level(managed(name))[0] == expected


@pytest.mark.parametrize("statement, expected, reason", [
    (allow("*"), "admin", "* on *"),
    (allow("*:*"), "admin", "* on *"),
    (allow(["iam:CreateRole", "iam:AttachRolePolicy"]), "admin", "iam:CreateRole, iam:AttachRolePolicy"),
    (allow("iam:*"), "admin", "iam:*"),
    (allow("iam:Put*"), "admin", "iam:Put*"),
    (allow("sts:AssumeRole"), "admin", "sts:AssumeRole on *"),
    (allow("organizations:*"), "admin", "organizations:*"),
    (allow("kms:*"), "admin", "kms:*"),
    (allow("kms:Decrypt"), "write", None),
    (allow("iam:*", "arn:aws:iam::*:role/app-*"), "write", None),
    (allow("sts:AssumeRole", "arn:aws:iam::123456789012:role/Reader"), "write", None),
    (allow(["s3:Get*", "ec2:Describe*", "logs:FilterLogEvents"]), "read", None),
    (allow(["s3:PutObject"], "arn:aws:s3:::bucket/*"), "write", None),
    ({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}, "power", "all but IAM"),
    ({"Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"}, "admin", "leaves IAM in"),
    ({"Effect": "Deny", "Action": "*", "Resource": "*"}, "custom", None),
])
def test_inline_statements(statement, expected, reason):
    got, reasons = level(inline(statement))
    assert got == expected
    if reason:
        assert any(reason in r for r in reasons), reasons


def test_pass_role_on_everything_is_admin_only_with_something_to_pass_it_to():
    assert level(inline(allow("iam:PassRole")), managed("PowerUserAccess"))[0] == "admin"
    assert level(inline(allow(["iam:PassRole", "lambda:CreateFunction"])))[0] == "admin"
    assert level(inline(allow("iam:PassRole")), managed("ReadOnlyAccess"))[0] == "write"
    scoped = allow("iam:PassRole", "arn:aws:iam::*:role/service-role/etl",
                   Condition={"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}})
    assert level(inline(scoped, allow("glue:*")))[0] == "write"


def test_boundaries_cap_or_are_named():
    capped, reasons = level(managed("AdministratorAccess"),
                            {"kind": "boundary_managed", "policyName": "PowerUserAccess"})
    assert capped == "power" and reasons[0] == "permissions boundary PowerUserAccess caps it at power"
    named, reasons = level(managed("AdministratorAccess"),
                           {"kind": "boundary_customer_managed", "policyName": "Fence", "policyPath": "/b/"})
    assert named == "admin" and any("/b/Fence (customer managed, not assessed)" in r for r in reasons)


def test_the_highest_level_wins_and_unassessed_parts_are_said():
    got, reasons = level(managed("ReadOnlyAccess"), {"kind": "customer_managed", "policyName": "Mine",
                                                     "policyPath": "/team/"})
    assert got == "read" and any("/team/Mine" in r and "not assessed" in r for r in reasons)
    assert level({"kind": "customer_managed", "policyName": "Mine", "policyPath": "/"})[0] == "custom"
    assert level(managed("Billing"), managed("ReadOnlyAccess"))[0] == "billing"


def test_sets_without_policies_or_without_the_policies_table():
    sets = pd.DataFrame([{"permissionSetArn": "arn:a", "name": "A", "sessionDuration": "PT12H"}])
    assert classify(sets, None).iloc[0]["reasons"] == ["policies not collected"]
    empty = pd.DataFrame(columns=["permissionSetArn", "kind", "policyArn", "policyName", "policyPath", "document"])
    row = classify(sets, empty).iloc[0]
    assert row["privilege"] == "custom" and row["reasons"] == ["no policy attached"] and row["session_hours"] == 12


def test_broken_inline_json_is_custom():
    assert analyse_document("{not json")["level"] == "custom"


@pytest.mark.parametrize("text, hours", [("PT1H", 1), ("PT12H", 12), ("PT1H30M", 1.5), ("PT90M", 1.5),
                                         ("P1D", 24), ("PT3600S", 1)])
def test_session_hours(text, hours):
    assert session_hours(text) == hours


@pytest.mark.parametrize("text", [None, "", "1 hour", "P"])
def test_unreadable_sessions_are_nan(text):
    assert math.isnan(session_hours(text))
