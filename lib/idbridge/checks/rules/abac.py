"""Attribute-based access control across the bridge: Entra attributes -> SAML AccessControl claims and Identity
Center's attributes for access control -> session tags -> aws:PrincipalTag conditions in permission sets.

Each link can break without an error anywhere; these checks follow a key from the policy that tests it back to the
Entra attribute that fills it (model/abac.py reads the pieces; docs/abac.md says it in plain words).
"""

from __future__ import annotations

from typing import Iterator

from idbridge.checks.base import Hit, NotApplicable, check
from idbridge.checks.controls import iso, nist
from idbridge.model import abac, mapping
from idbridge.model.frames import among, text
from idbridge.model.scope import bridge

AWS_ABAC = "https://docs.aws.amazon.com/singlesignon/latest/userguide/attributesforaccesscontrol.html"
AWS_CONFIGURE = "https://docs.aws.amazon.com/singlesignon/latest/userguide/configure-abac.html"
AWS_UPDATE_API = ("https://docs.aws.amazon.com/singlesignon/latest/APIReference/"
                  "API_UpdateInstanceAccessControlAttributeConfiguration.html")
AWS_ATTRIBUTE_API = "https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_AccessControlAttribute.html"
AWS_SUPPORTED = "https://docs.aws.amazon.com/singlesignon/latest/userguide/attributemappingsconcept.html"
STS_TAG = "https://docs.aws.amazon.com/STS/latest/APIReference/API_Tag.html"
IAM_SESSION_TAGS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html"
IAM_OPERATORS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"


_CONTROLS = nist("AC-3", "AC-16") + iso("5.15", "8.3")


# --------------------------------------------------------------------------------------------- reading


def _claims(data) -> dict[str, str | None]:
    return abac.claims_of(data)


def _instance(data) -> tuple[bool, dict[str, str]]:
    return abac.instance_of(data)


def _sets(data) -> list[abac.PermissionSetTags]:
    return abac.permission_set_tags(data.table("idc_permission_sets"), data.table("idc_permission_set_policies"))


def _lower(keys) -> dict[str, str]:
    return {k.lower(): k for k in keys}


# --------------------------------------------------------------------------------------------- checks


@check(id="abac.tag_not_supplied", title="Permission set tests a session tag nothing supplies",
       passed="Every aws:PrincipalTag key tested in the permission sets' inline policies is supplied: enabled in "
              "Identity Center's attributes for access control, or sent as an AccessControl claim while ABAC is "
              "enabled. Managed and customer-managed policy documents are not read (they live in IAM).",
       severity="high", area="abac", subject_kind="permission_set", controls=_CONTROLS,
       meaning="A condition on aws:PrincipalTag/<key> compares against a tag no session carries: an Allow that "
               "needs it never applies (people lack access the permission set seems to give), and a negated "
               "condition or a Deny written for the tag silently applies to everyone or no one.",
       fix="Either enable the key in IAM Identity Center › Settings › Attributes for access control (a ${path:...} "
           "source that provisioning fills), or send it from Entra as the claim "
           "https://aws.amazon.com/SAML/Attributes/AccessControl:<key>; or remove the condition.",
       references=(AWS_ABAC, AWS_CONFIGURE, IAM_SESSION_TAGS),
       tables=("idc_permission_sets", "idc_permission_set_policies", "idc_abac_status", "idc_abac_attributes",
               "entra_app_claims"))
def tag_not_supplied(data, settings) -> Iterator[Hit]:
    enabled, instance = _instance(data)
    claims = _claims(data) if enabled else {}  # without ABAC enabled, the assertion's claims are not used
    supplied = _lower(instance) | _lower(claims)
    sets = [s for s in _sets(data) if s.tests]
    if not sets:
        raise NotApplicable("no permission set's inline policy tests an aws:PrincipalTag key")
    for ps in sets:
        missing = {low: key for low, key in ps.keys.items() if low not in supplied}
        if not missing:
            continue
        where = sorted({f"{t.policy} {t.sid}" for t in ps.tests if t.key.lower() in missing})
        yield Hit(f"permission_set:{ps.name}",
                  {"keys": sorted(missing.values()), "statements": where, "abac_enabled": enabled,
                   "supplied_keys": sorted(supplied.values()), "policies_not_read": ps.unread},
                  detail=f"tests {', '.join(sorted(missing.values()))}; supplied: "
                         f"{', '.join(sorted(supplied.values())) or 'none'}"
                         + ("" if enabled else " (ABAC is not enabled on the instance)"))


@check(id="abac.claims_without_abac", title="AccessControl claims sent but ABAC not enabled in Identity Center",
       passed="Either the app sends no AccessControl claims, or attributes for access control are enabled on the "
              "Identity Center instance, so the claims become session tags.",
       severity="high", area="abac", subject_kind="app", controls=_CONTROLS,
       meaning="Entra sends https://aws.amazon.com/SAML/Attributes/AccessControl:<key> claims, but ABAC is not "
               "enabled on the Identity Center instance; AWS uses ABAC attributes only once it is enabled, so "
               "the sessions carry none of these tags and every condition on them sees a missing tag.",
       fix="IAM Identity Center › Settings › Attributes for access control › Enable (or "
           "CreateInstanceAccessControlAttributeConfiguration), then verify a session's tags in CloudTrail; or "
           "remove the claims if ABAC is not intended.",
       references=(AWS_CONFIGURE, AWS_ABAC), tables=("entra_app_claims", "idc_abac_status"))
def claims_without_abac(data, settings) -> Iterator[Hit]:
    claims = _claims(data)
    if not claims:
        raise NotApplicable("the app sends no AccessControl claims")
    enabled, _ = _instance(data)
    if not enabled:
        status = data.table("idc_abac_status")
        state = None if status.empty else status.iloc[0].get("status")
        yield Hit(settings.app_subject, {"claim_keys": sorted(claims), "instance_status": state},
                  detail=f"claims {', '.join(sorted(claims))} are sent; the instance has "
                         + ("no ABAC configuration" if not isinstance(state, str) else f"ABAC status {state}"))


@check(id="abac.source_not_provisioned", title="Identity Center ABAC source that provisioning never fills",
       passed="Every ${path:...} source of Identity Center's attributes for access control names a SCIM attribute "
              "that the Entra provisioning job maps.",
       severity="medium", area="abac", subject_kind="app", controls=_CONTROLS,
       meaning="An attribute for access control reads a user attribute of Identity Center's store that Entra's "
               "provisioning never writes (no mapping targets it): the key is empty for everyone, so the session "
               "never carries the tag, whatever Entra holds.",
       fix="Entra admin center › the AWS app › Provisioning › Attribute mappings › add a mapping to that SCIM "
           "attribute (e.g. department -> urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department), "
           "or point the Identity Center attribute at a path that is mapped.",
       references=(AWS_SUPPORTED, AWS_ABAC), tables=("idc_abac_status", "idc_abac_attributes", "entra_sync_mappings"))
def source_not_provisioned(data, settings) -> Iterator[Hit]:
    _, instance = _instance(data)
    paths = {k: s for k, s in instance.items() if abac.scim_target(s)}
    if not paths:
        raise NotApplicable("no Identity Center attribute for access control reads a ${path:...} source")
    mappings = mapping.user_mappings(data.table("entra_sync_mappings"))
    unfilled = {k: s for k, s in paths.items() if not abac.is_mapped(mappings, abac.scim_target(s))}
    if unfilled:
        yield Hit(settings.app_subject,
                  {"attributes": [{"key": k, "source": s, "scim_attribute": abac.scim_target(s)}
                                  for k, s in sorted(unfilled.items())]},
                  detail="; ".join(f"{k} <- {s}: no mapping writes {abac.scim_target(s)}"
                                   for k, s in sorted(unfilled.items())))


@check(id="abac.user_value_refused", title="User's ABAC attribute is empty or a value AWS refuses as a session tag",
       passed="Every user in the app's scope has a value for each ABAC key that a permission set tests, within "
              "AWS's session tag rules (at most 256 characters of letters, spaces, digits and _ . : / = + - @).",
       severity="medium", area="abac", subject_kind="user", controls=_CONTROLS,
       graded={"low": "the attribute is only empty (the session has no tag; the policies decide what that means)"},
       meaning="The Entra attribute behind a session tag the policies test is empty for this person (the session "
               "has no such tag: access the condition grants is missing, or a negated condition lets them through), "
               "or holds a value AWS does not accept as a session tag value (too long or a character outside the "
               "allowed set), so the tag cannot be set as Entra holds it.",
       fix="Fill or correct the attribute in Entra (or the HR source feeding it); keep values to letters, digits, "
           "spaces and _ . : / = + - @, at most 256 characters. Then let provisioning run (Identity Center values) "
           "and have the person sign in again.",
       references=(STS_TAG, IAM_SESSION_TAGS, AWS_ATTRIBUTE_API),
       tables=("entra_users", "entra_app_role_assignments", "entra_group_members", "entra_groups",
               "entra_sync_jobs", "entra_sync_mappings", "entra_app_claims", "idc_abac_status",
               "idc_abac_attributes", "idc_permission_sets", "idc_permission_set_policies"))
def user_value_refused(data, settings) -> Iterator[Hit]:
    users = data.table("entra_users")
    tested = {low for ps in _sets(data) for low in ps.keys}
    sources = {k: v for k, v in abac.key_sources(data, users).items() if k in tested and v[1]}
    if not sources:
        raise NotApplicable("no tested ABAC key reaches a session from an Entra attribute idbridge collects")
    scope = bridge(data, need_idc=False).scope
    in_scope = users[among(text(users["id"]), scope.users)]
    for _, user in in_scope.sort_values("userPrincipalName").iterrows():
        problems, worst = [], "low"
        for low, (how, attribute, source) in sorted(sources.items()):
            value = abac.user_value(user, attribute)
            if value is None:
                problems.append({"key": low, "attribute": attribute, "via": how, "problem": "empty"})
                continue
            why = abac.refused(str(value))
            if why:
                worst = "medium"
                problems.append({"key": low, "attribute": attribute, "via": how, "problem": why})
        if problems:
            yield Hit(f"user:{user['userPrincipalName']}", {"problems": problems}, severity=worst,
                      detail="; ".join(f"{p['key']} ({p['attribute']}): {p['problem']}" for p in problems))


@check(id="abac.condition_fails_open", title="Tag condition lets sessions without the tag through",
       passed="No aws:PrincipalTag condition in the permission sets' inline policies fails open: no Allow with a "
              "negated or ...IfExists operator and no Deny with a plain operator on a tag, unless the statement "
              "also requires the tag (Null: false). Managed and customer-managed documents are not read.",
       severity="high", area="abac", subject_kind="permission_set", controls=_CONTROLS,
       meaning="IAM evaluates a condition on a missing key as false, except negated operators (StringNotEquals, "
               "StringNotLike, ...) and ...IfExists, which are true. So an Allow written with them applies to "
               "anyone whose session has no such tag — an empty Entra attribute grants the access — and a Deny "
               "written with a plain operator does not stop them.",
       fix="Rewrite the statement so a missing tag fails closed: use a positive operator in the Allow, or add "
           "\"Null\": {\"aws:PrincipalTag/<key>\": \"false\"} to the same statement; make Denies negated or add a "
           "Deny on \"Null\": {\"aws:PrincipalTag/<key>\": \"true\"}.",
       references=(IAM_OPERATORS, AWS_ABAC),
       tables=("idc_permission_sets", "idc_permission_set_policies"))
def condition_fails_open(data, settings) -> Iterator[Hit]:
    sets = [s for s in _sets(data) if s.tests]
    if not sets:
        raise NotApplicable("no permission set's inline policy tests an aws:PrincipalTag key")
    for ps in sets:
        # A Deny on the tag's absence (Null: true) anywhere in the set closes the gap for that key.
        denied_absent = {t.key.lower() for t in ps.tests if t.effect == "Deny" and t.operator == "Null"
                         and [v.lower() for v in t.values] == ["true"]}
        open_ = [t for t in ps.tests if t.fails_open and t.key.lower() not in denied_absent]
        if open_:
            yield Hit(f"permission_set:{ps.name}",
                      {"conditions": [{"policy": t.policy, "statement": t.sid, "effect": t.effect,
                                       "operator": t.operator, "key": t.key, "values": list(t.values),
                                       "why": t.fails_open} for t in open_]},
                      detail="; ".join(f"{t.sid}: {t.effect} {t.operator} aws:PrincipalTag/{t.key}" for t in open_))


@check(id="abac.key_from_both_sides", title="ABAC key sent by Entra and set by Identity Center from another source",
       passed="No key is both sent as an AccessControl claim and configured in Identity Center's attributes for "
              "access control from a different Entra attribute.",
       severity="medium", area="abac", subject_kind="app", controls=_CONTROLS,
       meaning="When a key comes from both the SAML assertion and Identity Center's attributes for access control, "
               "AWS uses Identity Center's value and drops the claim's. Here the two come from different Entra "
               "attributes (or Identity Center's source cannot be traced to one), so whoever maintains the claim "
               "believes the tag holds something it does not.",
       fix="Keep each key in one place: remove the claim from the Entra app, or remove the key from Identity "
           "Center's attributes for access control (then the claim's value is used).",
       references=(AWS_UPDATE_API, AWS_CONFIGURE),
       tables=("entra_app_claims", "idc_abac_status", "idc_abac_attributes", "entra_sync_mappings", "entra_users"))
def key_from_both_sides(data, settings) -> Iterator[Hit]:
    _, instance = _instance(data)
    claims = _claims(data)
    both = sorted(set(_lower(claims)) & set(_lower(instance)))
    if not both:
        raise NotApplicable("no key is both sent as a claim and configured in Identity Center")
    users = data.table("entra_users")
    mappings = mapping.user_mappings(data.table("entra_sync_mappings"))
    claim_by, idc_by = _lower(claims), _lower(instance)
    differing = []
    for low in both:
        claim_source = claims[claim_by[low]]
        idc_source = instance[idc_by[low]]
        claim_attr = abac.entra_attribute(claim_source, users)
        target = abac.scim_target(idc_source)
        idc_attr = abac.mapped_source(mappings, target) if target else None
        if claim_attr is None or idc_attr is None or claim_attr.lower() != idc_attr.lower():
            differing.append({"key": claim_by[low], "claim_source": claim_source, "identity_center_source": idc_source,
                              "identity_center_entra_attribute": idc_attr})
    if differing:
        yield Hit(settings.app_subject, {"keys": differing},
                  detail="; ".join(f"{d['key']}: claim {d['claim_source']} vs Identity Center {d['identity_center_source']}"
                                   f" ({d['identity_center_entra_attribute'] or 'not traced to an Entra attribute'}, "
                                   "used)" for d in differing))
