"""Access risk: who holds what in AWS through the bridge, read from the access model (model/access/build.py).

"Holds" means an effective path: AWS grants it today (the principal exists, Identity Center holds the membership,
the Identity Center user is enabled), whatever Entra says. Paths Entra suggests but AWS never grants (nested
groups, users not provisioned) are the provisioning checks' business, not access risk. "Privileged" is one
predicate for every check here: the permission set's effective privilege is admin (model/privilege.py): what its
policies and its permissions boundary allow together. A boundary only exempts a set when it is known to cap it
below admin; one that caps nothing (AdministratorAccess bounded by AdministratorAccess) or that cannot be read
(customer managed) does not.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Iterator

import numpy as np
import pandas as pd

from idbridge.checks.base import Hit, NotApplicable, check
from idbridge.checks.common import plain as _plain
from idbridge.checks.controls import cis_aws, cis_m365, iso, nist
from idbridge.model.access.activity import person_activity
from idbridge.model.access.build import TABLES as ACCESS_TABLES
from idbridge.model.access.build import access_model
from idbridge.model.access.ca import app_id, assess_policies, coverage, memberships
from idbridge.model.access.dims import USER, accounts_dim, optional_table, positions
from idbridge.model.access.views import among_values, matches
from idbridge.model.privilege import permission_set_levels
from idbridge.model.scope import among, flag, text
from idbridge.snapshot.store import NotCollected

MODEL = ACCESS_TABLES + ("idc_permission_set_policies",)
SETS = ("idc_permission_sets", "idc_permission_set_policies")
LIST_LIMIT = 25  # items per evidence list; the count says how many there are

AWS_PS = "https://docs.aws.amazon.com/singlesignon/latest/userguide/permissionsetsconcept.html"
AWS_ASSIGN = "https://docs.aws.amazon.com/singlesignon/latest/userguide/assignusers.html"
AWS_GROUPS = "https://docs.aws.amazon.com/singlesignon/latest/userguide/set-up-single-sign-on-access-to-accounts.html"
AWS_SESSION = "https://docs.aws.amazon.com/singlesignon/latest/userguide/howtosessionduration.html"
AWS_SIGNIN = "https://docs.aws.amazon.com/singlesignon/latest/userguide/understanding-sign-in-events.html"
AWS_DELETE_PS = "https://docs.aws.amazon.com/singlesignon/latest/userguide/howtodeletepermissionset.html"
IAM_BOUNDARY = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html"
IAM_PASSROLE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html"
IAM_BEST = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html"
WA_SOD = "https://docs.aws.amazon.com/wellarchitected/latest/security-pillar/sec_permissions_define.html"
MS_GUESTS = "https://learn.microsoft.com/en-us/entra/external-id/user-properties"
MS_REVIEWS = "https://learn.microsoft.com/en-us/entra/id-governance/access-reviews-overview"
MS_INACTIVE = ("https://learn.microsoft.com/en-us/entra/identity/monitoring-health/"
               "howto-manage-inactive-user-accounts")
MS_SIGNIN_ACTIVITY = "https://learn.microsoft.com/en-us/graph/api/resources/signinactivity"
MS_HOW = "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/how-provisioning-works"
MS_MFA_REG = "https://learn.microsoft.com/en-us/graph/api/resources/userregistrationdetails"
MS_CA_MFA = "https://learn.microsoft.com/en-us/entra/identity/conditional-access/policy-all-users-mfa-strength"
MS_CA_REPORT = ("https://learn.microsoft.com/en-us/entra/identity/conditional-access/"
                "concept-conditional-access-report-only")


# --------------------------------------------------------------------------------------------- helpers


def _capped(values) -> list:
    values = sorted({str(v) for v in values if _plain(v) is not None})
    return values[:LIST_LIMIT] + ([f"... and {len(values) - LIST_LIMIT} more"] if len(values) > LIST_LIMIT else [])


def _held(data, settings, where=None) -> pd.DataFrame:
    """Effective paths (and `where`, a bool array over the access table), with `person`: the subject's name
    (UPN, else Identity Center user name)."""
    model = access_model(data, settings)
    keep = model.access["effective"].to_numpy(dtype=bool)
    if where is not None:
        keep = keep & where
    return model.access[keep].assign(person=model.person.array[keep])  # stays categorical


def _account_labels(rows: pd.DataFrame) -> pd.Series:
    names = rows["account_name"].astype(object)
    ids = rows["account_id"].astype(object)
    return pd.Series([f"{n} ({i})" if isinstance(n, str) else str(i) for n, i in zip(names, ids)], index=rows.index)


def _through(rows: pd.DataFrame) -> list[str]:
    kinds = rows["idc_principal_type"].astype(object)
    names = rows["idc_principal_name"].astype(object)
    return _capped({f"group {n}" if k == "GROUP" else "direct assignment" for k, n in zip(kinds, names)})


def _summary(rows: pd.DataFrame) -> dict:
    accounts = _account_labels(rows)
    return {"permission_sets": _capped(rows["permission_set_name"].astype(object)),
            "accounts": _capped(accounts), "account_count": int(accounts.nunique()),
            "through": _through(rows), "production": bool(rows["is_production"].any()),
            "highest_privilege": str(rows.loc[rows["privilege_rank"].idxmax(), "privilege"]) if len(rows) else None}


def _per_person(rows: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
    for person, group in rows.groupby("person", observed=True, sort=True):
        yield str(person), group


def _account(dims, position: int, with_id: bool = True) -> str:
    """An account of the dimension table as "name (id)", or its id when the organisation did not name it."""
    name, account_id = _plain(dims.accounts["name"].iloc[position]), dims.accounts["accountId"].iloc[position]
    if not name:
        return str(account_id)
    return f"{name} ({account_id})" if with_id else str(name)


def _privileged(sets: pd.DataFrame) -> np.ndarray:
    """Effective privilege admin: the boundary, when it caps the set, has already lowered the level."""
    return sets["privilege"].eq("admin").to_numpy(dtype=bool)


# --------------------------------------------------------------------------------------------- privilege


@check(id="access.privileged_permission_set", title="Admin-equivalent permission set",
       passed="No permission set is rated admin-equivalent by its AWS managed and inline policies without a "
              "permissions boundary (customer managed policies cannot be read from Identity Center).",
       severity="high", area="access", subject_kind="permission_set",
       controls=nist("AC-6", "AC-6(5)") + iso("8.2") + cis_aws("1.16"),
       meaning="Whoever holds this permission set can do anything in the accounts it is assigned on, or give "
               "themselves that power (AdministratorAccess or IAMFullAccess, `*` on `*`, IAM writes or "
               "iam:PassRole on all resources), and no permissions boundary is known to cap it: none, one that "
               "allows as much (AdministratorAccess), or a customer managed one that cannot be read. Every "
               "assignment of it is an administrator, whatever the group is called.",
       fix="Keep admin-equivalent sets to a named break-glass / platform group, on the accounts that need them; "
           "replace wildcards with the actions needed (IAM Access Analyzer can generate a policy from activity); "
           "scope iam:PassRole to the roles it must pass; or attach a permissions boundary that excludes IAM and "
           "Organizations (e.g. PowerUserAccess, or a Deny of iam:* and organizations:*) to the set.",
       references=(AWS_PS, IAM_BOUNDARY, IAM_PASSROLE, IAM_BEST), tables=SETS + ("idc_account_assignments",))
def privileged_permission_set(data, settings) -> Iterator[Hit]:
    sets = permission_set_levels(data)
    sets = sets[_privileged(sets)]
    if sets.empty:
        return
    assignments = data.table("idc_account_assignments")
    arns = text(assignments["permissionSetArn"])
    assignments = assignments[among(arns, sets["permissionSetArn"])]  # only the privileged sets' assignments
    accounts = accounts_dim(data, assignments["accountId"], settings.checks.production)
    production = set(accounts.loc[accounts["is_production"], "accountId"])
    names = dict(zip(accounts["accountId"], accounts["name"]))
    where: dict[str, set] = {}
    for arn, account in zip(text(assignments["permissionSetArn"]), text(assignments["accountId"])):
        where.setdefault(arn, set()).add(account)
    for _, ps in sets.sort_values("name").iterrows():
        used = where.get(ps["permissionSetArn"], set())
        evidence = {"permissionSetArn": ps["permissionSetArn"], "privilege": ps["privilege"],
                    "reasons": list(ps["reasons"]), "managed_policies": list(ps["managed_policies"]),
                    "inline_policy": bool(ps["has_inline_policy"]), "boundary": _plain(ps["boundary"]),
                    "assigned_accounts": len(used),
                    "production_accounts": _capped(f"{_plain(names.get(a)) or a} ({a})" for a in used & production)}
        bounded = "" if _plain(ps["boundary"]) else "; no permissions boundary"
        yield Hit(f"permission_set:{ps['name']}", evidence, detail="; ".join(ps["reasons"]) + bounded)


@check(id="access.privileged_prod_access", title="Admin-equivalent access to a production account",
       passed="No Identity Center user or group is assigned an admin-equivalent permission set without a permissions "
              "boundary on an account the parameters count as production (checks.production).",
       severity="high", area="access", subject_kind="group / user",
       controls=nist("AC-6", "AC-6(5)", "AC-6(7)") + iso("5.15", "8.2"),
       meaning="This group or user is assigned an admin-equivalent permission set (see "
               "access.privileged_permission_set) on accounts the engagement counts as production (tags / OUs in "
               "the parameters): everyone behind it can change or destroy production and its logs. Power-user "
               "sets are not reported here: they cannot change IAM, and show in the privilege matrix.",
       fix="Confirm each member needs standing admin on production; prefer a read-only or scoped set for daily "
           "work and time-bound elevation (Entra PIM for Groups on the admin group) for the rest; remove direct "
           "user assignments.",
       references=(AWS_GROUPS, IAM_BEST, MS_REVIEWS), tables=MODEL + ("org_accounts",))
def privileged_prod_access(data, settings) -> Iterator[Hit]:
    model = access_model(data, settings)
    dims = model.dims
    a = dims.assignments
    a = a[a["principal"].to_numpy() >= 0]
    hot = _privileged(dims.sets)[a["ps"].to_numpy()] & dims.accounts["is_production"].to_numpy()[a["acc"].to_numpy()]
    a = a[hot]
    held = _held(data, settings, among_values(model.access["idc_principal_id"], set(a["principal_id"])))
    members = held.groupby("idc_principal_id", observed=True)["person"].nunique()
    found = []
    for (ptype, principal), rows in a.groupby(["ptype", "principal"], sort=False):
        if ptype == USER:
            idc = dims.idc_users.iloc[principal]
            u = idc["entra"]
            name = dims.users["upn"].iloc[u] if u >= 0 else idc["userName"]
            subject, principal_id = f"user:{name}", idc["userId"]
        else:
            group = dims.idc_groups.iloc[principal]
            subject, principal_id = f"group:{group['displayName']}", group["groupId"]
        sets = sorted(dims.sets["name"].iloc[rows["ps"]].dropna().unique())
        accounts = [_account(dims, i) for i in sorted(rows["acc"].unique())]
        evidence = {"principalType": "USER" if ptype == USER else "GROUP", "principalId": principal_id,
                    "permission_sets": sets, "production_accounts": _capped(accounts),
                    "production_account_count": len(accounts),
                    "people_holding_it": int(members.get(principal_id, 0))}
        found.append(Hit(subject, evidence, detail=f"{', '.join(sets)} on {len(accounts)} production account(s)"))
    yield from sorted(found, key=lambda h: h.subject)


@check(id="access.direct_user_assignment", title="Account assignment to a user, bypassing groups",
       passed="No account assignment goes to an individual Identity Center user rather than a group (assignments to "
              "users that no longer exist are reconcile.orphaned_assignment).",
       severity="medium", area="access", subject_kind="user",
       controls=nist("AC-2", "AC-6") + iso("5.15", "5.18"),
       graded={"high": "an assignment gives the user an admin-equivalent permission set"},
       meaning="Access granted to one user rather than a group is invisible to group-based access reviews and "
               "Entra lifecycle rules, and tends to outlive its reason (an incident, a pilot).",
       fix="Move the access to a group that expresses the need (assigned to the app, reviewed) and delete the user "
           "assignment; if it was temporary, delete it.",
       references=(AWS_ASSIGN, AWS_GROUPS), tables=MODEL)
def direct_user_assignment(data, settings) -> Iterator[Hit]:
    dims = access_model(data, settings).dims
    a = dims.assignments
    a = a[(a["ptype"].to_numpy() == USER) & (a["principal"].to_numpy() >= 0)]
    privileged = _privileged(dims.sets)
    found = []
    for principal, rows in a.groupby("principal", sort=False):
        idc = dims.idc_users.iloc[principal]
        u = idc["entra"]
        name = dims.users["upn"].iloc[u] if u >= 0 else idc["userName"]
        grants = sorted(f"{dims.sets['name'].iloc[p]} on {_account(dims, c, with_id=False)}"
                        for p, c in zip(rows["ps"], rows["acc"]))
        admin = bool(privileged[rows["ps"].to_numpy()].any())
        evidence = {"idcUserName": idc["userName"], "idcUserId": idc["userId"], "in_entra": bool(u >= 0),
                    "assignments": _capped(grants), "assignment_count": len(grants), "admin_equivalent": admin}
        found.append(Hit(f"user:{name}", evidence, severity="high" if admin else None,
                         detail="assigned " + ", ".join(grants[:3]) + (" ..." if len(grants) > 3 else "")))
    yield from sorted(found, key=lambda h: h.subject)


# --------------------------------------------------------------------------------------------- who holds it


@check(id="access.guest_access", title="Guest user with AWS access",
       passed="No Entra guest (userType Guest) holds AWS access through an effective path (the principal exists, "
              "Identity Center holds the membership, the Identity Center user is enabled).",
       severity="medium", area="access", subject_kind="user",
       controls=nist("AC-2", "IA-8", "PS-7") + iso("5.16", "5.18"),
       meaning="A B2B guest (another organisation's account) holds AWS access: its lifecycle follows the partner's "
               "directory, not yours, and it leaves no trace in your HR process.",
       fix="Confirm the engagement still needs it and who sponsors it; put guests in their own groups with an "
           "expiry (Entra access reviews or entitlement management) and read-only sets where possible.",
       references=(MS_GUESTS, MS_REVIEWS), tables=MODEL)
def guest_access(data, settings) -> Iterator[Hit]:
    guests = _held(data, settings, matches(access_model(data, settings).access["user_type"], "guest"))
    for person, rows in _per_person(guests):
        summary = _summary(rows)
        yield Hit(f"user:{person}", {"userType": "Guest", **summary},
                  detail=f"{', '.join(summary['permission_sets'])} through {', '.join(summary['through'])}")


@check(id="access.disabled_user_access", title="Disabled or deleted Entra user still holding AWS access",
       passed="No user disabled in Entra, or SCIM-made and no longer matched by an Entra user, holds AWS access "
              "through an enabled Identity Center user.",
       severity="high", area="access", subject_kind="user",
       controls=nist("AC-2(3)", "PS-4") + iso("5.16", "5.18"),
       meaning="The person left or was blocked in Entra, but Identity Center still has an enabled user with these "
               "memberships and assignments: the access survives wherever Entra is not in the way (sessions "
               "already open, a later SAML or SCIM mistake), and reviews still count it.",
       fix="Let a provisioning cycle disable the user (or provision on demand); for users deleted in Entra, "
           "disable or delete the Identity Center user and remove its assignments.",
       references=(MS_HOW, AWS_ASSIGN), tables=MODEL)
def disabled_user_access(data, settings) -> Iterator[Hit]:
    gone = _held(data, settings, among_values(access_model(data, settings).access["entra_state"],
                                              ["disabled", "deleted"]))
    for person, rows in _per_person(gone):
        state, summary = str(rows["entra_state"].iloc[0]), _summary(rows)
        yield Hit(f"user:{person}", {"entra_state": state, "idcUserStatus": _plain(rows["idc_user_status"].iloc[0]),
                                     **summary},
                  detail=f"{state} in Entra, still holds {', '.join(summary['permission_sets'])} through "
                         f"{', '.join(summary['through'])}")


def _person_positions(dims, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    u = positions(rows["entra_user_id"].astype(object), pd.Index(dims.users["id"], dtype=object))
    i = positions(rows["idc_user_id"].astype(object), pd.Index(dims.idc_users["userId"], dtype=object))
    return u, i


@check(id="access.stale_user", title="No sign-in for a long time, still holding AWS access",
       passed="Everyone holding AWS access (active Entra users, and Identity Center users made by hand) signed in to "
              "Entra or the AWS access portal, or was created, within checks.stale_after_days (90 by default) before "
              "collection.",
       severity="medium", area="access", subject_kind="user",
       controls=nist("AC-2", "AC-2(3)", "AU-6") + iso("5.18", "8.16"),
       meaning="Nobody has used this identity for longer than the stale horizon on either side: no Entra sign-in "
               "(signInActivity, any application, or the AWS app in the window) and no AWS access-portal sign-in "
               "(CloudTrail UserAuthentication in the window). Access nobody uses is pure risk. A user with no "
               "sign-in anywhere counts from its creation, so new joiners are not reported.",
       fix="Ask the manager whether the access is still needed; remove the user from the groups (or the "
           "assignments), and review the Entra account itself.",
       references=(MS_INACTIVE, MS_SIGNIN_ACTIVITY, AWS_SIGNIN),
       tables=MODEL + ("entra_sign_in_activity", "cloudtrail_events"))
def stale_user(data, settings) -> Iterator[Hit]:
    model = access_model(data, settings)
    dims, access = model.dims, model.access
    keep = access["effective"].to_numpy(dtype=bool) & among_values(access["entra_state"], ["active", "not_in_entra"])
    codes = pd.Series(np.where(keep, model.person.cat.codes.to_numpy(), -1))
    first = codes.drop_duplicates().index.to_numpy()  # a row per person (hashing the codes, no sort)
    first = first[keep[first]]
    if not len(first):
        return
    people = access.iloc[first][["entra_user_id", "idc_user_id"]].assign(
        person=model.person.iloc[first].astype(object).to_numpy()).reset_index(drop=True)
    u, i = _person_positions(dims, people)
    if len(dims.users):  # an Entra user's sign-ins on the AWS side are its Identity Center user's
        i = np.where(u >= 0, dims.users["idc"].to_numpy()[np.clip(u, 0, None)], i)
    frame = person_activity(data, dims, u, i).assign(person=people["person"].astype(object))
    last = frame["last"]
    reference = last.fillna(frame["created"])  # never signed in: the clock starts at creation
    now = pd.Timestamp(settings.now)
    horizon = now - timedelta(days=settings.checks.stale_after_days)
    stale = frame[(reference.isna() | (reference < horizon)).to_numpy()]
    paths = dict(_per_person(_held(data, settings, keep & among_values(model.person, set(stale["person"])))))
    for index, row in stale.sort_values("person").iterrows():
        rows = paths[row["person"]]
        ref = reference.loc[index]
        days = None if pd.isna(ref) else int((now - ref).days)
        evidence = {"last_entra_sign_in": _plain(row["entra_last"]), "last_aws_app_sign_in": _plain(row["app_last"]),
                    "last_aws_sign_in": _plain(row["aws_last"]), "created": _plain(row["created"]),
                    "days_inactive": days, "stale_after_days": settings.checks.stale_after_days,
                    "entra_state": str(rows["entra_state"].iloc[0]), **_summary(rows)}
        if pd.isna(last.loc[index]):
            detail = (f"never signed in; created {_plain(row['created'])[:10]}" if days is not None
                      else "no sign-in and no creation date on either side")
        else:
            detail = f"last sign-in on either side {_plain(last.loc[index])[:10]} ({days} days ago)"
        yield Hit(f"user:{row['person']}", evidence, detail=detail)


# --------------------------------------------------------------------------------------------- MFA


def _counting_policies(data) -> list[dict] | None:
    try:
        policies = data.table("entra_ca_policies")
        return [p for p in assess_policies(policies, app_id(data)) if p["counts"]]
    except (NotCollected, KeyError):
        return None


@check(id="access.no_mfa", title="User with AWS access and no MFA method registered",
       passed="No active Entra user holding AWS access is marked as having no MFA method registered (isMfaRegistered "
              "false) in Entra's registration details.",
       severity="high", area="access", subject_kind="user",
       controls=nist("IA-2(1)", "IA-2(2)") + iso("5.17", "8.5") + cis_m365("5.2.3.4"),
       meaning="This person holds AWS access and has no MFA method registered in Entra: a password alone reaches "
               "AWS where Conditional Access does not demand MFA, and where it does, whoever has the password first "
               "registers their own method. The evidence says how each MFA policy for the AWS app treats the user.",
       fix="Have the user register a phishing-resistant method (or issue a Temporary Access Pass to do so); remove "
           "them from MFA exclusion groups; then require MFA for the AWS app for everyone (access.no_ca_mfa).",
       references=(MS_MFA_REG, MS_CA_MFA), tables=MODEL + ("entra_mfa_registration",))
def no_mfa(data, settings) -> Iterator[Hit]:
    access = access_model(data, settings).access
    registration = data.table("entra_mfa_registration")
    unregistered = text(registration["id"])[registration["isMfaRegistered"].astype("boolean").eq(False)
                                            .fillna(False).to_numpy()]
    rows_without = _held(data, settings, among_values(access["entra_state"], ["active"])
                         & among_values(access["entra_user_id"], set(unregistered.dropna())))
    if rows_without.empty:
        return
    methods = pd.Series(registration["methodsRegistered"].to_numpy(), index=text(registration["id"]).to_numpy())
    policies = _counting_policies(data)
    user_ids = set(rows_without["entra_user_id"].astype(object))
    groups_of, known, group_names = memberships(data, user_ids) if policies else ({}, set(), {})
    for person, rows in _per_person(rows_without):
        entra_id = str(rows["entra_user_id"].iloc[0])
        guest = str(rows["user_type"].iloc[0]).lower() == "guest"
        ca = {p["displayName"]: coverage(p, entra_id, groups_of.get(entra_id, set()), known, guest)
              for p in policies} if policies is not None else None
        registered_methods = methods.get(entra_id)
        evidence = {"isMfaRegistered": False,
                    "methodsRegistered": [str(m) for m in registered_methods]
                    if isinstance(registered_methods, (list, np.ndarray)) else [],
                    "mfa_policies_for_aws": ca if ca is not None else "Conditional Access not collected",
                    **_summary(rows)}
        if ca:
            unknown = sorted({group_names.get(g, g) for p in policies for g in p["excludeGroups"] if g not in known})
            if unknown:
                evidence["exclusion_groups_not_collected"] = unknown
            states = ", ".join(f"{state} in {name}" for name, state in ca.items())
        else:
            states = "no MFA policy for the AWS app" if ca == {} else "Conditional Access not collected"
        yield Hit(f"user:{person}", evidence, detail=f"no MFA method registered; {states}")


@check(id="access.no_ca_mfa", title="No Conditional Access policy requires MFA for the AWS app",
       passed="At least one enabled Conditional Access policy that applies to the AWS app (its app id or All) and "
              "includes users or groups requires MFA or an authentication strength (who it covers is judged per user "
              "in access.no_mfa).",
       severity="high", area="access", subject_kind="app",
       controls=nist("IA-2(1)", "IA-2(2)") + iso("8.5") + cis_m365("5.2.2.2"),
       meaning="No enabled Conditional Access policy requires MFA (or an authentication strength) for the AWS IAM "
               "Identity Center app: Entra lets people into AWS with whatever the tenant's defaults allow, often a "
               "password. Report-only policies enforce nothing. Gaps for single users (exclusion groups) are shown "
               "in access.no_mfa for those without MFA.",
       fix="Create (or switch from report-only to On) a policy: target the AWS IAM Identity Center app (or All "
           "resources), all users with a break-glass exclusion, grant: require multifactor authentication or an "
           "authentication strength.",
       references=(MS_CA_MFA, MS_CA_REPORT), tables=("entra_ca_policies", "entra_service_principal"))
def no_ca_mfa(data, settings) -> Iterator[Hit]:
    aws = app_id(data)
    policies = assess_policies(data.table("entra_ca_policies"), aws)
    counting = [p for p in policies if p["counts"]]
    if counting:
        return
    named = [p for p in policies if "does not apply to the AWS app" not in p["why"]]
    evidence = {"appId": aws, "policies_for_the_app": [{"displayName": p["displayName"], "state": p["state"],
                                                        "why": p["why"]} for p in named],
                "other_policies": len(policies) - len(named)}
    detail = ("; ".join(f"{p['displayName']}: {p['why']}" for p in named) if named
              else "no policy applies to the AWS app")
    yield Hit(settings.app_subject, evidence, detail=detail)


# --------------------------------------------------------------------------------------------- permission sets


@check(id="access.long_session", title="Permission set session longer than allowed",
       passed="No permission set has a session duration longer than checks.max_session_hours (8 hours by default).",
       severity="low", area="access", subject_kind="permission_set",
       controls=nist("AC-12", "IA-11") + iso("8.5"),
       meaning="Sessions of this permission set last longer than the engagement's maximum: a stolen session (or a "
               "laptop left open) stays useful that long, and removing someone's access does not end it.",
       fix="Lower the permission set's session duration (Permission sets › the set › Edit) to what the work needs, "
           "then re-provision it to its accounts.",
       references=(AWS_SESSION,), tables=("idc_permission_sets",))
def long_session(data, settings) -> Iterator[Hit]:
    sets = permission_set_levels(data)
    limit = settings.checks.max_session_hours
    for _, ps in sets[sets["session_hours"].gt(limit).to_numpy()].sort_values("name").iterrows():
        yield Hit(f"permission_set:{ps['name']}",
                  {"sessionDuration": ps["session_duration"], "hours": float(ps["session_hours"]),
                   "max_session_hours": limit, "privilege": ps["privilege"]},
                  detail=f"session duration {ps['session_duration']} ({ps['session_hours']:g} h > {limit:g} h)")


@check(id="access.unused_permission_set", title="Permission set assigned nowhere",
       passed="Every permission set has at least one account assignment to a user or group that exists in Identity "
              "Center.",
       severity="low", area="access", subject_kind="permission_set",
       controls=nist("AC-6", "AC-6(7)") + iso("5.18"),
       meaning="No account assignment uses this permission set (or only assignments to principals that no longer "
               "exist): it grants nothing today, but anyone who can assign sets can hand it out unreviewed, and "
               "it may still be provisioned as a role in accounts.",
       fix="Delete the permission set if nobody needs it (remove it from the accounts it is provisioned to "
           "first); otherwise document why it is kept.",
       references=(AWS_DELETE_PS, AWS_PS), tables=("idc_permission_sets", "idc_account_assignments", "idc_users",
                                                    "idc_groups"))
def unused_permission_set(data, settings) -> Iterator[Hit]:
    sets = data.table("idc_permission_sets")
    assignments = data.table("idc_account_assignments")
    users, groups = text(data.table("idc_users")["userId"]), text(data.table("idc_groups")["groupId"])
    kind, principal = text(assignments["principalType"]).str.upper(), text(assignments["principalId"])
    alive = (flag(kind.eq("USER")) & among(principal, users)) | (flag(kind.eq("GROUP")) & among(principal, groups))
    used = set(text(assignments["permissionSetArn"])[alive])
    dangling = set(text(assignments["permissionSetArn"])[~alive])
    status = optional_table(data, "idc_permission_set_provisioning", ("permissionSetArn", "accountId", "status"))
    provisioned = status.groupby(text(status["permissionSetArn"]))["accountId"].agg(lambda s: sorted(text(s)))
    for _, ps in sets.assign(_name=text(sets["name"])).sort_values("_name").iterrows():
        arn = str(ps["permissionSetArn"])
        if arn in used:
            continue
        evidence = {"permissionSetArn": arn, "created": _plain(ps.get("createdDate")),
                    "only_orphaned_assignments": arn in dangling,
                    "provisioned_to_accounts": list(provisioned.get(arn, []))}
        yield Hit(f"permission_set:{ps['_name']}", evidence,
                  detail="only assigned to principals that no longer exist" if arn in dangling else "assigned nowhere")


# --------------------------------------------------------------------------------------------- separation of duties


@check(id="access.sod_conflict", title="One person holds two incompatible permission sets",
       passed="Nobody holds, through effective paths, both permission sets of any pair declared in "
              "checks.sod_conflicts.",
       severity="high", area="access", subject_kind="user",
       controls=nist("AC-5") + iso("5.3"),
       meaning="The parameters declare these two permission sets incompatible (checks.sod_conflicts), and this "
               "person holds both, anywhere in the organisation: one person can do and hide, or do and approve. "
               "Without declared pairs the check is not run.",
       fix="Remove one of the two from the person (usually the group membership that grants it); if both are "
           "needed, document the exception and its compensating control.",
       references=(WA_SOD, MS_REVIEWS), tables=MODEL)
def sod_conflict(data, settings) -> Iterator[Hit]:
    pairs = [(str(a), str(b)) for a, b in settings.checks.sod_conflicts or []]
    if not pairs:
        raise NotApplicable("no pair of incompatible permission sets declared (checks.sod_conflicts)")
    names = access_model(data, settings).access["permission_set_name"]
    found = []
    for first, second in pairs:
        if first.casefold() == second.casefold():
            continue
        one_rows = _held(data, settings, matches(names, first))
        two_rows = _held(data, settings, matches(names, second))
        both = set(one_rows["person"].astype(object)) & set(two_rows["person"].astype(object))
        ones = dict(_per_person(one_rows[one_rows["person"].isin(both).to_numpy()]))
        twos = dict(_per_person(two_rows[two_rows["person"].isin(both).to_numpy()]))
        for person in sorted(both):
            one, two = ones[person], twos[person]
            overlap = sorted(set(_account_labels(one)) & set(_account_labels(two)))
            evidence = {"pair": [first, second],
                        first: {"through": _through(one), "accounts": _capped(_account_labels(one))},
                        second: {"through": _through(two), "accounts": _capped(_account_labels(two))},
                        "accounts_with_both": _capped(overlap)}
            found.append(Hit(f"user:{person}", evidence,
                             detail=f"{first} ({', '.join(_through(one))}) and {second} ({', '.join(_through(two))})"))
    yield from sorted(found, key=lambda h: h.subject)
