"""Per person holding AWS access: when they last signed in on each side of the bridge, their failures, the
last use of each access, and who is stale — from signins.Activity and the access table.

Date columns are text (a date, "never", "none in the last N days", "not collected: why"), never blank: a source
not collected must not read as "never signed in". CloudTrail's UserAuthentication records the sign-in to the
access portal, not the account or permission set used next, so the "last use" of an access is its person's last
AWS sign-in (the column names say so).
"""

from __future__ import annotations

import pandas as pd

from idbridge.model.access.activity import utc
from idbridge.model.access.columns import PRIVILEGE_RANK
from idbridge.model.scope import text
from idbridge.model.signins import AWS_FAILED, ENTRA_FAILED, REFUSED, Activity, not_collected, read_table, stamp
from idbridge.snapshot.store import NotCollected


def _latest(frame, where, keys: pd.Index) -> pd.Series:
    if not isinstance(frame, pd.DataFrame):
        return pd.Series(pd.NaT, index=keys, dtype="datetime64[ns, UTC]")
    part = frame[where(frame)]
    return part.groupby("person")["time"].max().reindex(keys)


def _entra_any_app(data, keys: pd.Index) -> tuple[pd.Series, pd.Series | str]:
    """signInActivity per person key: (last sign-in, has an activity record) or why not collected."""
    try:
        raw = read_table(data, "entra_sign_in_activity")
    except NotCollected as exc:
        return pd.Series(pd.NaT, index=keys, dtype="datetime64[ns, UTC]"), not_collected(exc)
    when = utc(raw["lastSuccessfulSignInDateTime"]).fillna(utc(raw["lastSignInDateTime"]))
    frame = pd.DataFrame({"person": text(raw["id"]).to_numpy(), "time": when.to_numpy()})
    latest = frame.groupby("person")["time"].max().reindex(keys)
    return latest, pd.Series(keys.isin(frame["person"]), index=keys)


def person_keys(entra_ids, idc_ids) -> list[str]:
    """The Directory key of each access row's person: Entra user id, else "idc:<Identity Center user id>"."""
    return [e if isinstance(e, str) and e else f"idc:{i}" if isinstance(i, str) and i else ""
            for e, i in zip(entra_ids, idc_ids)]


def holders(access: pd.DataFrame) -> pd.DataFrame:
    """One row per person holding effective access: key, person, display name, Entra state, accounts, highest
    privilege, paths."""
    rows = access[access["effective"].to_numpy(dtype=bool)]
    entra = rows["entra_user_id"].astype(object)
    idc = rows["idc_user_id"].astype(object)
    frame = pd.DataFrame({
        "key": person_keys(entra, idc), "person": rows["user_principal_name"].astype(object).fillna(
            rows["idc_user_name"].astype(object)).to_numpy(),
        "name": rows["user_display_name"].astype(object).to_numpy(),
        "entra_state": rows["entra_state"].astype(object).to_numpy(),
        "account": rows["account_id"].astype(object).to_numpy(),
        "rank": rows["privilege_rank"].to_numpy(), "privilege": rows["privilege"].astype(object).to_numpy()})
    frame = frame.sort_values("rank", ascending=False, kind="stable")
    out = frame.groupby("key", sort=False).agg(person=("person", "first"), name=("name", "first"),
                                               entra_state=("entra_state", "first"), accounts=("account", "nunique"),
                                               highest_privilege=("privilege", "first"), paths=("account", "size"))
    return out.reset_index().sort_values("person", kind="stable").reset_index(drop=True)


def per_person(data, settings, access: pd.DataFrame, act: Activity) -> pd.DataFrame:
    """Per person holding effective access: last Entra sign-in (any app: signInActivity), last sign-in to the AWS
    app in Entra and in AWS (the window), failures in the window, the last one explained, days since the latest
    sign-in seen on either side. Date columns are text: a date, "never", "none in the last N days" or "not
    collected: why" — never blank, so that a source not collected cannot read as "never signed in"."""
    people = holders(access)
    keys = pd.Index(people["key"], dtype=object)
    now = pd.Timestamp(settings.now) if settings is not None else pd.Timestamp.now(tz="UTC")
    any_app, recorded = _entra_any_app(data, keys)
    app = _latest(act.entra, lambda f: f["ok"].to_numpy(dtype=bool), keys)
    aws = _latest(act.aws, lambda f: f["ok"].to_numpy(dtype=bool), keys)
    none = f"none in {act.window}"
    entra_user = ~keys.str.startswith("idc:")

    def any_app_text(key, value, entra) -> str:
        if not entra:
            return "no Entra user"
        if isinstance(recorded, str):
            return recorded
        return stamp(value) or ("never" if recorded[key] else "no signInActivity record")

    def window_text(value, side, entra=True) -> str:
        if not entra:
            return "no Entra user"
        return side if isinstance(side, str) else stamp(value) or none

    people["last Entra sign-in (any app)"] = [any_app_text(k, v, e) for k, v, e in zip(keys, any_app, entra_user)]
    people["last sign-in to the AWS app (Entra)"] = [window_text(v, act.entra, e) for v, e in zip(app, entra_user)]
    people["last AWS sign-in (CloudTrail)"] = [window_text(v, act.aws) for v in aws]
    counts, last = _failures_by_person(act)
    missing = "; ".join(f"{side} side {why}" for side, why in (("Entra", act.entra), ("AWS", act.aws))
                        if isinstance(why, str))
    people["failures in the window"] = [counts.get(k, 0) for k in keys]
    people["last failure"] = [last.get(k, "none") + (f" ({missing})" if missing else "") for k in keys]
    latest = pd.concat([any_app, app, aws], axis=1).max(axis=1)
    people["days since last sign-in"] = (now - latest).dt.days.to_numpy()
    return people


def _failures_by_person(act: Activity) -> tuple[dict[str, int], dict[str, str]]:
    """(person key -> failures in the window on either side, person key -> the last one in words)."""
    rows = act.correlation[act.correlation["category"].isin([ENTRA_FAILED, REFUSED, AWS_FAILED])]
    counts = rows.groupby("person").size().to_dict()
    newest = rows.drop_duplicates("person")  # the correlation is newest first
    last = {k: f"{stamp(t)}: {o}" for k, t, o in zip(newest["person"], newest["time"], newest["outcome"])}
    return counts, last


def last_use(access: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """Per effective access (person × account × permission set): the person's last AWS sign-in and last Entra
    sign-in to the AWS app. CloudTrail's UserAuthentication does not say which account or permission set was used
    after the sign-in, so the date is the person's, for every access they hold."""
    rows = access[access["effective"].to_numpy(dtype=bool)]
    keys = person_keys(rows["entra_user_id"].astype(object), rows["idc_user_id"].astype(object))
    by_key = people.set_index("key")
    via = [f"group {g}" if t == "GROUP" else "direct assignment"
           for t, g in zip(rows["idc_principal_type"].astype(object), rows["idc_principal_name"].astype(object))]
    frame = pd.DataFrame({
        "person": rows["user_principal_name"].astype(object).fillna(rows["idc_user_name"].astype(object)).to_numpy(),
        "account": rows["account_name"].astype(object).fillna(rows["account_id"].astype(object)).to_numpy(),
        "permission set": rows["permission_set_name"].astype(object).to_numpy(),
        "privilege": rows["privilege"].astype(object).to_numpy(), "via": via,
        "last AWS sign-in of the person (any account)":
            by_key["last AWS sign-in (CloudTrail)"].reindex(keys).to_numpy(),
        "last sign-in to the AWS app (Entra)": by_key["last sign-in to the AWS app (Entra)"].reindex(keys).to_numpy(),
        "days since last sign-in": by_key["days since last sign-in"].reindex(keys).to_numpy()})
    frame["_rank"] = frame["privilege"].map(PRIVILEGE_RANK).fillna(0)
    frame = frame.sort_values(["_rank", "person", "account"], ascending=[False, True, True], kind="stable")
    return frame.drop(columns="_rank").reset_index(drop=True)


def stale(people: pd.DataFrame, after_days: int) -> pd.DataFrame:
    """People holding access with no sign-in seen for more than `after_days` days, or none at all; `why listed`
    names the sources that could not be looked in (a source not collected may hold the sign-in)."""
    days = people["days since last sign-in"]
    rows = people[days.isna() | (days > after_days)]
    sources = [c for c in people.columns if c.startswith("last ") and c != "last failure"]
    why = []
    for _, row in rows.iterrows():
        missing = [c for c in sources if str(row[c]).startswith("not collected")]
        said = (f"no sign-in for {int(row['days since last sign-in'])} days"
                if not pd.isna(row["days since last sign-in"]) else "no sign-in seen on either side")
        why.append(said + (f"; could not look in: {', '.join(missing)}" if missing else ""))
    rows = rows.assign(**{"why listed": why})
    return rows.sort_values("days since last sign-in", ascending=False, na_position="first",
                            kind="stable").reset_index(drop=True)
