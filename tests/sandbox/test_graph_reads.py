"""Reads through the real msgraph-sdk (typed models and raw adapter calls): the scenario comes back exactly, and
paging, $select, $filter, $count and $orderby behave as Graph does."""

from __future__ import annotations

import pytest
from support.graph_harness import GraphServer, raw, raw_all, run, scenario, world
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.audit_logs.sign_ins.sign_ins_request_builder import SignInsRequestBuilder
from msgraph.generated.groups.item.transitive_members.transitive_members_request_builder import (
    TransitiveMembersRequestBuilder,
)
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph_core.tasks.page_iterator import PageIterator

from idbridge.sandbox import derived

# msgraph-sdk's generated request builders warn about their own deprecated configuration classes.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

EVENTUAL = {"ConsistencyLevel": "eventual"}


@pytest.fixture(scope="module")
def server():
    srv = GraphServer(world())
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def big():
    """150 users, for paging (Graph's default page is 100)."""
    users = [{"upn": f"user{i:03d}@contoso.com", "display_name": f"User {i:03d}", "given_name": "U",
              "surname": f"{i:03d}", "mail": f"user{i:03d}@contoso.com"} for i in range(150)]
    srv = GraphServer(world(scenario(entra__users=users, entra__groups=[], entra__aws_app=None,
                                     entra__conditional_access=[], entra__sign_ins=[])))
    yield srv
    srv.close()


def _select(*names: str, top: int | None = None, filter: str | None = None, count: bool | None = None,
            headers: dict | None = None):
    params = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(select=list(names) or None, top=top,
                                                                       filter=filter, count=count)
    config = RequestConfiguration(query_parameters=params)
    for name, value in (headers or {}).items():
        config.headers.add(name, value)
    return config


def test_typed_users_read_back_exactly(server):
    async def main():
        client = server.client()
        page = await client.users.get(_select(
            "id", "userPrincipalName", "displayName", "givenName", "surname", "mail", "otherMails", "userType",
            "accountEnabled", "department", "jobTitle", "businessPhones", "mobilePhone", "employeeId", "city",
            "createdDateTime", "externalUserState", "signInActivity"))
        default = await client.users.get()
        return page, default

    page, default = run(main())
    users = {u.user_principal_name: u for u in page.value}
    assert len(users) == 4 and "olaf@contoso.com" not in users
    adele = users["adele@contoso.com"]
    assert (adele.display_name, adele.given_name, adele.surname, adele.mail) == \
           ("Adele Vance", "Adele", "Vance", "adele@contoso.com")
    assert adele.account_enabled is True and adele.department == "Finance" and adele.job_title == "CFO"
    assert adele.business_phones == ["+31 20 555 0100"] and adele.employee_id == "E100"
    assert adele.created_date_time.year == 2025
    assert adele.sign_in_activity.last_successful_sign_in_date_time.isoformat() == "2026-03-01T09:00:00+00:00"
    assert adele.sign_in_activity.last_non_interactive_sign_in_date_time is not None
    bob = users["bob@contoso.com"]
    assert bob.account_enabled is False and bob.other_mails == ["bob@gmail.com"]
    assert bob.id == "0b6e1a8e-36b5-4d52-9a3c-0a1d6b2e7f11"
    gina = users["gina_fabrikam.com#EXT#@contoso.onmicrosoft.com"]
    assert gina.user_type == "Guest" and gina.external_user_state == "Accepted"
    assert users["cara@contoso.com"].mail is None

    # Without $select, v1.0 returns Graph's default property set: no accountEnabled, no signInActivity.
    plain = {u.user_principal_name: u for u in default.value}
    assert plain["adele@contoso.com"].job_title == "CFO"
    assert plain["adele@contoso.com"].account_enabled is None
    assert plain["adele@contoso.com"].sign_in_activity is None


def test_user_by_id_and_upn_and_guest_upn(server):
    async def main():
        client = server.client()
        by_id = await client.users.by_user_id("0b6e1a8e-36b5-4d52-9a3c-0a1d6b2e7f11").get()
        by_upn = await client.users.by_user_id("gina_fabrikam.com#EXT#@contoso.onmicrosoft.com").get()
        adapter = server.adapter()
        odata_key = await raw(adapter, "/users(userPrincipalName='adele@contoso.com')?$select=id,mail")
        with pytest.raises(ODataError) as missing:
            await client.users.by_user_id("nobody@contoso.com").get()
        return by_id, by_upn, odata_key, missing.value

    by_id, by_upn, odata_key, missing = run(main())
    assert by_id.user_principal_name == "bob@contoso.com"
    assert by_upn.display_name == "Gina (Fabrikam)"
    assert odata_key["mail"] == "adele@contoso.com" and "@odata.context" in odata_key
    assert missing.response_status_code == 404 and missing.error.code == "Request_ResourceNotFound"


def test_groups_members_transitive_and_casts(server):
    store = server.world.graph
    admins = store.group_by_name("AWS-Admins")["id"]

    async def main():
        client = server.client()
        groups = await client.groups.get()
        direct = await client.groups.by_group_id(admins).members.get()
        config = RequestConfiguration(query_parameters=TransitiveMembersRequestBuilder.
                                      TransitiveMembersRequestBuilderGetQueryParameters(select=["id", "displayName"]))
        transitive = await client.groups.by_group_id(admins).transitive_members.get(config)
        users_only = await client.groups.by_group_id(admins).transitive_members.graph_user.get()
        adapter = server.adapter()
        cast = await raw(adapter, f"/groups/{admins}/members/microsoft.graph.group?$select=displayName")
        count = await raw(adapter, f"/groups/{admins}/transitiveMembers/$count", headers=EVENTUAL)
        return groups, direct, transitive, users_only, cast, count

    groups, direct, transitive, users_only, cast, count = run(main())
    by_name = {g.display_name: g for g in groups.value}
    assert set(by_name) == {"AWS-Admins", "AWS-Nested", "AWS-Deep", "Finance (dynamic)"}
    dynamic = by_name["Finance (dynamic)"]
    assert dynamic.group_types == ["DynamicMembership"] and dynamic.membership_rule_processing_state == "On"
    assert dynamic.mail_enabled is True and dynamic.security_enabled is False
    assert sorted(type(m).__name__ for m in direct.value) == ["Group", "User"]
    names = sorted(m.display_name for m in transitive.value)
    assert names == ["AWS-Deep", "AWS-Nested", "Adele Vance", "Bob Kelly", "Cara Diaz"]
    assert sorted(u.display_name for u in users_only.value) == ["Adele Vance", "Bob Kelly", "Cara Diaz"]
    assert [g["displayName"] for g in cast["value"]] == ["AWS-Nested"]
    assert count == 5


def test_apps_templates_assignments_and_sync_typed(server):
    sp_id = server.world.graph.aws_sp_id

    async def main():
        client = server.client()
        sps = await client.service_principals.get()
        sp = await client.service_principals.by_service_principal_id(sp_id).get()
        apps = await client.applications.get()
        adapter = server.adapter()
        templates = await raw(adapter, "/applicationTemplates?$filter=displayName eq "
                                        f"'{derived.AWS_GALLERY_TEMPLATE_NAME}'")
        assigned = await client.service_principals.by_service_principal_id(sp_id).app_role_assigned_to.get()
        jobs = await client.service_principals.by_service_principal_id(sp_id).synchronization.jobs.get()
        sync_templates = await client.service_principals.by_service_principal_id(sp_id).synchronization \
            .templates.get()
        job_id = jobs.value[0].id
        schema = await client.service_principals.by_service_principal_id(sp_id).synchronization.jobs \
            .by_synchronization_job_id(job_id).schema.get()
        keys = await raw(adapter, f"/servicePrincipals/{sp_id}?$select=keyCredentials,preferredTokenSigningKeyThumbprint")
        return sps, sp, apps, templates, assigned, jobs, sync_templates, schema, keys

    sps, sp, apps, templates, assigned, jobs, sync_templates, schema, keys = run(main())
    assert len(sps.value) == 1 and sp.app_role_assignment_required is True
    assert sp.preferred_single_sign_on_mode == "saml" and len(sp.key_credentials) == 4
    assert sp.key_credentials[0].custom_key_identifier == bytes.fromhex(sp.preferred_token_signing_key_thumbprint)
    assert sp.key_credentials[1].key is None  # keys only on $select of a single object
    assert all(k["key"] for k in keys["keyCredentials"] if k["usage"] == "Verify")
    assert apps.value[0].web.redirect_uris == sp.reply_urls and len(sp.reply_urls) == 2
    assert [t["id"] for t in templates["value"]] == [derived.AWS_GALLERY_TEMPLATE_ID]
    assert sorted(a.principal_type for a in assigned.value) == ["Group", "User"]
    job = jobs.value[0]
    assert job.template_id == derived.AWS_SYNC_TEMPLATE_ID and job.status.code.value == "Active"
    assert job.schedule.interval.total_seconds() == 40 * 60
    assert job.status.steady_state_first_achieved_time.year > 1
    assert sync_templates.value[0].id == derived.AWS_SYNC_TEMPLATE_ID
    user_mapping = schema.synchronization_rules[0].object_mappings[0]
    assert "userName" in {m.target_attribute_name for m in user_mapping.attribute_mappings}


def test_reports_and_policies_typed(server):
    async def main():
        client = server.client()
        config = RequestConfiguration(query_parameters=SignInsRequestBuilder.SignInsRequestBuilderGetQueryParameters(
            filter="status/errorCode ne 0"))
        failed = await client.audit_logs.sign_ins.get(config)
        every = await client.audit_logs.sign_ins.get()
        registration = await client.reports.authentication_methods.user_registration_details.get()
        policies = await client.identity.conditional_access.policies.get()
        org = await client.organization.get()
        deleted = await client.directory.deleted_items.graph_user.get()
        return failed, every, registration, policies, org, deleted

    failed, every, registration, policies, org, deleted = run(main())
    assert [s.user_principal_name for s in failed.value] == ["bob@contoso.com"]
    assert failed.value[0].status.error_code == 50057
    times = [s.created_date_time for s in every.value]
    assert times == sorted(times, reverse=True)  # newest first, as Graph lists sign-ins
    assert len(registration.value) == 4
    assert {r.user_principal_name: r.is_mfa_registered for r in registration.value}["bob@contoso.com"] is False
    mfa = next(p for p in policies.value if p.display_name == "Require MFA for AWS")
    assert mfa.grant_controls.built_in_controls[0].value == "mfa"
    assert mfa.conditions.applications.include_applications == [every.value[0].app_id]
    assert org.value[0].id == server.tenant and org.value[0].display_name == "Contoso"
    assert [u.user_principal_name for u in deleted.value] == ["olaf@contoso.com"]


def test_paging_with_next_link(big):
    async def main():
        adapter = big.adapter()
        first = await raw(adapter, "/users?$select=userPrincipalName")
        everything = await raw_all(adapter, "/users?$select=userPrincipalName&$top=49")
        client = big.client()
        typed = await client.users.get(_select("userPrincipalName", top=60))
        seen: list[str] = []
        iterator = PageIterator(typed, client.request_adapter)
        await iterator.iterate(lambda user: seen.append(user.user_principal_name) or True)
        with pytest.raises(ODataError) as too_big:
            await raw(adapter, "/users?$top=1000")
        return first, everything, seen, too_big.value

    first, everything, seen, too_big = run(main())
    assert len(first["value"]) == 100 and "$skiptoken=" in first["@odata.nextLink"]
    assert first["@odata.nextLink"].startswith(big.root())
    assert len(everything) == 150 and len({u["userPrincipalName"] for u in everything}) == 150
    assert len(seen) == 150 and len(set(seen)) == 150
    assert too_big.response_status_code == 400


def test_select(server):
    async def main():
        adapter = server.adapter()
        picked = await raw(adapter, "/users?$select=displayName,accountEnabled")
        with pytest.raises(ODataError) as unknown:
            await raw(adapter, "/users?$select=displayName,favouriteColour")
        return picked, unknown.value

    picked, unknown = run(main())
    assert all(set(u) == {"displayName", "accountEnabled"} for u in picked["value"])
    assert picked["@odata.context"].endswith("$metadata#users(displayName,accountEnabled)")
    assert unknown.response_status_code == 400
    assert "favouriteColour" in unknown.error.message


@pytest.mark.parametrize("filter_, headers, expected", [
    ("userPrincipalName eq 'ADELE@contoso.com'", None, {"adele@contoso.com"}),
    ("startswith(displayName,'b')", None, {"bob@contoso.com"}),
    ("userType in ('Guest')", None, {"gina_fabrikam.com#EXT#@contoso.onmicrosoft.com"}),
    ("accountEnabled eq false", None, {"bob@contoso.com"}),
    ("otherMails/any(x:x eq 'bob@gmail.com')", None, {"bob@contoso.com"}),
    ("assignedLicenses/any(x:x/skuId eq 06ebc4ee-1bb5-47dd-8120-11324bc54e06) and department eq 'Finance'", None,
     {"adele@contoso.com"}),
    ("createdDateTime ge 2025-11-01T00:00:00Z and createdDateTime le 2026-01-01T00:00:00Z", None,
     {"bob@contoso.com"}),
    ("createdDateTime gt 2026-02-01T00:00:00Z or createdDateTime lt 2025-01-01T00:00:00Z", None,
     {"cara@contoso.com"}),
    ("signInActivity/lastSignInDateTime ge 2026-03-01T09:30:00Z", None,
     {"bob@contoso.com", "gina_fabrikam.com#EXT#@contoso.onmicrosoft.com"}),
    # never: Graph writes 0001-01-01T00:00:00Z, not null
    ("signInActivity/lastSuccessfulSignInDateTime le 2000-01-01T00:00:00Z", EVENTUAL,
     {"bob@contoso.com", "cara@contoso.com"}),
    ("userType ne 'Member'", EVENTUAL, {"gina_fabrikam.com#EXT#@contoso.onmicrosoft.com"}),
    ("mail eq null", EVENTUAL, {"cara@contoso.com"}),
    ("not(startswith(displayName,'A')) and userType eq 'Member'", EVENTUAL,
     {"bob@contoso.com", "cara@contoso.com"}),
    ("endswith(mail,'@fabrikam.com')", EVENTUAL, {"gina_fabrikam.com#EXT#@contoso.onmicrosoft.com"}),
    ("id eq 0b6e1a8e-36b5-4d52-9a3c-0a1d6b2e7f11", None, {"bob@contoso.com"}),
])
def test_filter_operators(server, filter_, headers, expected):
    count = "&$count=true" if headers else ""
    page = run(raw(server.adapter(), f"/users?$select=userPrincipalName&$filter={filter_}{count}", headers=headers))
    assert {u["userPrincipalName"] for u in page["value"]} == expected


def test_filter_errors_and_advanced_query_rule(server):
    async def main():
        adapter = server.adapter()
        outcomes = {}
        for name, url in {
            "advanced_without_header": "/users?$filter=userType ne 'Member'",
            "unknown_property": "/users?$filter=shoeSize eq 42",
            "syntax": "/users?$filter=displayName eq",
            "unsupported_function": "/users?$filter=contains(displayName,'a')",
        }.items():
            with pytest.raises(ODataError) as caught:
                await raw(adapter, url)
            outcomes[name] = (caught.value.response_status_code, caught.value.error.code)
        return outcomes

    outcomes = run(main())
    assert outcomes["advanced_without_header"] == (400, "Request_UnsupportedQuery")
    assert outcomes["unknown_property"] == (400, "BadRequest")
    assert outcomes["syntax"] == (400, "BadRequest")
    assert outcomes["unsupported_function"] == (400, "Request_UnsupportedQuery")


def test_filters_on_reports_and_nested_properties(server):
    sp_id = server.world.graph.aws_sp_id
    app_id = server.world.graph.service_principals[sp_id]["appId"]

    async def main():
        adapter = server.adapter()
        by_app = await raw(adapter, f"/auditLogs/signIns?$filter=appId eq '{app_id}' and createdDateTime ge "
                                    "2026-03-01T09:30:00Z")
        templates = await raw(adapter, "/applicationTemplates?$filter=startswith(displayName,'AWS')")
        assignments = await raw(adapter, f"/servicePrincipals/{sp_id}/appRoleAssignedTo?$filter=principalType eq "
                                         "'Group'")
        return by_app, templates, assignments

    by_app, templates, assignments = run(main())
    assert sorted(s["userPrincipalName"] for s in by_app["value"]) == [
        "bob@contoso.com", "gina_fabrikam.com#EXT#@contoso.onmicrosoft.com"]
    assert sorted(t["displayName"] for t in templates["value"]) == ["AWS ClientVPN", derived.AWS_GALLERY_TEMPLATE_NAME]
    assert [a["principalDisplayName"] for a in assignments["value"]] == ["AWS-Admins"]


def test_count_needs_consistency_level(server):
    async def main():
        client = server.client()
        adapter = server.adapter()
        with_header = await client.users.count.get(_count_config())
        inline = await raw(adapter, "/users?$count=true&$top=1&$select=id", headers=EVENTUAL)
        errors = {}
        for url in ("/users/$count", "/users?$count=true"):
            with pytest.raises(ODataError) as caught:
                await raw(adapter, url)
            errors[url] = (caught.value.response_status_code, caught.value.error.code, caught.value.error.message)
        filtered = await raw(adapter, "/users/$count?$filter=accountEnabled eq true", headers=EVENTUAL)
        return with_header, inline, errors, filtered

    with_header, inline, errors, filtered = run(main())
    assert with_header == 4
    assert inline["@odata.count"] == 4 and len(inline["value"]) == 1
    status, code, message = errors["/users/$count"]
    assert (status, code) == (400, "Request_UnsupportedQuery") and "ConsistencyLevel:eventual" in message
    assert errors["/users?$count=true"][:2] == (400, "Request_BadRequest")
    assert filtered == 3


def _count_config():
    config = RequestConfiguration()
    config.headers.add("ConsistencyLevel", "eventual")
    return config


def test_orderby(server):
    async def main():
        adapter = server.adapter()
        up = await raw(adapter, "/users?$select=displayName&$orderby=displayName")
        down = await raw(adapter, "/users?$select=createdDateTime&$orderby=createdDateTime desc")
        return up, down

    up, down = run(main())
    names = [u["displayName"] for u in up["value"]]
    assert names == sorted(names, key=str.casefold)
    created = [u["createdDateTime"] for u in down["value"]]
    assert created == sorted(created, reverse=True)


def test_beta_serves_the_same_store(server):
    async def main():
        adapter = server.adapter("beta")
        users = await raw(adapter, "/users")
        policy = await raw(adapter, f"/servicePrincipals/{server.world.graph.aws_sp_id}/claimsPolicy")
        with pytest.raises(ODataError) as v1:
            await raw(server.adapter(), f"/servicePrincipals/{server.world.graph.aws_sp_id}/claimsPolicy")
        return users, policy, v1.value

    users, policy, v1 = run(main())
    assert "accountEnabled" in users["value"][0]  # beta returns the full property set
    assert policy["claims"][0]["nameIdFormat"] == "emailAddress"
    assert v1.response_status_code == 400 and "claimsPolicy" in v1.error.message
