"""Contract tests for Conditional Access: a live Graph answer (tests/contract/fixtures/graph) run through the
collector's frame builder, the MFA model and access.no_ca_mfa; and the sandbox's answer compared in shape."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import pandas as pd

import idbridge.checks.rules.access  # noqa: F401  (registers the access units)
from idbridge.checks.runner import MemoryTables, run_checks
from idbridge.checks.settings import CheckSettings
from idbridge.collect.entra.collectors import CA_SELECT, ca_policies_frame
from idbridge.core.parameters import ChecksParams
from idbridge.model.access.ca import assess_policies, coverage
from tests.support import graph_harness as gh
from tests.support.contract import load_fixture, shape_differences

LIVE = "conditionalaccess_policies_list_live"
AWS_APP_ID = "17cad0e7-cd2b-4e51-a75d-ba810f3e4045"
NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


def live_policies() -> list[dict]:
    return copy.deepcopy(load_fixture(LIVE)["response"]["value"])


def by_name(assessed: list[dict]) -> dict[str, dict]:
    return {p["displayName"]: p for p in assessed}


def test_live_policies_read_as_a_person_would():
    assessed = by_name(assess_policies(ca_policies_frame(live_policies()), AWS_APP_ID))
    assert assessed["Block legacy authentication"]["why"] == "does not require MFA"
    # grantControls null (session controls only): no grant at all.
    assert assessed["Reduced reauth frequency at home"]["why"] == "does not require MFA"
    # MFA through an authentication strength (builtInControls empty): MFA is required, for admin portals only.
    portals = assessed["Require multifactor authentication for Microsoft admin portals"]
    assert portals["why"] == "does not apply to the AWS app"
    assert assessed["Require multifactor authentication for all users"]["counts"]
    # Role-targeted, includeUsers []: it includes the holders of 14 roles, not nobody.
    admins = assessed["Require multifactor authentication for admins"]
    assert admins["counts"] and "includes nobody" not in admins["why"]
    assert "14 directory role(s): not resolved" in admins["why"]
    # Role membership is not collected: whether a given user is reached is unknown, never "not included".
    assert coverage(admins, "u1", set(), set(), guest=False) == "unknown"


def test_authentication_strength_counts_as_mfa_for_the_aws_app():
    policies = live_policies()
    portals = next(p for p in policies if p["displayName"].endswith("Microsoft admin portals"))
    portals["conditions"]["applications"]["includeApplications"] = [AWS_APP_ID]
    table = ca_policies_frame([portals])
    assert table.loc[0, "authenticationStrengthRequirements"] == "mfa"
    assert list(table.loc[0, "builtInControls"]) == []
    [assessed] = assess_policies(table, AWS_APP_ID)
    assert assessed["counts"], assessed["why"]
    sp = pd.DataFrame([{"id": "sp1", "appId": AWS_APP_ID}])
    results = run_checks(MemoryTables({"entra_ca_policies": table, "entra_service_principal": sp}),
                         CheckSettings(now=NOW, checks=ChecksParams()), ids=["access.no_ca_mfa"])
    assert [o.status for o in results.outcomes] == ["pass"], [f.detail for f in results.findings]


def test_a_strength_that_does_not_satisfy_mfa_does_not_count():
    policies = live_policies()
    portals = next(p for p in policies if p["displayName"].endswith("Microsoft admin portals"))
    portals["conditions"]["applications"]["includeApplications"] = ["All"]
    portals["grantControls"]["authenticationStrength"]["requirementsSatisfied"] = "none"
    [assessed] = assess_policies(ca_policies_frame([portals]), AWS_APP_ID)
    assert not assessed["counts"] and "satisfies none, not MFA" in assessed["why"]


SANDBOX_POLICIES = [
    {"display_name": "MFA strength for AWS", "include_users": ["All"], "grant_controls": [],
     "authentication_strength": "mfa"},
    {"display_name": "MFA for admins", "include_applications": ["All"],
     "include_roles": ["62e90394-69f5-4237-9190-012177145e10"], "exclude_roles": []},
    {"display_name": "Sign-in frequency", "include_applications": ["All"], "include_users": ["All"],
     "grant_controls": []},
]


def test_sandbox_policies_have_the_live_shape_and_read_the_same():
    server = gh.GraphServer(gh.world(gh.scenario(entra__conditional_access=SANDBOX_POLICIES)))
    try:
        page = gh.run(gh.raw(server.adapter(), f"/identity/conditionalAccess/policies?$select={CA_SELECT}"))
        aws_app_id = server.world.graph.service_principals[server.world.graph.aws_sp_id]["appId"]
    finally:
        server.close()
    served = {p["displayName"]: p for p in page["value"]}
    live = {p["displayName"]: p for p in live_policies()}
    selected = {"id", "displayName", "state", "conditions", "grantControls"}

    def documented(name: str) -> dict:
        return {k: v for k, v in live[name].items() if k in selected}

    nullable = frozenset({"locations", "sessionControls"})
    # A policy granting through an authentication strength, one targeting roles, one without grant controls.
    assert shape_differences(documented("Require multifactor authentication for Microsoft admin portals"),
                             served["MFA strength for AWS"], nullable=nullable) == []
    assert shape_differences(documented("Require multifactor authentication for admins"),
                             served["MFA for admins"], nullable=nullable) == []
    assert shape_differences(documented("Reduced reauth frequency at home"), served["Sign-in frequency"],
                             nullable=nullable) == []
    assert served["Sign-in frequency"]["grantControls"] is None
    strength = served["MFA strength for AWS"]["grantControls"]["authenticationStrength"]
    assert strength["requirementsSatisfied"] == "mfa" and strength["policyType"] == "builtIn"  # enum case
    assert served["MFA for admins"]["conditions"]["users"]["includeUsers"] == []

    assessed = by_name(assess_policies(ca_policies_frame(page["value"]), aws_app_id))
    assert assessed["MFA strength for AWS"]["counts"]
    assert assessed["MFA for admins"]["counts"] and "not resolved" in assessed["MFA for admins"]["why"]
    assert assessed["Sign-in frequency"]["why"] == "does not require MFA"


def test_sandbox_custom_strengths_have_the_live_shape_and_say_whether_they_satisfy_mfa():
    """authentication_strength as a custom strength: policyType custom; requirementsSatisfied "none" when a
    combination is one factor (a password alone), "mfa" when every combination is multifactor."""
    weak = {"display_name": "Password or SMS", "allowed_combinations": ["password", "password,sms"]}
    strong = {"display_name": "Key or app", "allowed_combinations": ["fido2", "password,microsoftAuthenticatorPush"]}
    policies = [{"display_name": "Weak strength", "include_users": ["All"], "grant_controls": [],
                 "authentication_strength": weak},
                {"display_name": "Strong strength", "include_users": ["All"], "grant_controls": [],
                 "authentication_strength": strong}]
    server = gh.GraphServer(gh.world(gh.scenario(entra__conditional_access=policies)))
    try:
        page = gh.run(gh.raw(server.adapter(), f"/identity/conditionalAccess/policies?$select={CA_SELECT}"))
        aws_app_id = server.world.graph.service_principals[server.world.graph.aws_sp_id]["appId"]
    finally:
        server.close()
    served = {p["displayName"]: p for p in page["value"]}
    live = next(p for p in live_policies() if p["displayName"].endswith("Microsoft admin portals"))
    documented = live["grantControls"]["authenticationStrength"]
    for name in ("Weak strength", "Strong strength"):
        strength = served[name]["grantControls"]["authenticationStrength"]
        assert shape_differences(documented, strength, nullable=frozenset({"description"})) == [], name
        assert strength["policyType"] == "custom" and served[name]["grantControls"]["builtInControls"] == []
    assert served["Weak strength"]["grantControls"]["authenticationStrength"]["requirementsSatisfied"] == "none"
    assert served["Strong strength"]["grantControls"]["authenticationStrength"]["requirementsSatisfied"] == "mfa"
    assessed = by_name(assess_policies(ca_policies_frame(page["value"]), aws_app_id))
    assert not assessed["Weak strength"]["counts"] and "satisfies none, not MFA" in assessed["Weak strength"]["why"]
    assert assessed["Strong strength"]["counts"]


def test_a_custom_strength_names_only_authentication_method_modes():
    import pytest

    from idbridge.sandbox.scenario import CaPolicy

    with pytest.raises(ValueError, match="'password,pin': pin is not an authentication method mode"):
        CaPolicy.model_validate({"display_name": "x", "authentication_strength": {
            "display_name": "x", "allowed_combinations": ["password,pin"]}})
