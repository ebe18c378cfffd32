"""SCIM PATCH as Entra sends it, applied to a resource (scim_patch.py)."""

from __future__ import annotations

from idbridge.sandbox.scim import rules
from idbridge.sandbox.scim.patch import apply_patch, parse_path

USER = {"schemas": [rules.USER_SCHEMA], "id": "u1", "userName": "adele@contoso.com", "displayName": "Adele",
        "name": {"givenName": "Adele", "familyName": "Vance"}, "active": True,
        "phoneNumbers": [{"type": "work", "value": "+31 20 555 0100"}]}


def patch(*ops: dict) -> dict:
    return {"schemas": [rules.PATCH_SCHEMA], "Operations": list(ops)}


def test_paths():
    assert parse_path('emails[type eq "work"].value') == (["emails"], ("type", "work"), "value")
    assert parse_path("name.givenName") == (["name", "givenName"], None, None)
    assert parse_path(f"{rules.ENTERPRISE_SCHEMA}:department") == ([rules.ENTERPRISE_SCHEMA, "department"], None,
                                                                     None)
    assert parse_path('members[value eq "abc"]') == (["members"], ("value", "abc"), None)


def test_replace_simple_and_nested():
    out, problem = apply_patch(USER, patch({"op": "Replace", "path": "displayName", "value": "Adele V."},
                                           {"op": "replace", "path": "name.familyName", "value": "Vance-Smit"}))
    assert problem is None
    assert out["displayName"] == "Adele V." and out["name"] == {"givenName": "Adele", "familyName": "Vance-Smit"}
    assert USER["displayName"] == "Adele"  # the input is left alone


def test_active_string_values_become_booleans():
    out, _ = apply_patch(USER, patch({"op": "Replace", "path": "active", "value": "False"}))
    assert out["active"] is False


def test_filtered_add_creates_a_second_entry():
    out, _ = apply_patch(USER, patch({"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value',
                                      "value": "+31 6 5550 0101"}))
    assert out["phoneNumbers"] == [{"type": "work", "value": "+31 20 555 0100"},
                                   {"type": "mobile", "value": "+31 6 5550 0101"}]
    assert rules.check_user(out, creating=False).message == "List attribute phoneNumbers exceeds allowed limit of 1"


def test_filtered_replace_changes_the_matching_entry():
    out, _ = apply_patch(USER, patch({"op": "Replace", "path": 'phoneNumbers[type eq "work"].value',
                                      "value": "+31 20 555 0199"}))
    assert out["phoneNumbers"] == [{"type": "work", "value": "+31 20 555 0199"}]


def test_no_path_merges_the_value():
    out, _ = apply_patch(USER, patch({"op": "Replace", "value": {"displayName": "A", "active": "False"}}))
    assert out["displayName"] == "A" and out["active"] is False


def test_enterprise_extension():
    out, _ = apply_patch(USER, patch({"op": "Add", "path": f"{rules.ENTERPRISE_SCHEMA}:department",
                                      "value": "Finance"}))
    assert out[rules.ENTERPRISE_SCHEMA] == {"department": "Finance"}


def test_remove_needs_a_path():
    out, problem = apply_patch(USER, patch({"op": "Remove", "value": "x"}))
    assert out is None
    assert problem.message == "Missing path in PATCH request" and problem.detail == rules.UNPARSABLE


def test_remove_filtered_entry_and_attribute():
    out, _ = apply_patch(USER, patch({"op": "Remove", "path": 'phoneNumbers[type eq "work"]'},
                                     {"op": "Remove", "path": "displayName"}))
    assert out["phoneNumbers"] == [] and "displayName" not in out


def test_lowercase_operations_key_and_bad_bodies():
    out, problem = apply_patch(USER, {"operations": [{"op": "replace", "path": "displayName", "value": "B"}]})
    assert problem is None and out["displayName"] == "B"
    assert apply_patch(USER, {"Operations": "nope"})[1].message == "Invalid JSON from RequestBody"
    assert apply_patch(USER, patch({"op": "move", "path": "displayName"}))[1].message == \
        "Invalid JSON from RequestBody"
