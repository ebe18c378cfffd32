"""The NameID claim Identity Center needs (AWS troubleshooting, AWS-ENTRA): format emailAddress, source the UPN,
and for guests (whose UPN holds #EXT#) their mail. Written as the app's customClaimsPolicy, which Graph serves on
/beta only; other claims already in a policy are kept as they are."""

from __future__ import annotations

from idbridge.saml.claims import claims_rows

NAME_ID_TYPE = "#microsoft.graph.samlNameIdClaim"
MEMBER_SOURCE = "user.userprincipalname"
_NAMESPACE = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims"
# Entra's default claims of a SAML gallery app, written with a new policy so that creating one changes nothing else.
_DEFAULT_CLAIMS = (("givenname", "givenname"), ("surname", "surname"), ("emailaddress", "mail"),
                   ("name", "userprincipalname"))


def _attribute(source: str) -> dict:
    kind, _, name = source.partition(".")
    return {"@odata.type": "#microsoft.graph.sourcedAttribute", "source": kind, "id": name,
            "isExtensionAttribute": False}


def _condition(user_type: str) -> dict:
    return {"@odata.type": "#microsoft.graph.customClaimCondition", "userType": user_type, "memberOf": []}


def name_id_claim(guest_source: str | None) -> dict:
    if guest_source:
        configurations = [
            {"condition": _condition("members"), "attribute": _attribute(MEMBER_SOURCE), "transformations": []},
            {"condition": _condition("externalGuests"), "attribute": _attribute(guest_source), "transformations": []},
        ]
    else:
        configurations = [{"condition": None, "attribute": _attribute(MEMBER_SOURCE), "transformations": []}]
    return {"@odata.type": NAME_ID_TYPE, "nameIdFormat": "emailAddress", "serviceProviderNameQualifier": None,
            "configurations": configurations}


def new_policy(guest_source: str | None) -> dict:
    defaults = [{"@odata.type": "#microsoft.graph.customClaim", "name": name, "namespace": _NAMESPACE,
                 "tokenFormat": ["saml"], "samlAttributeNameFormat": None,
                 "configurations": [{"condition": None, "attribute": _attribute(f"user.{source}"),
                                     "transformations": []}]} for name, source in _DEFAULT_CLAIMS]
    return {"includeBasicClaimSet": True, "claims": [name_id_claim(guest_source), *defaults]}


def with_name_id(policy: dict, guest_source: str | None) -> list[dict]:
    """The policy's claims with the NameID claim replaced (or added)."""
    others = [c for c in policy.get("claims") or [] if c.get("@odata.type") != NAME_ID_TYPE]
    return [name_id_claim(guest_source), *others]


def name_id_view(policy: dict | None) -> dict | None:
    """The NameID settings of a policy as the plan shows them (format, member source, guest source)."""
    rows = claims_rows(policy)
    if not rows:
        return None
    row = rows[0]
    fmt = (row["nameIdFormat"] or "").rsplit(":", 1)[-1]
    return {"nameIdFormat": fmt or None, "source": row["nameIdSource"], "guestSource": row["guestNameIdSource"]}


def desired_view(guest_source: str | None) -> dict:
    return {"nameIdFormat": "emailAddress", "source": MEMBER_SOURCE, "guestSource": guest_source}


def matches(current: dict | None, desired: dict) -> bool:
    if current is None:
        return False
    return ((current["nameIdFormat"] or "").lower() == "emailaddress"
            and (current["source"] or "").lower() == desired["source"]
            and (current["guestSource"] or None) == desired["guestSource"])
