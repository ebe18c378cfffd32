"""The ABAC checks on small tables: a correct setup passes every one; each planted fault is found, and only it.

The clean setup (on support/bridge_tables' tenant): ABAC enabled with Department <- ${path:enterprise.department}
(provisioning maps [department] there); the app sends AccessControl:Team <- user.jobtitle; Developer's inline
policy tests both tags with positive operators; alice, bob and carol (in scope) have both attributes.
"""

from __future__ import annotations

import json

from support import bridge_tables as bt
from idbridge.checks import load_all
from idbridge.checks.rules import abac as r
from idbridge.checks.runner import run_checks

load_all()
ALL = [r.tag_not_supplied, r.claims_without_abac, r.source_not_provisioned, r.user_value_refused,
       r.condition_fails_open, r.key_from_both_sides]
IDS = [f.meta.id for f in ALL]


def _claim(key: str, source: str) -> dict:
    return {"@odata.type": "#microsoft.graph.customClaim", "name": f"AccessControl:{key}",
            "namespace": "https://aws.amazon.com/SAML/Attributes", "tokenFormat": ["saml"],
            "configurations": [{"condition": None, "attribute": {"source": "user", "id": source.split(".", 1)[1]}}]}


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


OWN_DEPARTMENT = {"Sid": "OwnDepartment", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                  "Condition": {"StringEquals": {"aws:ResourceTag/Department": "${aws:PrincipalTag/Department}"}}}
PLATFORM = {"Sid": "PlatformTeam", "Effect": "Allow", "Action": "ec2:*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/Team": "platform"}}}


def rows(*statements: dict, claims: list[dict] | None = None, instance: dict[str, str] | None = None,
         configured: bool = True) -> dict:
    data = bt.rows()
    for user in data["entra_users"]:
        user.update(department="Engineering", jobTitle="platform")
    data["entra_app_claims"][0]["claims_json"] = json.dumps(
        [_claim("Team", "user.jobtitle")] if claims is None else claims)
    data["idc_abac_status"] = [{"instanceArn": "arn:aws:sso:::instance/ssoins-1", "configured": configured,
                                "status": "ENABLED" if configured else None}]
    instance = {"Department": "${path:enterprise.department}"} if instance is None else instance
    data["idc_abac_attributes"] = [{"key": k, "source": s} for k, s in instance.items()] if configured else []
    data["idc_permission_set_policies"] = [{"permissionSetArn": "arn:ps/dev", "kind": "inline",
                                            "document": _policy(*(statements or (OWN_DEPARTMENT, PLATFORM)))},
                                           {"permissionSetArn": "arn:ps/ro", "kind": "managed",
                                            "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]
    return data


def findings(data: dict) -> dict[str, set[str]]:
    results = run_checks(bt.tables(data), bt.settings(), ids=IDS)
    out: dict[str, set[str]] = {}
    for finding in results.findings:
        out.setdefault(finding.check_id, set()).add(finding.subject)
    return out


def test_a_correct_setup_passes_every_abac_check():
    results = run_checks(bt.tables(rows()), bt.settings(), ids=IDS)
    assert {o.check_id: o.status for o in results.outcomes} == {
        "abac.tag_not_supplied": "pass", "abac.claims_without_abac": "pass", "abac.source_not_provisioned": "pass",
        "abac.user_value_refused": "pass", "abac.condition_fails_open": "pass",
        "abac.key_from_both_sides": "not_applicable"}


def test_without_any_abac_the_checks_are_not_applicable():
    data = rows(claims=[], configured=False)
    data["idc_permission_set_policies"] = []
    results = run_checks(bt.tables(data), bt.settings(), ids=IDS)
    assert {o.status for o in results.outcomes} == {"not_applicable"}


def test_a_policy_testing_a_tag_nothing_supplies():
    cost = {"Sid": "Cost", "Effect": "Allow", "Action": "ce:*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/CostCenter": "42"}}}
    hit = bt.run(r.tag_not_supplied, rows(OWN_DEPARTMENT, PLATFORM, cost))["permission_set:Developer"]
    assert hit.evidence["keys"] == ["CostCenter"] and hit.evidence["statements"] == ["inline Cost"]
    assert hit.evidence["supplied_keys"] == ["Department", "Team"]
    assert findings(rows(OWN_DEPARTMENT, PLATFORM, cost)) == {"abac.tag_not_supplied": {"permission_set:Developer"}}


def test_keys_compare_without_case_as_iam_does():
    lower = {**PLATFORM, "Condition": {"StringEquals": {"aws:principaltag/team": "platform"}}}
    assert bt.run(r.tag_not_supplied, rows(OWN_DEPARTMENT, lower)) == {}


def test_claims_sent_while_abac_is_not_enabled():
    data = rows(configured=False)
    assert findings(data) == {"abac.claims_without_abac": {bt.APP},
                              "abac.tag_not_supplied": {"permission_set:Developer"}}
    hit = bt.run(r.claims_without_abac, data)[bt.APP]
    assert hit.evidence["claim_keys"] == ["Team"] and "no ABAC configuration" in hit.detail
    # Without ABAC the claims supply nothing: both keys are missing.
    assert bt.run(r.tag_not_supplied, data)["permission_set:Developer"].evidence["keys"] == ["Department", "Team"]


def test_an_identity_center_source_no_mapping_fills():
    data = rows(instance={"Department": "${path:enterprise.department}", "Division": "${path:enterprise.division}"})
    hit = bt.run(r.source_not_provisioned, data)[bt.APP]
    assert [a["key"] for a in hit.evidence["attributes"]] == ["Division"]
    assert findings(data) == {"abac.source_not_provisioned": {bt.APP}}
    # the documented emails[primary eq true] path is filled by Entra's work email mapping
    assert bt.run(r.source_not_provisioned, rows(instance={"Mail": "${path:emails[primary eq true].value}"})) == {}


def test_users_with_empty_or_refused_values():
    data = rows()
    bt.find(data, "entra_users", id="u-bob")["department"] = ""
    bt.find(data, "entra_users", id="u-carol")["department"] = "R&D (EU)"
    bt.find(data, "entra_users", id="u-erin")["department"] = ""        # not in scope: not reported
    bt.find(data, "entra_users", id="u-alice")["jobTitle"] = "x" * 257
    hits = bt.run(r.user_value_refused, data)
    assert set(hits) == {"user:alice@contoso.com", "user:bob@contoso.com", "user:carol@contoso.com"}
    assert hits["user:bob@contoso.com"].severity == "low"
    assert hits["user:carol@contoso.com"].severity == "medium" and "'&'" in hits["user:carol@contoso.com"].detail
    assert "257 characters" in hits["user:alice@contoso.com"].detail
    assert findings(data) == {"abac.user_value_refused": set(hits)}


def test_values_of_untested_keys_are_not_reported():
    data = rows(OWN_DEPARTMENT)  # Team is sent but no policy tests it
    bt.find(data, "entra_users", id="u-bob")["jobTitle"] = "a;b"
    assert bt.run(r.user_value_refused, data) == {}


def test_conditions_that_fail_open():
    negated = {"Sid": "NotContractors", "Effect": "Allow", "Action": "s3:*", "Resource": "*",
               "Condition": {"StringNotEquals": {"aws:PrincipalTag/Department": "contractors"}}}
    if_exists = {"Sid": "IfExists", "Effect": "Allow", "Action": "ec2:*", "Resource": "*",
                 "Condition": {"StringEqualsIfExists": {"aws:PrincipalTag/Team": "platform"}}}
    deny = {"Sid": "NoInterns", "Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/Team": "intern"}}}
    hit = bt.run(r.condition_fails_open, rows(negated, if_exists, deny))["permission_set:Developer"]
    assert [c["statement"] for c in hit.evidence["conditions"]] == ["NotContractors", "IfExists", "NoInterns"]
    assert findings(rows(negated)) == {"abac.condition_fails_open": {"permission_set:Developer"}}


def test_guarded_conditions_fail_closed():
    negated = {"Sid": "NotContractors", "Effect": "Allow", "Action": "s3:*", "Resource": "*",
               "Condition": {"StringNotEquals": {"aws:PrincipalTag/Department": "contractors"},
                             "Null": {"aws:PrincipalTag/Department": "false"}}}
    deny = {"Sid": "NoInterns", "Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/Team": "intern"}}}
    deny_absent = {"Sid": "NeedTeam", "Effect": "Deny", "Action": "*", "Resource": "*",
                   "Condition": {"Null": {"aws:PrincipalTag/Team": "true"}}}
    closed = {"Sid": "NotInterns", "Effect": "Deny", "Action": "*", "Resource": "*",
              "Condition": {"StringNotEquals": {"aws:PrincipalTag/Team": ["platform", "data"]}}}
    assert bt.run(r.condition_fails_open, rows(negated, deny, deny_absent, closed, PLATFORM)) == {}


def test_the_same_key_from_both_sides_with_different_sources():
    data = rows(claims=[_claim("Team", "user.jobtitle"), _claim("Department", "user.companyname")])
    hit = bt.run(r.key_from_both_sides, data)[bt.APP]
    assert hit.evidence["keys"] == [{"key": "Department", "claim_source": "user.companyname",
                                     "identity_center_source": "${path:enterprise.department}",
                                     "identity_center_entra_attribute": "department"}]
    assert findings(data) == {"abac.key_from_both_sides": {bt.APP}}
    same = rows(claims=[_claim("Team", "user.jobtitle"), _claim("Department", "user.department")])
    assert bt.run(r.key_from_both_sides, same) == {}


def test_not_checked_without_the_instance_configuration():
    tables = bt.tables(rows(), not_collected={"idc_abac_status": "AccessDeniedException: not authorized"})
    outcomes = {o.check_id: o for o in run_checks(tables, bt.settings(), ids=IDS).outcomes}
    assert outcomes["abac.tag_not_supplied"].status == "not_checked"
    assert "AccessDenied" in outcomes["abac.tag_not_supplied"].reason
    assert outcomes["abac.condition_fails_open"].status == "pass"  # reads only the policies
