"""Just-in-time access through PIM for Groups (source entra.pim_groups): an AWS group whose membership people
activate for a few hours. Provisioning copies Entra group memberships to Identity Center on its cycle (about 40
minutes) or on demand, so a membership reaches AWS late and outlives its activation until the next cycle; a PIM
group nested in an assigned group never reaches AWS at all. What Graph lists is what is in force at collection:
the activation checks judge the activations in force then, not the PIM policy itself."""

from __future__ import annotations

from datetime import timedelta
from typing import Iterator

import numpy as np
import pandas as pd

from idbridge.checks.base import Hit, check
from idbridge.checks.common import iso, plain, when
from idbridge.checks.controls import iso as iso27001, nist
from idbridge.model.access.activity import utc
from idbridge.model.access.build import TABLES as ACCESS_TABLES
from idbridge.model.access.build import access_model
from idbridge.model.pim import pim_state
from idbridge.model.scope import among, bridge, folded, text

PIM_TABLES = ("entra_pim_schedules", "entra_pim_instances")
MS_PIM_GROUPS = "https://learn.microsoft.com/en-us/entra/id-governance/privileged-identity-management/concept-pim-for-groups"
MS_PIM_SETTINGS = ("https://learn.microsoft.com/en-us/entra/id-governance/privileged-identity-management/"
                   "groups-role-settings")
MS_HOW = "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/how-provisioning-works"
MS_ON_DEMAND = "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/provision-on-demand"
GRAPH_PIM = "https://learn.microsoft.com/en-us/graph/api/resources/privilegedidentitymanagement-for-groups-api-overview"
AWS_SIGNIN_EVENTS = "https://docs.aws.amazon.com/singlesignon/latest/userguide/sso-info-in-cloudtrail.html"
SIGNINS_LISTED = 10


def _names(data) -> tuple[pd.Series, pd.Series]:
    users = data.table("entra_users")
    groups = data.table("entra_groups")
    return (pd.Series(users["userPrincipalName"].to_numpy(), index=text(users["id"]).to_numpy()),
            pd.Series(groups["displayName"].to_numpy(), index=text(groups["id"]).to_numpy()))


def _members_only(frame: pd.DataFrame) -> pd.DataFrame:
    """Membership rows (ownership of a group grants nothing in AWS)."""
    return frame[folded(frame["accessId"]).fillna("member").eq("member").to_numpy(dtype=bool)]


def pim_groups(data) -> set[str]:
    """Groups PIM manages: some principal is eligible for their membership."""
    schedules = _members_only(data.table("entra_pim_schedules"))
    instances = _members_only(data.table("entra_pim_instances"))
    eligible = pd.concat([schedules.loc[schedules["kind"] == "eligibility", "groupId"],
                          instances.loc[instances["kind"] == "eligibility", "groupId"]])
    return set(text(eligible).dropna())


def _activations(data) -> pd.DataFrame:
    """Activations in force at collection: assignment instances (else schedules) of type activated; one row per
    schedule (groupId, principalId, start, end)."""
    frames = []
    for table in ("entra_pim_instances", "entra_pim_schedules"):
        frame = _members_only(data.table(table))
        frame = frame[(frame["kind"] == "assignment") & folded(frame["assignmentType"]).eq("activated").fillna(False)]
        key = frame["scheduleId"] if "scheduleId" in frame else frame["id"]
        frames.append(pd.DataFrame({"key": text(key).fillna(text(frame["id"])).to_numpy(),
                                    "groupId": text(frame["groupId"]).to_numpy(),
                                    "principalId": text(frame["principalId"]).to_numpy(),
                                    "start": frame["startDateTime"].to_numpy(), "end": frame["endDateTime"].to_numpy()}))
    both = pd.concat(frames, ignore_index=True)
    return both.drop_duplicates("key", keep="first")


def _window_hits(data, settings, keep) -> Iterator[Hit]:
    upn, names = _names(data)
    by_user: dict[str, list[dict]] = {}
    for row in _activations(data).itertuples(index=False):
        start, end = when(row.start), when(row.end)
        if start is None or end is None:
            continue
        length = end - start
        if keep(length):
            by_user.setdefault(row.principalId, []).append({
                "group": plain(names.get(row.groupId, row.groupId)), "start": iso(start), "end": iso(end),
                "hours": round(length.total_seconds() / 3600, 2)})
    for principal, windows in sorted(by_user.items(), key=lambda kv: str(upn.get(kv[0], kv[0]))):
        windows.sort(key=lambda w: (w["group"], w["start"]))
        yield Hit(f"user:{upn.get(principal, principal)}", {"entraId": principal, "activations": windows},
                  detail="; ".join(f"{w['group']}: {w['hours']} h ({w['start']} → {w['end']})" for w in windows))


@check(id="access.pim_permanent_member", title="Permanent member of a PIM group that others activate just in time",
       passed="No one holds a permanent (never-expiring) active membership of a group whose membership PIM makes "
              "others activate just in time.",
       severity="medium", area="access", subject_kind="user",
       controls=nist("AC-6(5)", "AC-6") + iso27001("5.18", "8.2"),
       meaning="The group's access is meant to be held just in time (its members are eligible and activate for a "
               "few hours), yet this person holds it all the time: an active assignment with no end. Their AWS "
               "access through the group never lapses and needs no activation, justification or approval.",
       fix="In PIM for Groups, make the person eligible instead (Privileged Identity Management › Groups › the "
           "group › Assignments › Active › Update to eligible), or give the assignment an end date if standing "
           "access is an accepted exception.",
       references=(MS_PIM_GROUPS, GRAPH_PIM), tables=PIM_TABLES + ("entra_users", "entra_groups"))
def permanent_member(data, settings) -> Iterator[Hit]:
    managed = pim_groups(data)
    schedules = _members_only(data.table("entra_pim_schedules"))
    permanent = schedules[(schedules["kind"] == "assignment")
                          & folded(schedules["assignmentType"]).eq("assigned").fillna(False)
                          & schedules["endDateTime"].isna()
                          & among(schedules["groupId"], pd.Index(sorted(managed), dtype=object))]
    upn, names = _names(data)
    for principal, rows in sorted(permanent.groupby(text(permanent["principalId"])),
                                  key=lambda kv: str(upn.get(kv[0], kv[0]))):
        groups = sorted(str(names.get(g, g)) for g in text(rows["groupId"]))
        since = sorted(str(s) for s in rows["startDateTime"].dropna())
        yield Hit(f"user:{upn.get(principal, principal)}",
                  {"entraId": principal, "groups": groups, "since": since[0] if since else None},
                  detail="permanent active member of " + ", ".join(groups) + " (others there are eligible)")


@check(id="access.pim_activation_shorter_than_cycle",
       title="PIM activation shorter than a provisioning cycle: AWS access arrives late or never",
       passed="Every activation of a PIM group in force at collection lasts at least one provisioning cycle "
              "(checks.provisioning_cycle_minutes).",
       severity="low", area="access", subject_kind="user",
       controls=nist("AC-2(1)") + iso27001("5.18"),
       meaning="Provisioning copies a new membership to Identity Center at its next cycle. An activation shorter "
               "than a cycle may end before it reaches AWS: the person activated, waited, and never got access "
               "(or got it for minutes) — and people then ask for standing access instead.",
       fix="Raise the group's maximum activation duration in PIM (Groups › the group › Settings › Member) above "
           "the provisioning interval, or provision the person on demand right after activation "
           "(Provisioning › Provision on demand).",
       references=(MS_HOW, MS_ON_DEMAND, MS_PIM_SETTINGS), tables=PIM_TABLES + ("entra_users", "entra_groups"))
def activation_shorter_than_cycle(data, settings) -> Iterator[Hit]:
    cycle = timedelta(minutes=settings.checks.provisioning_cycle_minutes)
    yield from _window_hits(data, settings, lambda length: length < cycle)


@check(id="access.pim_activation_too_long", title="PIM activation longer than the allowed maximum",
       passed="No activation of a PIM group in force at collection lasts longer than checks.max_pim_activation_hours.",
       severity="medium", area="access", subject_kind="user",
       controls=nist("AC-6(5)", "AC-6") + iso27001("5.18", "8.2"),
       meaning="Just-in-time access is meant to be short. This activation gives the group's AWS access for longer "
               "than the engagement allows, and provisioning keeps it in Identity Center until the cycle after it "
               "ends.",
       fix="Lower the group's maximum activation duration in PIM (Groups › the group › Settings › Member › "
           "Activation maximum duration) to the allowed maximum.",
       references=(MS_PIM_SETTINGS, MS_PIM_GROUPS), tables=PIM_TABLES + ("entra_users", "entra_groups"))
def activation_too_long(data, settings) -> Iterator[Hit]:
    limit = timedelta(hours=settings.checks.max_pim_activation_hours)
    yield from _window_hits(data, settings, lambda length: length > limit)


@check(id="access.pim_membership_outlives_activation",
       title="Identity Center membership outlives the PIM activation",
       passed="Every Identity Center member of a PIM-managed group holds an active membership of it in Entra, or "
              "is not eligible for it at all (other drift is reconcile.group_membership's).",
       severity="high", area="access", subject_kind="user",
       graded={"medium": "the activation ended less than two provisioning cycles ago (the next cycle should "
                         "remove it)"},
       controls=nist("AC-2(3)", "AC-6(5)") + iso27001("5.18"),
       meaning="This person is eligible for the group and their activation has ended in Entra, yet Identity Center "
               "still has them in the group: they keep its AWS access until provisioning removes the membership "
               "(next cycle), or for as long as provisioning is stopped or failing.",
       fix="Provision the user on demand (Provisioning › Provision on demand) to remove the membership now; if it "
           "persists, check the provisioning job (provisioning.* findings) and remove the membership in Identity "
           "Center by hand.",
       references=(MS_HOW, MS_ON_DEMAND, MS_PIM_GROUPS),
       tables=PIM_TABLES + ("entra_users", "entra_groups", "entra_group_members", "idc_users", "idc_groups",
                            "idc_group_memberships"))
def membership_outlives_activation(data, settings) -> Iterator[Hit]:
    managed = pim_groups(data)
    if not managed:
        return
    model = bridge(data)
    schedules = _members_only(data.table("entra_pim_schedules"))
    instances = _members_only(data.table("entra_pim_instances"))
    eligible = {(g, p) for g, p, k in zip(text(pd.concat([schedules["groupId"], instances["groupId"]])),
                                          text(pd.concat([schedules["principalId"], instances["principalId"]])),
                                          pd.concat([schedules["kind"], instances["kind"]])) if k == "eligibility"}
    active = instances[instances["kind"] == "assignment"]
    in_force = set()
    ended: dict[tuple[str, str], object] = {}
    for g, p, end in zip(text(active["groupId"]), text(active["principalId"]), active["endDateTime"]):
        moment = when(end)
        if moment is None or moment > settings.now:
            in_force.add((g, p))
        else:  # Graph may still list an instance that ended moments before collection
            ended[(g, p)] = max(moment, ended.get((g, p), moment))
    members = data.table("entra_group_members")
    direct = members[folded(members["relation"]).eq("direct").fillna(False)]
    entra_members = set(zip(text(direct["groupId"]), text(direct["memberId"])))
    idc_to_entra_group = dict(zip(text(model.group_match["idcGroupId"]), text(model.group_match["entraGroupId"])))
    idc_to_entra_user = dict(zip(text(model.user_match["idcUserId"]), text(model.user_match["entraId"])))
    upn, names = _names(data)
    memberships = data.table("idc_group_memberships")
    found: dict[str, list[dict]] = {}
    for idc_group, idc_user in zip(text(memberships["groupId"]), text(memberships["userId"])):
        group, user = idc_to_entra_group.get(idc_group), idc_to_entra_user.get(idc_user)
        if group not in managed or user is None or (group, user) not in eligible:
            continue
        if (group, user) in in_force or (group, user) in entra_members:
            continue
        end = ended.get((group, user))
        found.setdefault(user, []).append({
            "group": plain(names.get(group, group)), "idcGroupId": idc_group, "idcUserId": idc_user,
            "activationEnded": iso(end) if end else None,
            "hoursSinceEnd": round((settings.now - end).total_seconds() / 3600, 1) if end else None})
    cycle = timedelta(minutes=settings.checks.provisioning_cycle_minutes)
    for user, rows in sorted(found.items(), key=lambda kv: str(upn.get(kv[0], kv[0]))):
        ends = [when(r["activationEnded"]) for r in rows if r["activationEnded"]]
        recent = bool(ends) and all(settings.now - e < 2 * cycle for e in ends)
        since = "; ".join(f"{r['group']}: ended {r['hoursSinceEnd']} h ago" if r["activationEnded"] else
                          f"{r['group']}: no activation in force (Graph lists only current ones; the provisioning "
                          "log tells when it ended)" for r in rows)
        yield Hit(f"user:{upn.get(user, user)}", {"entraId": user, "memberships": rows},
                  severity="medium" if recent else None, detail=since)


@check(id="access.pim_group_nested", title="PIM group nested in an assigned group: its members never reach AWS",
       passed="No group managed by PIM for Groups is reachable only by nesting inside a group assigned to the app.",
       severity="medium", area="access", subject_kind="group",
       controls=nist("AC-2(1)") + iso27001("5.16", "5.18"),
       meaning="People activate membership of this PIM group expecting AWS access, but the group is not assigned "
               "to the app: it is only nested in an assigned group, and provisioning neither follows nesting nor "
               "provisions nested groups. Activations here never reach Identity Center.",
       fix="Assign the PIM group itself to the AWS app (and give it its own account assignments), or make the "
           "assigned group the PIM-managed one.",
       references=(MS_HOW, MS_PIM_GROUPS), tables=PIM_TABLES + ("entra_groups", "entra_app_role_assignments",
                                                                "entra_group_members"))
def group_nested(data, settings) -> Iterator[Hit]:
    managed = pim_groups(data)
    schedules, instances = data.table("entra_pim_schedules"), data.table("entra_pim_instances")
    managed |= set(text(pd.concat([schedules["groupId"], instances["groupId"]])).dropna())
    assignments = data.table("entra_app_role_assignments")
    assigned = set(text(assignments.loc[folded(assignments["principalType"]).eq("group").fillna(False),
                                        "principalId"]))
    members = data.table("entra_group_members")
    nested = members[folded(members["memberType"]).eq("group").fillna(False)
                     & folded(members["relation"]).eq("transitive").fillna(False)]
    _, names = _names(data)
    outer_of: dict[str, set[str]] = {}
    for outer, inner in zip(text(nested["groupId"]), text(nested["memberId"])):
        if inner in managed and inner not in assigned and outer in assigned:
            outer_of.setdefault(inner, set()).add(str(names.get(outer, outer)))
    people = pd.concat([schedules[["groupId", "principalId"]], instances[["groupId", "principalId"]]])
    for group in sorted(outer_of, key=lambda g: str(names.get(g, g))):
        count = text(people.loc[text(people["groupId"]).eq(group).fillna(False).to_numpy(), "principalId"]).nunique()
        yield Hit(f"group:{names.get(group, group)}", {"entraGroupId": group, "nestedIn": sorted(outer_of[group]),
                                                       "pimPrincipals": int(count)},
                  detail="nested in " + ", ".join(sorted(outer_of[group])) + f"; {count} eligible or active")


@check(id="access.pim_signin_after_activation_ended",
       title="AWS sign-in after the person's PIM activation had ended",
       passed="No one signed in to the AWS access portal after their activation of a PIM group had ended while "
              "that group's membership, still in Identity Center, was their only route to AWS (as far as Graph "
              "still lists the ended activation).",
       severity="high", area="access", subject_kind="user",
       graded={"medium": "every such sign-in came within one provisioning cycle of the activation's end (the "
                         "membership was due to be removed at the next cycle)"},
       controls=nist("AC-2(3)", "AC-6(5)", "AU-6") + iso27001("5.18", "8.16"),
       meaning="This person's just-in-time access had ended in Entra — their activation of the PIM group was "
               "over — yet they signed in to AWS afterwards, and their only route to any account was that group's "
               "membership, which Identity Center still held. The sign-in used access PIM had already taken "
               "back: nothing in Entra (justification, approval, time limit) covered it. CloudTrail records the "
               "sign-in to the access portal, not which account the person then used.",
       fix="Ask the person what they did after signing in (each account's CloudTrail shows the role sessions); "
           "remove the lingering membership now (provision the user on demand, or remove it in Identity "
           "Center); and shorten the gap: check the provisioning job runs its cycles (provisioning.* findings) "
           "and, for sensitive groups, deprovision on demand when an activation ends.",
       references=(MS_HOW, MS_ON_DEMAND, MS_PIM_GROUPS, AWS_SIGNIN_EVENTS),
       tables=PIM_TABLES + ACCESS_TABLES + ("cloudtrail_events",))
def signin_after_activation_ended(data, settings) -> Iterator[Hit]:
    state = pim_state(data, settings.now)  # NotCollected: the runner says not checked
    ended = state.pairs[state.pairs["ended"].notna() & state.pairs["state"].isin(["eligible", "ended"])]
    if ended.empty:
        return
    events = data.table("cloudtrail_events")
    model = access_model(data, settings)
    access = model.access[model.access["effective"].to_numpy(dtype=bool)]
    if access.empty:
        return
    person = text(access["entra_user_id"].astype(object))
    held = access["membership"].astype(object).fillna("")
    lingering = held.str.startswith("PIM activation ended").to_numpy()
    # an activation in force now counts as a route from when it began; every other effective path always does
    since = state.pairs.set_index(["groupId", "principalId"])["since"]
    group = text(access["entra_group_id"].astype(object))
    began = pd.Series([since.get((g, p), pd.NaT) for g, p in zip(group, person)], index=access.index, dtype=object)
    active = held.str.startswith("active (PIM)").to_numpy()
    auth = events[text(events["eventName"]).eq("UserAuthentication").fillna(False).to_numpy()
                  & events["errorCode"].astype("string").fillna("").eq("").to_numpy()]
    times = utc(auth["eventTime"])
    by_id = text(auth["userId"]).to_numpy(dtype=object)
    by_name = folded(auth["userName"]).to_numpy(dtype=object)
    upn, names = _names(data)
    cycle = timedelta(minutes=settings.checks.provisioning_cycle_minutes)
    for user, pairs in sorted(ended.groupby("principalId"), key=lambda kv: str(upn.get(kv[0], kv[0]))):
        mine = (person == user).to_numpy()
        if not (mine & lingering).any():
            continue  # Identity Center no longer holds it: the sign-in reached no account through it
        idc_ids = set(text(access.loc[mine, "idc_user_id"].astype(object)).dropna())
        idc_names = set(folded(access.loc[mine, "idc_user_name"].astype(object)).dropna())
        own = np.isin(by_id, list(idc_ids)) | np.isin(by_name, list(idc_names))
        end = pairs["ended"].max()
        found = []
        for moment in sorted(t for t in times[own] if not pd.isna(t) and t > end):
            other = mine & ~lingering & ~(active & pd.Series([pd.isna(b) or b > moment for b in began],
                                                            index=access.index).to_numpy())
            if not other.any():
                found.append(moment)
        if not found:
            continue
        groups = sorted(str(names.get(g, g)) for g in pairs["groupId"])
        recent = all(moment - end < cycle for moment in found)
        hours = [round((m - end).total_seconds() / 3600, 1) for m in found]
        yield Hit(f"user:{upn.get(user, user)}",
                  {"entraId": user, "groups": groups, "activationEnded": iso(end.to_pydatetime()),
                   "signIns": [iso(m.to_pydatetime()) for m in found[:SIGNINS_LISTED]],
                   "signInsAfterEnd": len(found), "hoursAfterEnd": hours[:SIGNINS_LISTED]},
                  severity="medium" if recent else None,
                  detail=f"{len(found)} AWS sign-in(s) after the activation of {', '.join(groups)} ended "
                         f"({iso(end.to_pydatetime())}), the first {hours[0]} h after; no other route to AWS")
