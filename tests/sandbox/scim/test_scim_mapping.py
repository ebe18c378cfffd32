"""Entra attribute mappings -> the SCIM resource the provisioning service sends (scim_mapping.py), and the
provisioning scope (scim_scope.py)."""

from __future__ import annotations

import pytest

from idbridge.sandbox.graph import sync_shapes
from idbridge.sandbox.scim import rules
from idbridge.sandbox.scim.mapping import (build_group, build_user, compile_expression, group_getter, object_mappings,
                                           rule_ids, source_names, user_getter)
from idbridge.sandbox.scim.scope import assignments_of, compute_scope

GRAPH_USER = {
    "id": "0b6e1a8e-36b5-4d52-9a3c-0a1d6b2e7f11", "userPrincipalName": "adele@contoso.com",
    "displayName": "Adele Vance", "givenName": "Adele", "surname": "Vance", "mail": "adele@contoso.com",
    "jobTitle": "CFO", "department": "Finance", "employeeId": "E100", "businessPhones": ["+31 20 555 0100"],
    "mobilePhone": "+31 6 5550 0101", "city": "Amsterdam", "country": "Netherlands", "streetAddress": None,
    "officeLocation": None, "state": None, "postalCode": None, "preferredLanguage": "nl-NL",
    "mailNickname": "adele", "accountEnabled": True,
}


def mappings(external_id_source="objectId", extra=()):
    schema = sync_shapes.schema("job", external_id_source, list(extra))
    return object_mappings(schema, "User")[0], object_mappings(schema, "Group")[0], schema


def test_default_aws_user_mapping():
    users, _, _ = mappings()
    resource = build_user(users, user_getter(GRAPH_USER, soft_deleted=False))
    assert resource == {
        "schemas": [rules.USER_SCHEMA, rules.ENTERPRISE_SCHEMA],
        "userName": "adele@contoso.com", "active": True, "displayName": "Adele Vance", "title": "CFO",
        "emails": [{"type": "work", "primary": True, "value": "adele@contoso.com"}],
        "preferredLanguage": "nl-NL", "name": {"givenName": "Adele", "familyName": "Vance",
                                              "formatted": "Adele Vance"},
        "addresses": [{"type": "work", "locality": "Amsterdam", "country": "Netherlands"}],
        "phoneNumbers": [{"type": "work", "value": "+31 20 555 0100"}],
        "externalId": "0b6e1a8e-36b5-4d52-9a3c-0a1d6b2e7f11",
        rules.ENTERPRISE_SCHEMA: {"employeeNumber": "E100", "department": "Finance"},
    }
    assert rules.check_user(resource) is None


def test_soft_deleted_users_are_sent_inactive():
    users, _, _ = mappings()
    assert build_user(users, user_getter(GRAPH_USER, soft_deleted=True))["active"] is False


def test_empty_sources_are_not_sent():
    users, _, _ = mappings()
    resource = build_user(users, user_getter({**GRAPH_USER, "givenName": None, "jobTitle": ""},
                                             soft_deleted=False))
    assert "givenName" not in resource["name"] and "title" not in resource
    assert resource["name"]["formatted"] == "Vance"  # Join skips the empty part
    assert rules.check_user(resource).message.endswith(
        "Value at 'name.givenName' failed to satisfy constraint: Member must have length greater than or equal to 1")


def test_a_second_phone_mapping_makes_two_phone_numbers():
    users, _, _ = mappings(extra=[("mobile", 'phoneNumbers[type eq "mobile"].value')])
    resource = build_user(users, user_getter(GRAPH_USER, soft_deleted=False))
    assert resource["phoneNumbers"] == [{"type": "work", "value": "+31 20 555 0100"},
                                        {"type": "mobile", "value": "+31 6 5550 0101"}]
    assert rules.check_user(resource).message == "List attribute phoneNumbers exceeds allowed limit of 1"
    alone = build_user(users, user_getter({**GRAPH_USER, "businessPhones": []}, soft_deleted=False))
    assert alone["phoneNumbers"] == [{"type": "mobile", "value": "+31 6 5550 0101"}]


def test_graph_property_names_work_as_sources_too():
    users, _, _ = mappings(extra=[("otherMails", "emails")])
    resource = build_user(users, user_getter({**GRAPH_USER, "otherMails": ["a@x.com", "b@x.com"]},
                                             soft_deleted=False))
    assert [e["value"] for e in resource["emails"]] == ["adele@contoso.com", "a@x.com", "b@x.com"]
    assert rules.check_user(resource).message == "List attribute emails exceeds allowed limit of 1"


@pytest.mark.parametrize("source, expected", [("mailNickname", "adele"), ("userPrincipalName", "adele@contoso.com"),
                                              ("employeeId", "E100")])
def test_external_id_sources(source, expected):
    users, _, _ = mappings(external_id_source=source)
    assert build_user(users, user_getter(GRAPH_USER, soft_deleted=False))["externalId"] == expected


def test_mail_nickname_defaults_to_the_upn_prefix():
    users, _, _ = mappings(external_id_source="mailNickname")
    user = {**GRAPH_USER, "mailNickname": None, "userPrincipalName": "zoe@contoso.com"}
    assert build_user(users, user_getter(user, soft_deleted=False))["externalId"] == "zoe"


def test_group_mapping_and_rules():
    _, groups, schema = mappings()
    group = {"id": "5e0c9eae-ad3d-4139-5ad0-174391d110eb", "displayName": "AWS-Admins"}
    assert build_group(groups, group_getter(group)) == {"schemas": [rules.GROUP_SCHEMA], "displayName": "AWS-Admins",
                                                        "externalId": "5e0c9eae-ad3d-4139-5ad0-174391d110eb"}
    assert rule_ids(schema) == ["6c409270-f78a-4bc6-af23-7cf3ab6482fe"]


def test_source_names():
    schema = sync_shapes.schema("job", "objectId", [("mobile", 'phoneNumbers[type eq "mobile"].value')])
    names = source_names(schema["synchronizationRules"][0]["objectMappings"][0])
    assert {"IsSoftDeleted", "userPrincipalName", "givenName", "surname", "telephoneNumber", "mobile",
            "objectId"} <= set(names)


@pytest.mark.parametrize("expression, values, expected", [
    ('Switch([IsSoftDeleted], , "False", "True", "True", "False")', {"IsSoftDeleted": "False"}, "True"),
    ('Switch([IsSoftDeleted], , "False", "True", "True", "False")', {"IsSoftDeleted": "True"}, "False"),
    ('Switch([c], "default", "NL", "Netherlands")', {"c": "BE"}, "default"),
    ('Join(" ", [givenName], [surname])', {"givenName": "A", "surname": "B"}, "A B"),
    ('Join("", [a])', {}, None),
    ('Not([accountEnabled])', {"accountEnabled": True}, "False"),
    ('Coalesce([a], [b], "c")', {"b": "B"}, "B"),
    ('ToLower([userPrincipalName])', {"userPrincipalName": "Tomas.Horak@X.com"}, "tomas.horak@x.com"),
    ('ToUpper([c], "en-US")', {"c": "nl"}, "NL"),
    ('Item([otherMails], "2")', {"otherMails": ["a", "b"]}, "b"),
    ('"constant"', {}, "constant"),
    ('Mystery([a])', {"a": "x"}, None),
])
def test_expressions(expression, values, expected):
    assert compile_expression(expression)(values.get) == expected


# --------------------------------------------------------------------------------------------- scope

USERS = {u: {"id": u} for u in ("alice", "bob", "carol", "dave")}
GROUPS = {g: {"id": g} for g in ("G1", "G2", "G3")}
MEMBERS = {"G1": ["bob", "G2"], "G2": ["carol"], "G3": ["dave"]}


def test_assigned_scope_takes_direct_members_only():
    scope = compute_scope(USERS, GROUPS, MEMBERS, [("alice", "User"), ("G1", "Group")], sync_all=False)
    assert set(scope.users) == {"alice", "bob"}  # carol is only in G2, nested in G1: never reached
    assert set(scope.groups) == {"G1"}
    assert scope.members == {"G1": ["bob"]}
    assert scope.nested_skipped == {"G1": ["G2"]}
    assert scope.assigned_directly == {"alice"}


def test_sync_all_takes_everyone_but_still_no_group_members():
    scope = compute_scope(USERS, GROUPS, MEMBERS, [], sync_all=True)
    assert set(scope.users) == set(USERS) and set(scope.groups) == set(GROUPS)
    assert scope.members["G1"] == ["bob"] and scope.nested_skipped == {"G1": ["G2"]}


def test_assignments_of_one_service_principal():
    assignments = {"a": {"principalId": "alice", "principalType": "User", "resourceId": "sp"},
                   "b": {"principalId": "G3", "principalType": "Group", "resourceId": "other-sp"}}
    assert assignments_of(assignments, "sp") == [("alice", "User")]
