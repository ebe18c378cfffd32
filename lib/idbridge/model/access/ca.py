"""Which Conditional Access policies require MFA for the AWS app, and whom they reach.

A policy counts when it is enabled (report-only enforces nothing), its applications include the AWS app (its appId,
or All) without excluding it, and its grant requires MFA: `mfa` among builtInControls with operator AND or as the
only control (with OR, a compliant device alone would do), or an authentication strength whose
requirementsSatisfied is "mfa" (grantControls.authenticationStrength; builtInControls is then empty). A policy
without grantControls (session controls only) requires nothing.

Who a policy reaches is known only as far as the collection goes: users by id, All, and groups whose membership
was collected (the groups assigned to the app). A person in a policy group whose membership was not collected
(an exclusion group, typically) is "unknown", never silently covered. Directory roles (includeRoles /
excludeRoles) are not resolved: a policy that targets roles does not "include nobody", and whether a person holds
one of its roles is "unknown".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from idbridge.model.scope import text


def _items(value) -> list[str]:
    if value is None or isinstance(value, float):
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _text(value) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def app_id(data) -> str | None:
    sp = data.table("entra_service_principal")
    ids = text(sp["appId"]).dropna()
    return ids.iloc[0] if len(ids) else None


def assess_policies(policies: pd.DataFrame, aws_app_id: str | None) -> list[dict]:
    """Every policy with `counts` (bool) and `why` (what it lacks), in the table's order."""
    out = []
    for _, policy in policies.iterrows():
        include = _items(policy.get("includeApplications"))
        exclude = _items(policy.get("excludeApplications"))
        controls = [c.lower() for c in _items(policy.get("builtInControls"))]
        operator = str(policy.get("grantOperator") or "OR").upper()
        strength = _text(policy.get("authenticationStrength"))
        requirements = _text(policy.get("authenticationStrengthRequirements"))
        # Older snapshots have the strength's name only: any strength there counted as MFA.
        has_strength = bool(strength) and (requirements is None or requirements.lower() == "mfa")
        problems = []
        if policy.get("state") != "enabled":
            problems.append(f"state is {policy.get('state')}, not enabled")
        if not (("All" in include or (aws_app_id and aws_app_id in include))
                and not (aws_app_id and aws_app_id in exclude)):
            problems.append("does not apply to the AWS app")
        mfa = has_strength or "mfa" in controls
        alone = operator == "AND" or len(controls) + bool(strength) == 1
        if not (mfa and alone):
            if strength and not has_strength:
                problems.append(f"its authentication strength {strength} satisfies {requirements}, not MFA")
            else:
                problems.append("does not require MFA" if not mfa else "MFA is one of several alternatives (OR)")
        users, groups = _items(policy.get("includeUsers")), _items(policy.get("includeGroups"))
        roles = _items(policy.get("includeRoles"))
        if (not users and not groups and not roles) or (users == ["None"] and not groups and not roles):
            problems.append("includes nobody")
        why = "; ".join(problems) or "requires MFA for the AWS app"
        if roles and not problems:
            why += f" (targets {len(roles)} directory role(s): not resolved)"
        out.append({"id": policy.get("id"), "displayName": policy.get("displayName"), "state": policy.get("state"),
                    "counts": not problems, "why": why,
                    "includeUsers": users, "includeGroups": groups, "includeRoles": roles,
                    "excludeUsers": _items(policy.get("excludeUsers")),
                    "excludeGroups": _items(policy.get("excludeGroups")),
                    "excludeRoles": _items(policy.get("excludeRoles"))})
    return out


def coverage(policy: dict, user_id: str, user_groups: set[str], known_groups: set[str], guest: bool) -> str:
    """"included", "excluded", "not included" or "unknown" for one user and one counting policy."""
    unknown = False
    if user_id in policy["excludeUsers"] or user_groups & set(policy["excludeGroups"]):
        return "excluded"
    # Directory role memberships are not collected: an excluded role may hold this user.
    if set(policy["excludeGroups"]) - known_groups or policy.get("excludeRoles"):
        unknown = True
    included = ("All" in policy["includeUsers"] or user_id in policy["includeUsers"]
                or (guest and "GuestsOrExternalUsers" in policy["includeUsers"])
                or bool(user_groups & set(policy["includeGroups"])))
    if not included and (set(policy["includeGroups"]) - known_groups or policy.get("includeRoles")):
        return "unknown"
    if not included:
        return "not included"
    return "unknown" if unknown else "included"


def memberships(data, user_ids) -> tuple[dict[str, set[str]], set[str], dict[str, str]]:
    """(user id -> collected groups it is in, directly or not; groups whose membership was collected;
    group id -> name)."""
    members = data.table("entra_group_members")
    group_id, member_id = text(members["groupId"]), text(members["memberId"])
    wanted = np.isin(member_id.to_numpy(dtype=object), np.asarray(list(user_ids), dtype=object))
    found: dict[str, set[str]] = {}
    for member, group in zip(member_id[wanted], group_id[wanted]):
        found.setdefault(member, set()).add(group)
    groups = data.table("entra_groups")
    names = dict(zip(text(groups["id"]), text(groups["displayName"])))
    return found, set(group_id.dropna()), names
