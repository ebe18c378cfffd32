"""model/abac.py: claims, Identity Center sources, policy tag conditions and AWS's session tag rules."""

from __future__ import annotations

import json

import pandas as pd
from support import bridge_tables as bt

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


# --------------------------------------------------------------------------------------------- the access review


PLATFORM_ONLY = {"Sid": "PlatformTeam", "Effect": "Allow", "Action": "ec2:*", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:PrincipalTag/Team": "platform"}}}
NO_INTERNS = {"Sid": "NoInterns", "Effect": "Deny", "Action": "*", "Resource": "*",
              "Condition": {"StringEquals": {"aws:PrincipalTag/Department": "Interns"}}}


def test_conditional_paths_name_each_condition_and_whether_this_person_satisfies_it():
    access, tables = bt.with_abac(PLATFORM_ONLY, NO_INTERNS)
    paths = abac.conditional_paths(access, tables).set_index("user_principal_name")
    assert sorted(paths.index) == ["bob@contoso.com", "carol@contoso.com"], "effective Developer paths only"
    bob, carol = paths.loc["bob@contoso.com"], paths.loc["carol@contoso.com"]
    assert bob["conditions"].split("\n") == [
        'Allow PlatformTeam when aws:PrincipalTag/Team StringEquals "platform" — this person\'s Team=data: '
        "not satisfied: the Allow does not apply",
        'Deny NoInterns when aws:PrincipalTag/Department StringEquals "Interns" — this person\'s '
        "Department=Engineering: not satisfied: the Deny does not apply"]
    assert bob["satisfied"] == "satisfies none of the tag conditions" and bob["held_back"]
    assert carol["satisfied"] == "satisfies 1 of 2 tag conditions" and not carol["held_back"], \
        "a Deny that does not apply holds nothing back"
    assert "the Allow applies" in carol["conditions"]
    assert bob["rules"] == carol["rules"] and "this person" not in bob["rules"]


def test_the_review_cell_of_every_path_says_conditional_or_not_or_why_not_known():
    access, tables = bt.with_abac(PLATFORM_ONLY)
    cells = {(r["user_principal_name"], r["effective"]): abac.conditional_access(access, tables).cell(
        r["path_id"], r["permission_set_arn"]) for r in access.to_dict("records")}
    assert cells[("carol@contoso.com", True)].startswith("yes — this person: satisfies every tag condition\nAllow PlatformTeam")
    assert cells[("bob@contoso.com", True)].startswith("yes — this person: satisfies none of the tag conditions")
    assert cells[("alice@contoso.com", True)] == "none found (managed policies not read)"
    assert cells[("dave@contoso.com", False)] == "yes — not weighed: the access does not work in AWS"

    # aws.abac not collected: the conditions are known, whether the person's tags satisfy them is not
    _, blind = bt.with_abac(PLATFORM_ONLY, not_collected={"idc_abac_status": "AccessDenied: sso:Describe..."})
    carol = abac.conditional_access(access, blind).cell(
        access.loc[access["user_principal_name"] == "carol@contoso.com", "path_id"].iloc[0], "arn:ps/dev")
    assert carol.split("\n") == [
        "yes — this person: not known whether the tags satisfy them (not collected: idc_abac_status: "
        "AccessDenied: sso:Describe...)",
        'Allow PlatformTeam when aws:PrincipalTag/Team StringEquals "platform": not known']
    # the permission sets' policies not collected: nothing can be told, and every cell says why
    _, none = bt.with_abac(PLATFORM_ONLY, not_collected={"idc_permission_set_policies": "AccessDenied"})
    view = abac.conditional_access(access, none)
    assert {view.cell(p, a) for p, a in zip(access["path_id"], access["permission_set_arn"])} == {
        "not collected: idc_permission_set_policies: AccessDenied"}


def test_without_tag_conditions_no_path_is_conditional():
    access, tables = bt.with_abac({"Sid": "All", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"})
    view = abac.conditional_access(access, tables)
    assert view.paths.empty and {view.cell(p, a) for p, a in zip(access["path_id"], access["permission_set_arn"])} \
        == {"no", "none found (managed policies not read)"}
