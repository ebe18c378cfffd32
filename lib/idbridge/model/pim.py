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
PIM lists. Graph lists only what is in force or still to come (and, briefly, what ended moments ago): a pair
whose activation ended earlier has no row here, only its eligibility. Only memberships count (accessId member):
owning a group grants nothing in AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from idbridge.model.access.activity import utc
from idbridge.model.scope import folded, text
from idbridge.snapshot.store import NotCollected

SOURCE = "entra.pim_groups"
TABLES = ("entra_pim_schedules", "entra_pim_instances")
STATES = ("permanent", "active", "eligible", "ended")
PAIR_COLUMNS = ("groupId", "principalId", "state", "since", "until", "eligible_until", "ended")


@dataclass(frozen=True)
class PimState:
    pairs: pd.DataFrame      # PAIR_COLUMNS, one row per (groupId, principalId) with a state
    managed: frozenset[str]  # group ids someone is eligible for


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


def _latest(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Per key: the latest end, NaT when one of the windows never ends."""
    by = [frame[k] for k in keys]
    open_ended = frame["end"].isna().groupby(by).any()
    return frame["end"].groupby(by).max().where(~open_ended)


def state_of(schedules: pd.DataFrame, instances: pd.DataFrame, now: datetime) -> PimState:
    """PimState from the two tables, judged at `now` (the collection time)."""
    windows = _windows(schedules, instances)
    now_ts = pd.Timestamp(now)
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts.tz_convert("UTC")
    started = windows["start"].isna() | (windows["start"] <= now_ts)
    in_force = started & (windows["end"].isna() | (windows["end"] > now_ts))
    keys = ["groupId", "principalId"]
    active = windows[in_force & windows["kind"].eq("assignment")]
    eligible = windows[in_force & windows["kind"].eq("eligibility")]
    ended = windows[windows["kind"].eq("assignment") & windows["end"].notna() & (windows["end"] <= now_ts)]
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
    return PimState(pairs[list(PAIR_COLUMNS)].sort_values(keys, ignore_index=True), managed)


def pim_state(data, now: datetime) -> PimState:
    """The PIM state of a snapshot (or MemoryTables) at `now`; NotCollected when entra.pim_groups was not."""
    schedules, instances = _tables(data)
    return state_of(schedules, instances, now)


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
