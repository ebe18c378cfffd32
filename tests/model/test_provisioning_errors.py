"""Provisioning failures and refused characters named in a reader's words, the code kept only as a code."""

from __future__ import annotations

import pytest

from idbridge.model.provisioning_errors import CONNECTOR, character_words, error_words


@pytest.mark.parametrize("code, detail, words", [
    (f"{CONNECTOR}BadRequest", "1 validation error detected: Value at 'name.givenName' failed to satisfy "
                               "constraint: Member must have length greater than or equal to 1",
     "A required attribute is empty"),
    (f"{CONNECTOR}BadRequest", "List attribute emails exceeds allowed limit of 1", "Several values were sent"),
    (f"{CONNECTOR}BadRequest", "Request is unparsable, syntactically incorrect, or violates schema.",
     "Identity Center could not read the request"),
    (f"{CONNECTOR}Conflict", "Refused to create a new, duplicate resource", "Another user or group"),
    (f"{CONNECTOR}Conflict", None, "Another user or group"),
    (f"{CONNECTOR}CredentialValidationFailure", None, "Identity Center refused the SCIM token"),
    (f"{CONNECTOR}NotFound", "", "The user or group no longer exists"),
])
def test_documented_failures_are_sentences_without_the_exception_name(code, detail, words):
    said = error_words(code, detail)
    assert said.startswith(words) and CONNECTOR not in said


def test_an_unknown_code_is_named_not_dropped():
    assert error_words("SomethingNew", None) == "Provisioning failed with error code SomethingNew"
    assert error_words(None) == "Provisioning failed; the log gives no error code"


def test_characters_are_named_and_shown():
    assert character_words([":"]) == "a colon (:)"
    assert character_words([";", "%", "tab"]) == "a semicolon (;), a percent sign (%) and a tab"
