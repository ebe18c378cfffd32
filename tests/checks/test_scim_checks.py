"""SCIM pitfall checks on small tables, and their agreement with the rules the sandbox's SCIM endpoint enforces
(scim_rules.py mirrors AWS's documented CreateUser constraints): what the checks predict is what gets refused."""

from __future__ import annotations

import pytest

from support import bridge_tables as bt
from idbridge.checks import load_all
from idbridge.checks.rules import scim as s
from idbridge.checks.runner import run_checks

load_all()

MOBILE = {"jobId": bt.JOB, "objectMapping": "Provision Microsoft Entra ID Users", "sourceObjectName": "User",
          "targetObjectName": "User", "targetAttributeName": 'phoneNumbers[type eq "mobile"].value',
          "sourceExpression": "[mobile]", "mappingType": "Attribute", "matchingPriority": 0}


def no_nesting(data: dict) -> dict:
    data["entra_group_members"] = [m for m in data["entra_group_members"] if m["memberId"] != "u-dave"]
    return data


def test_a_clean_tenant_passes_every_scim_check():
    results = run_checks(bt.tables(no_nesting(bt.rows())), bt.settings(), areas=["scim"])
    assert results.findings == [] and {o.status for o in results.outcomes} == {"pass"}


# --------------------------------------------------------------------------------------------- scope traps


def test_nested_group_only():
    hit = bt.run(s.nested_group_only)["user:dave@contoso.com"]
    assert hit.evidence == {"assignedGroups": ["AWS-Devs"], "nestedGroupsInThem": ["Nested"]}
    assert bt.run(s.nested_group_only, no_nesting(bt.rows())) == {}


def test_nested_group_only_leaves_out_disabled_users():
    data = bt.rows()
    bt.find(data, "entra_users", id="u-dave")["accountEnabled"] = False
    assert bt.run(s.nested_group_only, data) == {}


def guest_rows(guest_source=None, source="user.userprincipalname") -> dict:
    data = bt.rows()
    data["entra_users"].append(bt._user("jo", userPrincipalName="jo_partner.com#EXT#@contoso.onmicrosoft.com",
                                        userType="Guest", mail="jo@partner.com"))
    data["entra_users"].append(bt._user("kim", userPrincipalName="kim_partner.com#EXT#@contoso.onmicrosoft.com",
                                        userType="Guest"))  # a guest without access
    data["entra_group_members"].append({"groupId": "g-aws-devs", "memberId": "u-jo", "memberType": "user",
                                        "relation": "direct"})
    data["entra_app_claims"][0].update(guestNameIdSource=guest_source, nameIdSource=source)
    return data


def test_guest_name_id():
    hits = bt.run(s.guest_name_id, guest_rows())
    assert set(hits) == {"user:jo_partner.com#EXT#@contoso.onmicrosoft.com"}
    assert bt.run(s.guest_name_id, guest_rows(guest_source="user.mail")) == {}
    assert bt.run(s.guest_name_id, guest_rows(source="user.mail")) == {}  # everyone's NameID is the mail


def test_guest_name_id_without_a_claims_policy_is_not_checked_never_a_pass():
    load_all()
    data = guest_rows()
    data["entra_app_claims"] = []
    outcome = run_checks(bt.tables(data), bt.settings(), ids=["scim.guest_name_id"]).outcomes[0]
    assert outcome.status == "not_checked" and "no claims policy" in outcome.reason


# --------------------------------------------------------------------------------------------- attribute rules


def test_missing_required_attribute():
    data = bt.rows()
    bt.find(data, "entra_users", id="u-bob").update(givenName=None, surname="")
    bt.find(data, "entra_users", id="u-erin")["givenName"] = None  # out of scope: never sent
    hit = bt.run(s.missing_required_attribute, data)["user:bob@contoso.com"]
    assert hit.evidence["missing"] == ["name.givenName ([givenName])", "name.familyName ([surname])"]
    assert len(bt.run(s.missing_required_attribute, data)) == 1


def test_a_required_target_that_is_not_mapped_misses_for_everyone():
    data = bt.rows()
    data["entra_sync_mappings"] = [m for m in data["entra_sync_mappings"] if m["targetAttributeName"] != "displayName"
                                   or m["sourceObjectName"] != "User"]
    hits = bt.run(s.missing_required_attribute, data)
    assert set(hits) == {"user:alice@contoso.com", "user:bob@contoso.com", "user:carol@contoso.com"}
    assert hits["user:bob@contoso.com"].evidence["missing"] == ["displayName (not mapped)"]


def test_multi_valued_attribute_needs_two_mappings_and_two_values():
    data = bt.rows()
    bt.find(data, "entra_users", id="u-bob").update(businessPhones=["+44 1"], mobilePhone="+44 2")
    bt.find(data, "entra_users", id="u-carol").update(mobilePhone="+44 3")  # one value only
    assert bt.run(s.multi_valued_attribute, data) == {}  # mobile is not mapped by default
    data["entra_sync_mappings"].append(MOBILE)
    hit = bt.run(s.multi_valued_attribute, data)["user:bob@contoso.com"]
    assert hit.evidence["phoneNumbers"]["entries"] == 2
    assert hit.evidence["phoneNumbers"]["mappings"]["mobile"] == ["[mobile] = +44 2"]
    assert len(bt.run(s.multi_valued_attribute, data)) == 1


def test_address_parts_are_one_entry():
    data = bt.rows()
    bt.find(data, "entra_users", id="u-bob").update(streetAddress="1 Road", city="Town", country="UK",
                                                    officeLocation="HQ")
    assert bt.run(s.multi_valued_attribute, data) == {}


def test_bare_multi_valued_target_counts_each_value():
    data = bt.rows()
    data["entra_sync_mappings"].append(dict(MOBILE, targetAttributeName="emails", sourceExpression="[otherMails]"))
    bt.find(data, "entra_users", id="u-bob")["otherMails"] = ["a@x.com", "b@x.com"]
    bt.find(data, "entra_users", id="u-carol")["otherMails"] = ["c@x.com"]  # + mail: two emails
    assert set(bt.run(s.multi_valued_attribute, data)) == {"user:bob@contoso.com", "user:carol@contoso.com"}


@pytest.mark.parametrize("field, value, shown", [("displayName", 'Bob "B" Test', '"'),
                                                 ("jobTitle", "R&D; EMEA", ";"),
                                                 ("streetAddress", "Unit 4: Dock Road", ":"),
                                                 ("givenName", "Bob\tX", "tab"),
                                                 ("businessPhones", ["+44 1 %"], "%")])
def test_forbidden_characters(field, value, shown):
    data = bt.rows()
    bt.find(data, "entra_users", id="u-bob")[field] = value
    hit = bt.run(s.forbidden_characters, data)["user:bob@contoso.com"]
    assert hit.evidence["attributes"][0]["characters"] == [shown]
    # The detail names the character in words and shows it: "jobTitle contains a semicolon (;)".
    named = {'"': 'a double quote (")', ";": "a semicolon (;)", ":": "a colon (:)", "tab": "a tab",
             "%": "a percent sign (%)"}[shown]
    assert hit.detail == f"{hit.evidence['attributes'][0]['attribute']} contains {named}"


def test_forbidden_characters_only_in_mapped_attributes_of_users_in_scope():
    data = bt.rows()
    bt.find(data, "entra_users", id="u-bob")["companyName"] = "A|B"       # not mapped
    bt.find(data, "entra_users", id="u-bob")["mailNickname"] = "a:b"      # feeds externalId: not validated as text
    bt.find(data, "entra_users", id="u-erin")["displayName"] = "E<r>in"   # out of scope
    assert bt.run(s.forbidden_characters, data) == {}


def test_duplicate_values_name_every_user_involved():
    data = bt.rows()
    bt.find(data, "entra_users", id="u-bob")["mail"] = "ALICE@contoso.com"
    hits = bt.run(s.duplicate_value, data)
    assert set(hits) == {"user:alice@contoso.com", "user:bob@contoso.com"}
    assert hits["user:bob@contoso.com"].evidence["shared"] == [
        {"attribute": "email", "value": "ALICE@contoso.com", "sharedWith": ["alice@contoso.com"], "where": "Entra"}]


def test_duplicate_against_an_identity_center_user_that_is_someone_else():
    data = bt.rows()
    data["idc_users"].append(bt._idc_user("root", email="carol@contoso.com", externalIds=[], createdBy=bt.ADMIN_ARN))
    hits = bt.run(s.duplicate_value, data)
    assert set(hits) == {"user:carol@contoso.com", "user:root@contoso.com"}
    assert hits["user:carol@contoso.com"].evidence["shared"][0]["where"] == "Identity Center"


def test_duplicate_external_id_from_a_mutable_source():
    data = bt.rows()
    bt.find(data, "entra_sync_mappings", targetAttributeName="externalId", sourceObjectName="User")[
        "sourceExpression"] = "[mailNickname]"
    bt.find(data, "entra_users", id="u-carol")["mailNickname"] = "bob"
    for user in data["idc_users"]:
        user["externalIds"] = [user["userId"][2:]]
    assert set(bt.run(s.duplicate_value, data)) == {"user:bob@contoso.com", "user:carol@contoso.com"}


def test_own_identity_center_copy_is_not_a_duplicate():
    assert bt.run(s.duplicate_value) == {}


def test_scim_checks_run_without_identity_center():
    data = bt.tables(no_nesting(bt.rows()), not_collected={"idc_users": "denied", "idc_groups": "denied"})
    results = run_checks(data, bt.settings(), areas=["scim"])
    assert {o.status for o in results.outcomes} == {"pass"}


# --------------------------------------------------------------------------------------------- the sandbox's rules


CASES = {
    "clean": {},
    "no_given_name": {"givenName": None},
    "empty_surname": {"surname": ""},
    "no_display_name": {"displayName": None},
    "two_phones": {"businessPhones": ["+1 555 0100"], "mobilePhone": "+1 555 0101"},
    "mobile_only": {"mobilePhone": "+1 555 0101"},
    "quote": {"displayName": 'Al "Q" Test'},
    "colon_in_city": {"city": "Town: North"},
    "percent_in_title": {"jobTitle": "100% remote"},
    "pipe_in_department": {"department": "Ops|IT"},
    "lt_in_phone": {"businessPhones": ["<0100>"]},
    "newline_in_street": {"streetAddress": "1 Road\nFlat 2"},
    "forbidden_in_company": {"companyName": "A;B"},             # not mapped: accepted
    "forbidden_in_nickname": {"mailNickname": "a:b"},           # only in externalId / not mapped: accepted
    "ampersand_and_comma": {"jobTitle": "R&D, EMEA", "department": "Sales & Marketing"},
}


def test_predictions_match_what_the_sandbox_scim_endpoint_refuses():
    from idbridge.sandbox.scim.mapping import build_user, job_mappings, user_getter
    from idbridge.sandbox.scim.rules import check_user

    maps = job_mappings(None, "objectId", [("mobile", 'phoneNumbers[type eq "mobile"].value')])
    data = bt.rows()
    data["entra_sync_mappings"].append(MOBILE)
    users = []
    for index, (name, changes) in enumerate(CASES.items()):
        user = bt._user(f"case{index}", **{"businessPhones": [], **changes})
        users.append(user)
        data["entra_app_role_assignments"].append({"id": f"c{index}", "principalId": user["id"],
                                                   "principalType": "User"})
    data["entra_users"] += users
    refused = {f"user:{u['userPrincipalName']}" for u in users
               if check_user(build_user(maps.user, user_getter(u, soft_deleted=False), u)) is not None}
    tables, settings = bt.tables(data), bt.settings()
    predicted = set()
    for unit in (s.missing_required_attribute, s.multi_valued_attribute, s.forbidden_characters):
        predicted |= {h.subject for h in unit(tables, settings)}
    assert predicted == refused
    assert len(refused) == 10  # every case but the five accepted ones
