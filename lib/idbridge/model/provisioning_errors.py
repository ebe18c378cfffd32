"""Provisioning failures and refused characters in a reader's words.

Entra names a failed SCIM call by the connector and the HTTP status ("SystemForCrossDomainIdentityManagement" +
"BadRequest"), which tells a reader nothing; the SCIM error's detail, where Identity Center sent one, says more.
The sentences below are ours, from the documented causes (Identity Center's SCIM limitations: required names,
one value per multi-valued attribute, forbidden characters, unique user names, emails, external ids and group
names; an expired or revoked token). The code itself stays in the evidence, for a search in Microsoft's docs.
"""

from __future__ import annotations

CONNECTOR = "SystemForCrossDomainIdentityManagement"

# The error's detail (Identity Center's words) → what it means; checked in this order, first match wins.
_BY_DETAIL: tuple[tuple[str, str], ...] = (
    ("must have length greater than or equal to 1",
     "A required attribute is empty: Identity Center needs a given name, family name, user name and display name"),
    ("satisfy regular expression pattern",
     "An attribute holds a character Identity Center refuses (tab, line break or \" < > | ; : %)"),
    ("exceeds allowed limit of 1", "Several values were sent for an attribute Identity Center takes once "
                                   "(e.g. more than one email, phone number or address)"),
    ("only allow single item", "Several values were sent for an attribute Identity Center takes once "
                               "(e.g. more than one email, phone number or address)"),
    ("duplicate resource", "Another user or group in Identity Center already holds the same user name, email, "
                           "external id or group name"),
    ("request is unparsable", "Identity Center could not read the request, most often several values for an "
                              "attribute it takes once; CloudTrail's identitystore-scim event names the attribute"),
)

# The code's ending (the HTTP status Entra names) → what it means when the detail said nothing more.
_BY_CODE: dict[str, str] = {
    "CredentialValidationFailure": "Identity Center refused the SCIM token: it expired, was revoked, or is not "
                                   "the one Identity Center issued",
    "Unauthorized": "Identity Center refused the SCIM token: it expired, was revoked, or is not the one Identity "
                    "Center issued",
    "Forbidden": "Identity Center refused the SCIM call (forbidden): the token does not allow it",
    "BadRequest": "Identity Center refused the values sent as invalid",
    "Conflict": "Another user or group in Identity Center already holds the same user name, email, external id or "
                "group name",
    "NotFound": "The user or group no longer exists in Identity Center (deleted or recreated there)",
    "TooManyRequests": "Identity Center throttled the calls; Entra tries again in a later cycle",
    "InternalServerError": "Identity Center failed with an internal error; Entra tries again in a later cycle",
}


def error_words(code: object, detail: object = None) -> str:
    """One sentence for a provisioning failure: from the SCIM error's detail when it names a documented cause,
    else from the code; an unknown code is named as it is (never left out)."""
    said = str(detail or "").lower()
    for needle, words in _BY_DETAIL:
        if needle in said:
            return words
    text = str(code or "").strip()
    ending = text[len(CONNECTOR):] if text.startswith(CONNECTOR) else text
    if ending in _BY_CODE:
        return _BY_CODE[ending]
    return f"Provisioning failed with error code {text}" if text and text != "(no code)" else \
        "Provisioning failed; the log gives no error code"


CHARACTER_NAMES: dict[str, str] = {
    "\t": "a tab", "\n": "a line break", "\r": "a carriage return", "\"": "a double quote (\")",
    "<": "a less-than sign (<)", ">": "a greater-than sign (>)", "|": "a vertical bar (|)", ";": "a semicolon (;)",
    ":": "a colon (:)", "%": "a percent sign (%)",
    "tab": "a tab", "line feed": "a line break", "carriage return": "a carriage return",
}


def character_words(characters) -> str:
    """"a colon (:) and a semicolon (;)": the characters named, each shown."""
    names = [CHARACTER_NAMES.get(c, f"the character {c!r}") for c in characters]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
