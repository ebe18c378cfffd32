"""The NameID of the AWS app's claims policy, read the same way by the collector (entra_app_claims) and by the
SAML setup runbook (which writes the policy when it is not what Identity Center needs)."""

from __future__ import annotations

import json
from typing import Any


def _to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)


def _condition_user_type(configuration: dict) -> Any:
    condition = configuration.get("condition")
    return condition.get("userType") if isinstance(condition, dict) else None


_GUEST_TYPES = {"externalGuests", "allGuests", "aadGuests"}


def _source(configuration: dict) -> str | None:
    attribute = configuration.get("attribute") or {}
    if not attribute.get("id"):
        return None
    return f"{attribute.get('source') or 'user'}.{attribute['id']}"


def single_policy(answer: dict | None) -> dict | None:
    """The customClaimsPolicy of a GET /beta/servicePrincipals/{id}/claimsPolicy answer.

    The SDKs type the answer as one object, but the Graph docs example wraps it as a collection,
    {"value": [{...}]}. Both are accepted; reading the wrapper as the policy would lose the NameID claim."""
    if not isinstance(answer, dict):
        return None
    if "claims" not in answer and isinstance(answer.get("value"), list):
        policies = [p for p in answer["value"] if isinstance(p, dict)]
        return policies[0] if policies else None
    return answer


def claims_rows(policy: dict | None) -> list[dict]:
    """One row from a customClaimsPolicy: the NameID format and source (members, and guests when a claim
    condition sends them another attribute), and all claims as JSON. A collection-wrapped answer is unwrapped."""
    policy = single_policy(policy)
    if not policy:
        return []
    claims = policy.get("claims") or []
    name_id = next((c for c in claims if str(c.get("@odata.type", "")).endswith("samlNameIdClaim")), None)
    member_source = guest_source = None
    for configuration in (name_id or {}).get("configurations") or []:
        user_type = _condition_user_type(configuration)
        if user_type in _GUEST_TYPES:
            guest_source = guest_source or _source(configuration)
        else:
            member_source = member_source or _source(configuration)
    return [{"nameIdFormat": (name_id or {}).get("nameIdFormat"), "nameIdSource": member_source,
             "guestNameIdSource": guest_source, "claims_json": _to_json(claims)}]
