"""What differs between Graph versions and what an endpoint refuses, checked against Microsoft's Graph reference
(microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0 and api-reference/beta):

- signIn: authenticationRequirement is beta only; riskEventTypes is v1.0 only; the list refuses $select.
- provisioningObjectSummary: action / statusInfo (deprecated) are beta only; $filter takes eq, contains, gt, lt.
- userRegistrationDetails: defaultMfaMethod is beta only; the list takes only $filter and $orderby.
- /users with signInActivity: at most 120 users a page, a larger $top is capped rather than refused.
"""

from __future__ import annotations

import pytest
from support.graph_harness import GraphServer, raw, raw_all, run, scenario, world
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

NOT_ALLOWED = "is not allowed. To allow it, set the 'AllowedQueryOptions' property"


def _log(number: int, at: str, action: str, sp_id: str, job_id: str, status: str = "success") -> dict:
    """A provisioningObjectSummary as the sandbox's provisioning engine stores it (both versions' names)."""
    return {
        "id": f"00000000-0000-0000-0000-{number:012d}", "activityDateTime": at,
        "tenantId": "8a1f0c3e-5b7d-4e2a-9c61-2f4d8e7b1a90", "jobId": job_id, "cycleId": "c1", "changeId": f"ch{number}",
        "action": action.capitalize(), "provisioningAction": action, "durationInMilliseconds": 100,
        "initiatedBy": {"id": "", "displayName": "Azure AD Provisioning Service", "initiatorType": "system"},
        "servicePrincipal": {"id": sp_id, "displayName": "AWS IAM Identity Center"},
        "sourceSystem": {"id": "s", "displayName": "Azure Active Directory", "details": {}},
        "targetSystem": {"id": "t", "displayName": "AWS IAM Identity Center", "details": {}},
        "sourceIdentity": {"id": f"u{number}", "displayName": f"User {number}", "identityType": "User",
                           "details": {}},
        "targetIdentity": {"id": "", "displayName": "", "identityType": "urn:ietf:params:scim:schemas:core:2.0:User",
                           "details": {}},
        "provisioningStatusInfo": {"status": status, "errorInformation": None},
        "provisioningSteps": [], "modifiedProperties": [],
    }


@pytest.fixture(scope="module")
def server():
    w = world()
    sp_id = w.graph.aws_sp_id
    (job_id,) = w.graph.sync_jobs[sp_id]
    w.graph.provisioning_logs += [
        _log(1, "2026-03-01T10:00:00Z", "create", sp_id, job_id),
        _log(2, "2026-03-01T11:00:00Z", "update", sp_id, job_id),
        _log(3, "2026-03-01T11:30:00Z", "disable", sp_id, job_id, status="failure"),
    ]
    srv = GraphServer(w)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def big():
    """150 users, for the signInActivity page cap."""
    users = [{"upn": f"user{i:03d}@contoso.com", "display_name": f"User {i:03d}", "given_name": "U",
              "surname": f"{i:03d}", "mail": f"user{i:03d}@contoso.com", "last_sign_in": "now-1d"}
             for i in range(150)]
    srv = GraphServer(world(scenario(entra__users=users, entra__groups=[], entra__aws_app=None,
                                     entra__conditional_access=[], entra__sign_ins=[])))
    yield srv
    srv.close()


async def _error(coro) -> ODataError:
    with pytest.raises(ODataError) as caught:
        await coro
    return caught.value


# ------------------------------------------------------------------------------------------------ sign-ins


def test_sign_in_properties_per_version(server):
    async def main():
        v1, beta = server.adapter(), server.adapter("beta")
        v1_list = await raw(v1, "/auditLogs/signIns")
        beta_list = await raw(beta, "/auditLogs/signIns")
        one = v1_list["value"][0]["id"]
        v1_one = await raw(v1, f"/auditLogs/signIns/{one}")
        beta_pick = await raw(beta, f"/auditLogs/signIns/{one}?$select=id,authenticationRequirement")
        v1_pick = await _error(raw(v1, f"/auditLogs/signIns/{one}?$select=id,authenticationRequirement"))
        v1_filter = await _error(raw(v1, "/auditLogs/signIns?$filter=authenticationRequirement eq "
                                         "'multiFactorAuthentication'"))
        beta_filter = await raw(beta, "/auditLogs/signIns?$filter=authenticationRequirement eq "
                                      "'singleFactorAuthentication'")
        return v1_list, beta_list, v1_one, beta_pick, v1_pick, v1_filter, beta_filter

    v1_list, beta_list, v1_one, beta_pick, v1_pick, v1_filter, beta_filter = run(main())
    assert len(v1_list["value"]) == len(beta_list["value"]) == 3
    assert all("authenticationRequirement" not in s and s["riskEventTypes"] == [] for s in v1_list["value"])
    assert "authenticationRequirement" not in v1_one
    assert all(s["authenticationRequirement"] in ("multiFactorAuthentication", "singleFactorAuthentication")
               and "riskEventTypes" not in s and s["riskEventTypes_v2"] == [] for s in beta_list["value"])
    assert set(beta_pick) - {"@odata.context"} == {"id", "authenticationRequirement"}
    for error in (v1_pick, v1_filter):  # an unknown property in v1.0, like any other
        assert (error.response_status_code, error.error.code) == (400, "BadRequest")
        assert "Could not find a property named 'authenticationRequirement'" in error.error.message
    assert [s["userPrincipalName"] for s in beta_filter["value"]] == ["bob@contoso.com"]


def test_sign_in_list_refuses_select_but_takes_its_documented_options(server):
    async def main():
        outcomes = {}
        for version in ("v1.0", "beta"):
            adapter = server.adapter(version)
            outcomes[version] = await _error(raw(adapter, "/auditLogs/signIns?$select=id,createdDateTime"))
        adapter = server.adapter()
        paged = await raw_all(adapter, "/auditLogs/signIns?$top=1&$filter=createdDateTime ge 2026-03-01T00:00:00Z")
        ordered = await raw(adapter, "/auditLogs/signIns?$orderby=createdDateTime")
        return outcomes, paged, ordered

    outcomes, paged, ordered = run(main())
    for error in outcomes.values():
        assert (error.response_status_code, error.error.code) == (400, "BadRequest")
        assert error.error.message.startswith("Query option 'Select' " + NOT_ALLOWED)
    assert len(paged) == 3  # $top and $skiptoken (in the nextLink) are fine
    times = [s["createdDateTime"] for s in ordered["value"]]
    assert times == sorted(times)


# ------------------------------------------------------------------------------------------------ provisioning


def test_provisioning_log_properties_per_version(server):
    async def main():
        v1, beta = server.adapter(), server.adapter("beta")
        v1_all = await raw(v1, "/auditLogs/provisioning")
        beta_all = await raw(beta, "/auditLogs/provisioning")
        beta_pick = await raw(beta, "/auditLogs/provisioning?$select=id,action,statusInfo,provisioningAction")
        v1_pick = await _error(raw(v1, "/auditLogs/provisioning?$select=id,action"))
        v1_filter = await _error(raw(v1, "/auditLogs/provisioning?$filter=action eq 'Create'"))
        beta_filter = await raw(beta, "/auditLogs/provisioning?$filter=action eq 'Create'")
        return v1_all, beta_all, beta_pick, v1_pick, v1_filter, beta_filter

    v1_all, beta_all, beta_pick, v1_pick, v1_filter, beta_filter = run(main())
    assert [e["provisioningAction"] for e in v1_all["value"]] == ["disable", "update", "create"]  # newest first
    assert all("action" not in e and "statusInfo" not in e for e in v1_all["value"])
    assert [e["action"] for e in beta_all["value"]] == ["Disable", "Update", "Create"]
    assert all(e["statusInfo"] is None for e in beta_pick["value"])  # statusBase stopped returning data
    for error in (v1_pick, v1_filter):
        assert (error.response_status_code, error.error.code) == (400, "BadRequest")
        assert "Could not find a property named 'action'" in error.error.message
    assert [e["provisioningAction"] for e in beta_filter["value"]] == ["create"]


@pytest.mark.parametrize("filter_, expected", [
    ("activityDateTime gt 2026-03-01T10:00:00Z", ["disable", "update"]),
    ("activityDateTime lt 2026-03-01T11:00:00Z", ["create"]),
    ("activityDateTime eq 2026-03-01T11:00:00Z", ["update"]),
    ("provisioningStatusInfo/status eq 'failure'", ["disable"]),
    ("contains(sourceIdentity/displayName,'User 2')", ["update"]),
    ("activityDateTime gt 2026-03-01T09:00:00Z and provisioningAction eq 'create'", ["create"]),
    ("activityDateTime ge 2026-03-01T10:00:00Z", None),  # ge / le are not among the documented operators
    ("activityDateTime le 2026-03-01T10:00:00Z", None),
    ("provisioningAction ne 'create'", None),
    ("startswith(jobId,'aWS')", None),
])
def test_provisioning_log_filter_operators(server, filter_, expected):
    async def main():
        url = f"/auditLogs/provisioning?$filter={filter_}"
        if expected is None:
            return await _error(raw(server.adapter(), url))
        return await raw(server.adapter(), url)

    answer = run(main())
    if expected is None:
        assert (answer.response_status_code, answer.error.code, answer.error.message) == \
               (400, "BadRequest", "Invalid filter clause")
    else:
        assert [e["provisioningAction"] for e in answer["value"]] == expected


def test_contains_stays_refused_where_it_is_not_documented(server):
    error = run(_error(raw(server.adapter(), "/users?$filter=contains(displayName,'a')")))
    assert (error.response_status_code, error.error.code) == (400, "Request_UnsupportedQuery")


# ------------------------------------------------------------------------------------------------ MFA registration


def test_registration_details_properties_per_version(server):
    async def main():
        v1, beta = server.adapter(), server.adapter("beta")
        v1_all = await raw(v1, "/reports/authenticationMethods/userRegistrationDetails")
        beta_all = await raw(beta, "/reports/authenticationMethods/userRegistrationDetails")
        v1_filter = await _error(raw(v1, "/reports/authenticationMethods/userRegistrationDetails?$filter="
                                         "defaultMfaMethod eq 'none'"))
        beta_filter = await raw(beta, "/reports/authenticationMethods/userRegistrationDetails?$filter="
                                      "defaultMfaMethod eq 'microsoftAuthenticatorPush'")
        return v1_all, beta_all, v1_filter, beta_filter

    v1_all, beta_all, v1_filter, beta_filter = run(main())
    v1_adele = next(r for r in v1_all["value"] if r["userPrincipalName"] == "adele@contoso.com")
    assert "defaultMfaMethod" not in v1_adele
    assert v1_adele["userPreferredMethodForSecondaryAuthentication"] == "push"
    assert v1_adele["systemPreferredAuthenticationMethods"] == ["push"]
    assert v1_adele["methodsRegistered"] == ["microsoftAuthenticatorPush"] and v1_adele["isMfaRegistered"] is True
    beta_by_upn = {r["userPrincipalName"]: r for r in beta_all["value"]}
    assert beta_by_upn["adele@contoso.com"]["defaultMfaMethod"] == "microsoftAuthenticatorPush"
    assert beta_by_upn["bob@contoso.com"]["defaultMfaMethod"] == "none"
    assert (v1_filter.response_status_code, v1_filter.error.code) == (400, "BadRequest")
    assert "defaultMfaMethod" in v1_filter.error.message
    assert "adele@contoso.com" in {r["userPrincipalName"] for r in beta_filter["value"]}


def test_registration_details_take_only_filter_and_orderby(server):
    base = "/reports/authenticationMethods/userRegistrationDetails"

    async def main():
        adapter = server.adapter()
        refused = {}
        for query in ("$top=10", "$select=id,userPrincipalName", "$count=true"):
            refused[query] = await _error(raw(adapter, f"{base}?{query}"))
        filtered = await raw(adapter, f"{base}?$filter=isMfaRegistered eq false&$orderby=userPrincipalName")
        one_id = filtered["value"][0]["id"]
        single = await raw(adapter, f"{base}/{one_id}")
        single_select = await _error(raw(adapter, f"{base}/{one_id}?$select=id"))
        return refused, filtered, single, single_select

    refused, filtered, single, single_select = run(main())
    names = {"$top=10": "Top", "$select=id,userPrincipalName": "Select", "$count=true": "Count"}
    for query, error in refused.items():
        assert (error.response_status_code, error.error.code) == (400, "BadRequest")
        assert error.error.message.startswith(f"Query option '{names[query]}' {NOT_ALLOWED}")
    upns = [r["userPrincipalName"] for r in filtered["value"]]
    assert upns == sorted(upns, key=str.casefold) and "bob@contoso.com" in upns
    assert single["id"] == filtered["value"][0]["id"]
    assert single_select.response_status_code == 400 and "'Select'" in single_select.error.message


# ------------------------------------------------------------------------------------------------ /users


def test_sign_in_activity_pages_hold_at_most_120_users(big):
    async def main():
        adapter = big.adapter()
        capped = await raw(adapter, "/users?$select=id,signInActivity&$top=500")
        everything = await raw_all(adapter, "/users?$select=id,signInActivity&$top=500")
        small = await raw(adapter, "/users?$select=id,signInActivity&$top=50")
        default = await raw(adapter, "/users?$select=id,signInActivity")
        filtered = await raw(adapter, "/users?$select=id&$top=999&$filter=signInActivity/lastSignInDateTime ge "
                                      "2026-01-01T00:00:00Z")
        without = await raw(adapter, "/users?$select=id&$top=500")
        too_big = await _error(raw(adapter, "/users?$select=id,signInActivity&$top=1000"))
        return capped, everything, small, default, filtered, without, too_big

    capped, everything, small, default, filtered, without, too_big = run(main())
    assert len(capped["value"]) == 120 and "@odata.nextLink" in capped
    assert len(everything) == 150 and len({u["id"] for u in everything}) == 150
    assert all(u["signInActivity"]["lastSignInDateTime"] for u in everything)
    assert len(small["value"]) == 50
    assert len(default["value"]) == 100  # the default page (100) is already under the cap
    assert len(filtered["value"]) == 120  # $filter on signInActivity counts too
    assert len(without["value"]) == 150 and "@odata.nextLink" not in without
    assert too_big.response_status_code == 400  # above /users' own maximum (999), as without signInActivity
