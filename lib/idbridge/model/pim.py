"""PIM for Groups read from a snapshot (source entra.pim_groups): per (Entra group, person), how the membership is
held at collection time.

    state = pim_state(snapshot, now)     # raises NotCollected when entra.pim_groups was not collected
    state.pairs                          # groupId, principalId, state, since, until, eligible_until, ended
    state.managed                        # groups PIM manages: someone is eligible for their membership

States of a pair (the first that applies):
    permanent   an active assignment in force with no end (an admin made the person a member for good)
    active      an active assignment in force that ends (`until`; it began `since`): an activation, or a
                time-bound assignment
    eligible    an eligibility in force (`eligible_until`, empty when it never ends) and nothing active
    ended       nothing in force; an active assignment Graph still lists ended before collection (`ended`)
A group no one is eligible for is not PIM-managed: its members hold their membership as standing access, whatever
PIM lists. The schedules and instances list only what is in force or still to come (and, briefly, what ended
moments ago); the assignment schedule requests (entra_pim_requests, the collection window's) are the history:
activation_windows() derives from them when each past activation began and ended, and `ended` is the latest end
either tells. Without requests (a snapshot from before they were collected) a pair whose activation ended earlier
has no end here, only its eligibility. Only memberships count (accessId member): owning a group grants nothing in
AWS.

    state.activations                    # groupId, principalId, start, end, how: every activation known, from
                                         # the requests and the instances (end NaT: none asked, never ends)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from idbridge.model.access.activity import utc
from idbridge.model.scope import folded, text
from idbridge.snapshot.store import NotCollected

SOURCE = "entra.pim_groups"
TABLES = ("entra_pim_schedules", "entra_pim_instances")
HISTORY = "entra_pim_requests"  # optional: snapshots from before it was collected lack it
ACTIVATION_COLUMNS = ("groupId", "principalId", "start", "end", "how")
# Request statuses of a request that never took effect (PIM's request statuses, privilegedAccessSchedule.status).
NEVER_IN_FORCE = frozenset(s.casefold() for s in ("Canceled", "Denied", "Failed", "PendingAdminDecision",
                                                  "PendingApproval", "PendingProvisioning",
                                                  "PendingScheduleCreation"))
# Requests that end an activation in force before its time: the person's own deactivation, or an admin's removal.
ENDING_ACTIONS = frozenset({"selfdeactivate", "adminremove"})
STATES = ("permanent", "active", "eligible", "ended")
PAIR_COLUMNS = ("groupId", "principalId", "state", "since", "until", "eligible_until", "ended")


@dataclass(frozen=True)
class PimState:
    pairs: pd.DataFrame      # PAIR_COLUMNS, one row per (groupId, principalId) with a state
    managed: frozenset[str]  # group ids someone is eligible for
    activations: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(ACTIVATION_COLUMNS)))


def _tables(data) -> tuple[pd.DataFrame, pd.DataFrame]:
    try:
        return data.table("entra_pim_schedules"), data.table("entra_pim_instances")
    except KeyError:  # a snapshot from before the source existed
        raise NotCollected(SOURCE, "not in this snapshot (taken before idbridge collected PIM for Groups)") from None


def _windows(schedules: pd.DataFrame, instances: pd.DataFrame) -> pd.DataFrame:
    """Membership windows from both lists: groupId, principalId, kind, start, end (UTC, NaT = open)."""
    frames = []
    for frame in (instances, schedules):
        member = folded(frame["accessId"]).fillna("member").eq("member").to_numpy(dtype=bool)
        frame = frame[member]
        frames.append(pd.DataFrame({"groupId": text(frame["groupId"]).to_numpy(),
                                    "principalId": text(frame["principalId"]).to_numpy(),
                                    "kind": folded(frame["kind"]).to_numpy(),
                                    "start": utc(frame["startDateTime"]).to_numpy(),
                                    "end": utc(frame["endDateTime"]).to_numpy()}))
    both = pd.concat(frames, ignore_index=True)
    both["start"] = pd.to_datetime(both["start"], utc=True)
    both["end"] = pd.to_datetime(both["end"], utc=True)
    return both.dropna(subset=["groupId", "principalId"])


def _utc(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype=object), utc=True, errors="coerce")


def activation_windows(requests: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Every activation (selfActivate) the requests record that took effect: ACTIVATION_COLUMNS, `how` one of
    "expired" (it ran its time), "deactivated" (ended early by selfDeactivate or adminRemove), "in force".
    An activation runs from its schedule's start to the earliest of its end date, start + duration and the first
    deactivation of the same membership after it began."""
    empty = pd.DataFrame(columns=list(ACTIVATION_COLUMNS))
    if requests is None or requests.empty:
        return empty
    member = folded(requests["accessId"]).fillna("member").eq("member").to_numpy(dtype=bool)
    took = ~folded(requests["status"]).fillna("").isin(NEVER_IN_FORCE).to_numpy(dtype=bool)
    requests = requests[member & took]
    action = folded(requests["action"]).fillna("").to_numpy(dtype=object)
    created = _utc(requests["createdDateTime"].to_numpy())
    done = _utc(requests["completedDateTime"].to_numpy()).fillna(created)
    start = _utc(requests["startDateTime"].to_numpy()).fillna(done)
    asked = _utc(requests["endDateTime"].to_numpy())
    lasting = pd.to_timedelta(pd.Series(requests["duration"].to_numpy(), dtype=object), errors="coerce")
    asked = asked.fillna(start + lasting)  # ISO 8601 durations ("PT4H"); NaT when neither is given
    group = text(requests["groupId"]).to_numpy(dtype=object)
    person = text(requests["principalId"]).to_numpy(dtype=object)
    stops: dict[tuple, list] = {}
    for g, p, a, at in zip(group, person, action, done):
        if a in ENDING_ACTIONS and not pd.isna(at):
            stops.setdefault((g, p), []).append(at)
    now_ts = pd.Timestamp(now)
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts.tz_convert("UTC")
    rows = []
    for g, p, a, begin, end in zip(group, person, action, start, asked):
        if a != "selfactivate" or pd.isna(begin) or g is None or p is None:
            continue
        early = [t for t in stops.get((g, p), []) if t > begin and (pd.isna(end) or t < end)]
        if early:
            end = min(early)
        how = "in force" if pd.isna(end) or end > now_ts else ("deactivated" if early else "expired")
        rows.append({"groupId": g, "principalId": p, "start": begin, "end": end, "how": how})
    if not rows:
        return empty
    out = pd.DataFrame(rows, columns=list(ACTIVATION_COLUMNS))
    out["start"] = pd.to_datetime(out["start"], utc=True)
    out["end"] = pd.to_datetime(out["end"], utc=True)
    return out.drop_duplicates().sort_values(["groupId", "principalId", "start"], ignore_index=True)


def _latest(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Per key: the latest end, NaT when one of the windows never ends."""
    by = [frame[k] for k in keys]
    open_ended = frame["end"].isna().groupby(by).any()
    return frame["end"].groupby(by).max().where(~open_ended)


def state_of(schedules: pd.DataFrame, instances: pd.DataFrame, now: datetime,
             requests: pd.DataFrame | None = None) -> PimState:
    """PimState from the tables, judged at `now` (the collection time); `requests` (entra_pim_requests) adds the
    activations that have ended since the collection window began."""
    windows = _windows(schedules, instances)
    history = activation_windows(requests, now)
    now_ts = pd.Timestamp(now)
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts.tz_convert("UTC")
    started = windows["start"].isna() | (windows["start"] <= now_ts)
    in_force = started & (windows["end"].isna() | (windows["end"] > now_ts))
    keys = ["groupId", "principalId"]
    active = windows[in_force & windows["kind"].eq("assignment")]
    eligible = windows[in_force & windows["kind"].eq("eligibility")]
    ended = windows[windows["kind"].eq("assignment") & windows["end"].notna() & (windows["end"] <= now_ts)]
    past = history[history["end"].notna() & (history["end"] <= now_ts)]
    ended = pd.concat([ended[keys + ["end"]], past[keys + ["end"]]], ignore_index=True)
    ended["end"] = pd.to_datetime(ended["end"], utc=True)
    pairs = pd.DataFrame(pd.concat([active[keys], eligible[keys], ended[keys]]).drop_duplicates())
    pairs = pairs.set_index(keys)
    pairs["since"] = active.groupby(keys)["start"].min() if len(active) else pd.NaT
    pairs["until"] = _latest(active, keys) if len(active) else pd.NaT
    pairs["eligible_until"] = _latest(eligible, keys) if len(eligible) else pd.NaT
    pairs["ended"] = ended.groupby(keys)["end"].max() if len(ended) else pd.NaT
    is_active = pairs.index.isin(active.set_index(keys).index)
    is_eligible = pairs.index.isin(eligible.set_index(keys).index)
    state = np.select([is_active & pairs["until"].isna().to_numpy(), is_active, is_eligible],
                      ["permanent", "active", "eligible"], "ended")
    pairs["state"] = state
    pairs = pairs.reset_index()
    for column in ("since", "until", "eligible_until", "ended"):
        pairs[column] = pd.to_datetime(pairs[column], utc=True)
    managed = frozenset(windows.loc[windows["kind"].eq("eligibility"), "groupId"])
    return PimState(pairs[list(PAIR_COLUMNS)].sort_values(keys, ignore_index=True), managed,
                    _activations(windows, instances, history))


def _activations(windows: pd.DataFrame, instances: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """The activations the requests record, and those in force that only the instances show (a request older than
    the collection window): one row per (groupId, principalId, start)."""
    activated = folded(instances["assignmentType"]).eq("activated").fillna(False).to_numpy(dtype=bool)
    member = folded(instances["accessId"]).fillna("member").eq("member").to_numpy(dtype=bool)
    listed = instances[activated & member & folded(instances["kind"]).eq("assignment").fillna(False).to_numpy()]
    shown = pd.DataFrame({"groupId": text(listed["groupId"]).to_numpy(dtype=object),
                          "principalId": text(listed["principalId"]).to_numpy(dtype=object),
                          "start": utc(listed["startDateTime"]).to_numpy(),
                          "end": utc(listed["endDateTime"]).to_numpy(), "how": "listed"})
    both = pd.concat([history, shown], ignore_index=True) if len(shown) else history.copy()
    both["start"] = pd.to_datetime(both["start"], utc=True)
    both["end"] = pd.to_datetime(both["end"], utc=True)
    both = both.dropna(subset=["groupId", "principalId", "start"])
    return both.drop_duplicates(["groupId", "principalId", "start"], keep="first").sort_values(
        ["groupId", "principalId", "start"], ignore_index=True)[list(ACTIVATION_COLUMNS)]


def pim_state(data, now: datetime) -> PimState:
    """The PIM state of a snapshot (or MemoryTables) at `now`; NotCollected when entra.pim_groups was not."""
    schedules, instances = _tables(data)
    try:
        requests = data.table(HISTORY)
    except (KeyError, NotCollected):  # collected before the requests were: no history, as before
        requests = None
    return state_of(schedules, instances, now, requests)


def stamp(moment) -> str:
    """A moment as the access table writes it: UTC to the minute."""
    return pd.Timestamp(moment).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")


def label(state: str, until, eligible_until, ended, managed: bool) -> str:
    """How a membership is held, in words (the access table's `membership` column)."""
    if state == "permanent":
        return "permanent (PIM)" if managed else "standing"
    if state == "active":
        return f"active (PIM) until {stamp(until)}"
    if state == "eligible":
        return "eligible (PIM)" + (f" until {stamp(eligible_until)}" if not pd.isna(eligible_until) else "")
    if state == "ended":
        return f"PIM activation ended {stamp(ended)}"
    return "standing"


def labelled(state: PimState) -> pd.DataFrame:
    """state.pairs with `label` (label()), and for eligible pairs whose activation no longer is in force the
    label of a membership Identity Center may still hold: "PIM activation ended" (when, if Graph still lists it)."""
    pairs = state.pairs
    managed = pairs["groupId"].isin(state.managed).to_numpy()
    labels = [label(s, u, e, d, m) for s, u, e, d, m in zip(pairs["state"], pairs["until"], pairs["eligible_until"],
                                                             pairs["ended"], managed)]
    held = [f"PIM activation ended {stamp(d)}" if not pd.isna(d) else "PIM activation ended (no activation in force)"
            for d in pairs["ended"]]
    return pairs.assign(label=labels, lingering=np.where(pairs["state"].isin(["eligible", "ended"]), held, None),
                        managed=managed)
