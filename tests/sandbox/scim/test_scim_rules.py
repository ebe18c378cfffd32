"""AWS IAM Identity Center's SCIM rules, each with the exact text AWS gives (scim_rules.py)."""

from __future__ import annotations

import pytest

from idbridge.sandbox.scim import rules

PATTERN = r"[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r ]+"


def user(**overrides) -> dict:
    base = {"schemas": [rules.USER_SCHEMA], "userName": "adele@contoso.com", "displayName": "Adele Vance",
            "name": {"givenName": "Adele", "familyName": "Vance", "formatted": "Adele Vance"},
            "emails": [{"value": "adele@contoso.com", "type": "work", "primary": True}],
            "externalId": "0b6e1a8e-36b5-4d52-9a3c-0a1d6b2e7f11", "active": True}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_a_complete_user_passes():
    assert rules.check_user(user()) is None


def test_accented_and_punctuated_names_pass():
    assert rules.check_user(user(displayName="Ayşe Kılıç-O'Neill (Ops)", name={"givenName": "Ayşe",
                                                                                "familyName": "Kılıç"})) is None


def test_missing_given_name():
    violation = rules.check_user(user(name={"familyName": "Vance"}))
    text = ("1 validation errors detected: Value at 'name.givenName' failed to satisfy constraint: Member must have "
            "length greater than or equal to 1")
    assert violation == rules.Violation(400, "ValidationException", text, text, "invalidValue")


@pytest.mark.parametrize("missing, path", [("userName", "userName"), ("displayName", "displayName")])
def test_missing_user_name_or_display_name(missing, path):
    violation = rules.check_user(user(**{missing: None}))
    assert violation.message == (f"1 validation errors detected: Value at '{path}' failed to satisfy constraint: "
                                 "Member must have length greater than or equal to 1")


def test_empty_family_name_fails_length_and_pattern():
    violation = rules.check_user(user(name={"givenName": "Adele", "familyName": ""}))
    assert violation.message == (
        "2 validation errors detected: Value at 'name.familyName' failed to satisfy constraint: Member must have "
        "length greater than or equal to 1; Value at 'name.familyName' failed to satisfy constraint: Member must "
        f"satisfy regular expression pattern: {PATTERN}")
    assert violation.detail == violation.message  # value constraints reach the caller as they are


def test_both_names_missing_are_reported_together():
    violation = rules.check_user(user(name=None))
    assert violation.message.startswith("2 validation errors detected: Value at 'name.givenName'")
    assert "Value at 'name.familyName' failed to satisfy constraint: Member must have length" in violation.message


@pytest.mark.parametrize("attribute", ["emails", "phoneNumbers", "addresses", "roles"])
def test_multi_valued_attributes_allow_one_value(attribute):
    violation = rules.check_user(user(**{attribute: [{"value": "a", "type": "work", "primary": True},
                                                     {"value": "b", "type": "other"}]}))
    assert violation.status == 400 and violation.error_code == "ValidationException"
    assert violation.message == f"List attribute {attribute} exceeds allowed limit of 1"
    assert violation.detail == "Request is unparsable, syntactically incorrect, or violates schema."  # what Entra sees


def test_email_must_be_primary():
    violation = rules.check_user(user(emails=[{"value": "adele@contoso.com", "type": "work"}]))
    assert violation.message == "The emails attribute value must be marked as primary"
    assert violation.detail == rules.UNPARSABLE


def test_groups_cannot_be_sent_with_create_user():
    violation = rules.check_user(user(groups=[{"value": "g1"}]))
    assert violation.message == "The groups field cannot be specified with the createUser request"
    assert rules.check_user(user(groups=[{"value": "g1"}]), creating=False) is None


def test_not_an_object():
    assert rules.check_user(["not", "a", "user"]).message == "Invalid JSON from RequestBody"


@pytest.mark.parametrize("character", ["\t", "\n", "\r", '"', "<", ">", "|", ";", ":", "%"])
def test_forbidden_characters(character):
    violation = rules.check_user(user(displayName=f"Adele{character}Vance"))
    assert violation.message == ("1 validation errors detected: Value at 'displayName' failed to satisfy constraint: "
                                 f"Member must satisfy regular expression pattern: {PATTERN}")
    assert violation.status == 400


def test_forbidden_characters_are_named_by_attribute_path():
    violation = rules.check_user(user(title="R&D; Lab", addresses=[{"type": "work", "locality": "Paris 50%"}],
                                      **{rules.ENTERPRISE_SCHEMA: {"department": "Ops|Dev"}}))
    assert violation.message == (
        "3 validation errors detected: "
        f"Value at 'title' failed to satisfy constraint: Member must satisfy regular expression pattern: {PATTERN}; "
        f"Value at 'addresses.locality' failed to satisfy constraint: Member must satisfy regular expression "
        f"pattern: {PATTERN}; "
        f"Value at '{rules.ENTERPRISE_SCHEMA}.department' failed to satisfy constraint: Member must satisfy regular "
        f"expression pattern: {PATTERN}")


def test_external_id_and_schemas_are_not_checked_for_characters():
    assert rules.check_user(user(externalId="a:b", schemas=[rules.USER_SCHEMA, rules.ENTERPRISE_SCHEMA])) is None


def test_group_needs_a_display_name():
    violation = rules.check_group({"schemas": [rules.GROUP_SCHEMA], "externalId": "g"})
    assert violation.message == ("1 validation errors detected: Value at 'displayName' failed to satisfy "
                                 "constraint: Member must have length greater than or equal to 1")


def test_group_display_name_characters():
    assert rules.check_group({"displayName": "AWS-Admins"}) is None
    assert "regular expression pattern" in rules.check_group({"displayName": "AWS: Admins"}).message


def test_duplicate_texts():
    violation = rules.duplicate("GroupDisplayName")
    assert (violation.status, violation.error_code, violation.message, violation.detail, violation.scim_type) == \
        (409, "ConflictException", "Duplicate GroupDisplayName", "Refused to create a new, duplicate resource",
         "uniqueness")


def test_error_body_has_aws_shape():
    body = rules.error_body(rules.unparsable("List attribute emails exceeds allowed limit of 1"),
                            request_id="r-1", timestamp="2026-03-01 12:00:00.000")
    assert body == {"schema": [rules.ERROR_SCHEMA], "schemas": [rules.ERROR_SCHEMA],
                    "detail": "Request is unparsable, syntactically incorrect, or violates schema.", "status": "400",
                    "scimType": "invalidSyntax", "exceptionRequestId": "r-1", "timeStamp": "2026-03-01 12:00:00.000"}
    assert rules.error_body(rules.unauthorized(), request_id="r", timestamp="t")["detail"] == \
        "Authorization header is invalid or missing."
