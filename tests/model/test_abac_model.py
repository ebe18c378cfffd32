"""model/abac.py: claims, Identity Center sources, policy tag conditions and AWS's session tag rules."""

from __future__ import annotations

import json

import pandas as pd

from idbridge.model import abac


def test_claim_keys_reads_only_access_control_claims():
    claims = [{"@odata.type": "#microsoft.graph.samlNameIdClaim", "configurations": []},
              {"@odata.type": "#microsoft.graph.customClaim", "name": "emailaddress",
               "namespace": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims", "configurations": []},
              {"@odata.type": "#microsoft.graph.customClaim", "name": "AccessControl:CostCenter",
               "namespace": "https://aws.amazon.com/SAML/Attributes/",
               "configurations": [{"attribute": {"source": "user", "id": "department"}}]}]
    assert abac.claim_keys(json.dumps(claims)) == {"CostCenter": "user.department"}
    assert abac.claim_keys("not json") == {} and abac.claim_keys(None) == {}


def test_session_tag_values_aws_refuses():
    assert abac.refused("Engineering / EU: team-1 + ops@x=y_z.") is None
    assert abac.refused("Ingénierie 東京") is None            # letters of any script are allowed
    assert abac.refused("") is None
    assert "257 characters" in abac.refused("a" * 257)
    assert "'&'" in abac.refused("R&D") and "';'" in abac.refused("a;b")
    assert abac.refused("tab\there") is not None            # a tab is not a \p{Z} separator


def test_identity_center_paths_to_scim_attributes():
    assert abac.scim_target("${path:enterprise.costCenter}") == \
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"
    assert abac.scim_target("${path:title}") == "title"
    assert abac.scim_target("${user:email}") is None and abac.is_identity_center_user("${user:email}")
    mappings = pd.DataFrame({"target": ['emails[type eq "work"].value', abac.mapping.ENTERPRISE + ":manager"],
                             "expression": ["[mail]", "[manager]"]})
    assert abac.mapped_source(mappings, "emails[primary eq true].value") == "mail"
    assert abac.is_mapped(mappings, abac.scim_target("${path:enterprise.manager.value}"))
    assert not abac.is_mapped(mappings, "title")


def test_tag_tests_and_what_fails_open():
    doc = {"Statement": [
        {"Sid": "A", "Effect": "Allow", "Condition": {"StringNotLike": {"aws:PrincipalTag/Team": "x*"}}},
        {"Sid": "B", "Effect": "Allow", "Condition": {"StringEquals": {"aws:PrincipalTag/Team": "x"}}},
        {"Sid": "C", "Effect": "Allow", "Condition": {"ForAnyValue:StringNotEquals": {"aws:PrincipalTag/Team": "x"},
                                                        "Null": {"aws:PrincipalTag/Team": "false"}}},
        {"Sid": "D", "Effect": "Deny", "Condition": {"StringLike": {"aws:PrincipalTag/Team": "intern*"}}},
        {"Sid": "E", "Effect": "Deny", "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalTag/Team": "x"}}},
        {"Sid": "F", "Effect": "Allow", "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/Project}/*"}]}
    tests = {t.sid: t for t in abac.tag_tests(json.dumps(doc))}
    assert tests["A"].fails_open and not tests["B"].fails_open and not tests["C"].fails_open
    assert tests["D"].fails_open and not tests["E"].fails_open
    assert tests["F"].key == "Project" and not tests["F"].fails_open
    assert abac.tag_tests("{broken") == []


def test_whether_a_condition_holds_for_a_value():
    def t(operator, *values, effect="Allow"):
        return abac.TagTest("Team", operator, effect, "s", tuple(values))

    assert abac.holds(t("StringEquals", "data"), "data") and not abac.holds(t("StringEquals", "data"), "Data")
    assert abac.holds(t("StringEqualsIgnoreCase", "data"), "Data")
    assert abac.holds(t("StringLike", "plat*"), "platform") and not abac.holds(t("StringNotLike", "plat*"), "platform")
    assert abac.holds(t("StringEquals", "data"), None) is False            # a missing tag: false
    assert abac.holds(t("StringNotEquals", "data"), None) is True          # ... except negated operators
    assert abac.holds(t("StringEqualsIfExists", "data"), None) is True     # ... and IfExists
    assert abac.holds(t("StringEquals", "${aws:PrincipalTag/Team}"), "x") is None  # compared with the resource
    assert abac.holds(t("Null", "false"), "x") and not abac.holds(t("Null", "false"), None)
    assert abac.holds(t("NumericLessThan", "3"), "1") is None
