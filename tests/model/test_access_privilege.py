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
    assert any("the level is what the policies allow" in r for r in reasons)


def boundary(name: str, kind: str = "boundary_managed", path: str = "/", document: dict | None = None) -> dict:
    return {"kind": kind, "policyName": name, "policyPath": path,
            "document": json.dumps(document) if document is not None else None}


def deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def test_a_boundary_that_caps_nothing_leaves_the_policies_level():
    # AdministratorAccess bounded by AdministratorAccess: the boundary exists but allows everything
    got, reasons = level(managed("AdministratorAccess"), boundary("AdministratorAccess"))
    assert got == "admin", reasons
    assert "permissions boundary AdministratorAccess allows admin: it caps nothing" in reasons
    # a boundary that allows more than the policies does not raise them
    assert level(managed("ReadOnlyAccess"), boundary("AdministratorAccess"))[0] == "read"
    # a boundary we cannot classify (unknown AWS managed) leaves the level and says so
    got, reasons = level(managed("AdministratorAccess"), boundary("SomethingNew"))
    assert got == "admin" and any("SomethingNew (AWS managed, not assessed)" in r for r in reasons)


def test_a_boundary_whose_document_we_hold_caps_by_what_it_allows():
    fence = {"Statement": [allow("*"), deny(["iam:*", "organizations:*"])]}
    got, reasons = level(managed("AdministratorAccess"),
                         boundary("Fence", "boundary_customer_managed", "/b/", document=fence))
    assert got == "power" and reasons[0] == "permissions boundary /b/Fence caps it at power"
    open_fence = {"Statement": [allow("*")]}
    assert level(managed("AdministratorAccess"),
                 boundary("Open", "boundary_customer_managed", document=open_fence))[0] == "admin"


@pytest.mark.parametrize("statements, expected, reason", [
    # Allow * on * less an unconditional Deny of IAM and Organizations: the catalogue's PowerUser rule
    ([allow("*"), deny(["iam:*", "organizations:*"])], "power", "all but IAM and Organizations"),
    ([allow("*"), deny(["iam:*", "organizations:*", "sso:*"])], "power", "all but IAM and Organizations"),
    # IAM out but Organizations in: organizations:* on * is admin on its own
    ([allow("*"), deny("iam:*")], "admin", "leaves Organizations in"),
    # a Deny of part of IAM leaves the other escalation paths in
    ([allow("*"), deny(["iam:CreateRole", "organizations:*"])], "admin", "leaves IAM in"),
    # conditional Denies and Denies on some resources only do not reliably deny: ignored
    ([allow("*"), deny(["iam:*", "organizations:*"], Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})],
     "admin", "1 Deny statement(s) not counted"),
    ([allow("*"), deny(["iam:*", "organizations:*"], "arn:aws:iam::*:role/*")], "admin", "* on *"),
    ([allow("*"), {"Effect": "Deny", "Action": ["iam:*", "organizations:*"],
                   "NotResource": "arn:aws:iam::*:role/BreakGlass"}], "admin", "* on *"),
    # Deny on the specific escalation actions of a narrower grant
    ([allow(["iam:*", "s3:*"]), deny("iam:*")], "write", None),
    ([allow("sts:AssumeRole"), deny("sts:AssumeRole")], "custom", None),
    ([allow(["kms:*", "s3:GetObject"]), deny("kms:*")], "read", None),
    ([allow("organizations:*"), deny("organizations:Create*")], "admin", "organizations:*"),  # partial: stays
    ([allow(["iam:PassRole", "ec2:RunInstances"]), deny("iam:PassRole")], "write", None),
    # Deny NotAction: only what it names is left
    ([allow("*"), {"Effect": "Deny", "NotAction": ["s3:*", "ec2:Describe*"], "Resource": "*"}], "write", None),
    ([allow("*"), {"Effect": "Deny", "NotAction": ["s3:Get*", "ec2:Describe*"], "Resource": "*"}], "read", None),
    # NotAction Allow: every escalation path must be out, and Organizations too
    ([{"Effect": "Allow", "NotAction": ["iam:CreateRole"], "Resource": "*"}], "admin", "leaves IAM in"),
    ([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, deny("organizations:*")], "power", "all but IAM"),
    # NotResource in an Allow: what it leaves in counts
    ([{"Effect": "Allow", "Action": "iam:*", "NotResource": "arn:aws:iam::*:*"}], "write", None),
    ([{"Effect": "Allow", "Action": "iam:*", "NotResource": "arn:aws:s3:::logs"}], "admin", "iam:*"),
])
def test_deny_notaction_and_notresource_are_evaluated(statements, expected, reason):
    got, reasons = level(inline(*statements))
    assert got == expected, reasons
    if reason:
        assert any(reason in r for r in reasons), reasons


def test_the_inline_deny_applies_to_the_managed_policies_too():
    got, reasons = level(managed("AdministratorAccess"), inline(deny(["iam:*", "organizations:*"])))
    assert got == "power", reasons
    assert any("AdministratorAccess (with the inline policy's Deny)" in r for r in reasons)
    assert level(managed("IAMFullAccess"), inline(deny("iam:*")))[0] != "admin"
    # a conditional Deny does not lower it
    conditional = deny(["iam:*", "organizations:*"], Condition={"StringEquals": {"aws:RequestedRegion": "x"}})
    assert level(managed("AdministratorAccess"), inline(conditional))[0] == "admin"


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
