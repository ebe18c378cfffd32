"""The $filter parser/evaluator and the paging token, without HTTP."""

from __future__ import annotations

import pytest

from idbridge.sandbox.graph.odata_filter import FilterError, matches, parse_filter

USER = {
    "displayName": "Adele Vance", "userType": "Member", "accountEnabled": True, "mail": None,
    "otherMails": ["a.vance@gmail.com"], "createdDateTime": "2025-05-01T00:00:00Z", "id": "5e0b1a8e-0000-4d52-9a3c-0a1d6b2e7f11",
    "assignedLicenses": [{"skuId": "06ebc4ee-1bb5-47dd-8120-11324bc54e06", "disabledPlans": []}],
    "status": {"errorCode": 50126}, "servicePrincipal": {"id": "abc"}, "count": 3,
}


@pytest.mark.parametrize("text, expected", [
    ("displayName eq 'adele vance'", True),                      # case-insensitive like the directory
    ("displayName ne 'Adele Vance'", False),
    ("startswith(displayName,'Ad')", True),
    ("endswith(displayName,'VANCE')", True),
    ("contains(displayName,'ele V')", True),                     # parsed; only some endpoints accept it
    ("contains(displayName,'Bob')", False),
    ("userType in ('Guest', 'Member')", True),
    ("userType in ('Guest')", False),
    ("accountEnabled eq true and userType eq 'Member'", True),
    ("accountEnabled eq false or userType eq 'Guest'", False),
    ("not(accountEnabled eq false)", True),
    ("not startswith(displayName,'B')", True),
    ("mail eq null", True),
    ("mail ne null", False),
    ("otherMails/any(x:x eq 'A.Vance@gmail.com')", True),
    ("otherMails/any(x:startswith(x,'nobody'))", False),
    ("otherMails/any()", True),
    ("assignedLicenses/any(l:l/skuId eq 06ebc4ee-1bb5-47dd-8120-11324bc54e06)", True),
    ("assignedLicenses/all(l:l/skuId eq 00000000-0000-0000-0000-000000000000)", False),
    ("createdDateTime ge 2025-01-01T00:00:00Z", True),
    ("createdDateTime lt 2025-05-01T00:00:00Z", False),
    ("createdDateTime le 2025-05-01T00:00:00Z and createdDateTime gt 2025-04-30", True),
    ("status/errorCode eq 50126", True),
    ("status/errorCode ne 0 and servicePrincipal/id eq 'ABC'", True),
    ("count gt 2 and count lt 4", True),
    ("id eq 5e0b1a8e-0000-4d52-9a3c-0a1d6b2e7f11", True),
    ("(userType eq 'Guest' or accountEnabled eq true) and mail eq null", True),
    ("displayName eq 'It''s'", False),
])
def test_operators(text, expected):
    assert matches(parse_filter(text), USER) is expected


def test_advanced_query_markers_and_properties():
    parsed = parse_filter("userType ne 'Guest' and endswith(mail,'@x.com') and otherMails/any(m:m eq 'a')")
    assert {"ne", "endswith", "any"} <= parsed.used
    assert parsed.properties == {"userType", "mail", "otherMails"}  # the lambda variable is not a property


@pytest.mark.parametrize("text, kind", [
    ("displayName eq", "syntax"),
    ("displayName eq 'open", "syntax"),
    ("(displayName eq 'a'", "syntax"),
    ("tolower(displayName) eq 'a'", "unsupported"),
    ("otherMails/any(x eq 'a')", "syntax"),
    ("count add 1 eq 2", "unsupported"),
    ("", "syntax"),
])
def test_errors(text, kind):
    with pytest.raises(FilterError) as caught:
        parse_filter(text)
    assert caught.value.kind == kind
