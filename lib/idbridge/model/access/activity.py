"""When each person who holds access last signed in, on either side of the bridge.

Entra side: signInActivity (lastSuccessfulSignInDateTime, else lastSignInDateTime; it covers every application and
is kept for as long as the user exists) and successful sign-ins to the AWS app in the collection window. AWS side:
successful CloudTrail `UserAuthentication` events (signin.amazonaws.com), matched to the Identity Center user by
onBehalfOf.userId, else by user name (case-insensitive), in the collection window. Non-interactive sign-ins are left
out: token refreshes by a mail client keep them fresh for people who never open AWS.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from idbridge.model.access.dims import Dims, optional_table, positions
from idbridge.model.scope import folded, text


def utc(series: pd.Series) -> pd.Series:
    """ISO-8601 strings -> UTC timestamps (NaT when missing or the 0001-01-01 placeholder)."""
    values = pd.to_datetime(series.astype("string"), utc=True, errors="coerce", format="ISO8601")
    return values.where(values > pd.Timestamp("1971-01-01", tz="UTC"))


def _latest_by(keys: np.ndarray, times: pd.Series, size: int) -> pd.Series:
    """Max time per position (keys -1 ignored), as a Series over range(size)."""
    frame = pd.DataFrame({"k": keys, "t": times.array})  # .array keeps datetimes (to_numpy: Python objects)
    frame = frame[(frame["k"] >= 0) & frame["t"].notna()]
    latest = frame.groupby("k")["t"].max()
    return latest.reindex(range(size))


def last_sign_ins(data, dims: Dims) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per Entra user: entra_last from signInActivity, app_last from AWS app sign-ins, created;
    per Identity Center user: aws_last from UserAuthentication, idc_created), indexed by position in dims."""
    users = pd.Index(dims.users["id"], dtype=object)
    activity = data.table("entra_sign_in_activity")
    when = utc(activity["lastSuccessfulSignInDateTime"]).fillna(utc(activity["lastSignInDateTime"]))
    entra_last = _latest_by(positions(text(activity["id"]), users), when, len(users))

    sign_ins = optional_table(data, "entra_sign_ins", ("userId", "createdDateTime", "errorCode", "appId"))
    ok = pd.to_numeric(sign_ins["errorCode"], errors="coerce").fillna(-1).eq(0).to_numpy()
    app_last = _latest_by(np.where(ok, positions(text(sign_ins["userId"]), users), -1),
                          utc(sign_ins["createdDateTime"]), len(users))

    raw_users = data.table("entra_users").drop_duplicates("id")
    created = _latest_by(positions(text(raw_users["id"]), users), utc(raw_users["createdDateTime"]), len(users))

    idc = pd.Index(dims.idc_users["userId"], dtype=object)
    events = data.table("cloudtrail_events")
    auth = (text(events["eventName"]).eq("UserAuthentication").fillna(False)
            & events["errorCode"].astype("string").fillna("").eq("")).to_numpy()
    events = events[auth]
    by_id = positions(text(events["userId"]), idc)
    names = folded(dims.idc_users["userName"]).to_numpy(dtype=object)
    first = ~pd.Index(names, dtype=object).duplicated()
    hit = positions(folded(events["userName"]).to_numpy(dtype=object), pd.Index(names[first], dtype=object))
    firsts = np.flatnonzero(first)
    by_name = np.where(hit >= 0, firsts[np.clip(hit, 0, None)] if len(firsts) else -1, -1)
    aws_last = _latest_by(np.where(by_id >= 0, by_id, by_name), utc(events["eventTime"]), len(idc))
    raw_idc = data.table("idc_users").drop_duplicates("userId")
    idc_created = _latest_by(positions(text(raw_idc["userId"]), idc), utc(raw_idc["createdAt"]), len(idc))
    entra = pd.DataFrame({"entra_last": entra_last, "app_last": app_last, "created": created})
    aws = pd.DataFrame({"aws_last": aws_last, "idc_created": idc_created})
    return entra, aws


def person_activity(data, dims: Dims, u: np.ndarray, i: np.ndarray) -> pd.DataFrame:
    """For people given as (Entra user position, Identity Center user position), -1 where none: entra_last,
    app_last, aws_last, created (the Entra user's creation, else the Identity Center user's), last (the latest
    sign-in on either side)."""
    entra, aws = last_sign_ins(data, dims)

    def at(series: pd.Series, where: np.ndarray) -> pd.Series:
        return series.reindex(where).reset_index(drop=True)  # -1 is no label: NaT

    out = pd.DataFrame({"entra_last": at(entra["entra_last"], u), "app_last": at(entra["app_last"], u),
                        "aws_last": at(aws["aws_last"], i)})
    out["created"] = at(entra["created"], u).where(pd.Series(u >= 0), at(aws["idc_created"], i))
    out["last"] = out[["entra_last", "app_last", "aws_last"]].max(axis=1)
    return out
