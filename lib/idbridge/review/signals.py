"""What a reviewer weighs beside the access itself: when its person last signed in, and a recommendation with its
reason, as Entra ID access reviews give one.

Entra's reviewer recommendations (Microsoft Learn, "Review recommendations for access reviews"; Graph's
userLastSignInRecommendationInsightSetting) recommend Deny for a user who has not signed in during a look-back
period — 30 days unless configured — counted, for a review of an application's assignments, from the user's last
activity in that application rather than in the whole tenant; the recommendation is fixed when the review starts.
idbridge does the same for the AWS app: the last AWS sign-in of the person — a successful Entra sign-in to the AWS
app, or CloudTrail's UserAuthentication for the access portal, whichever is later — against
`review.inactive_after_days` (30 by default), as of the snapshot's collection. Entra's second recommendation,
user-to-group affiliation, needs the organisation chart (manager attributes), which idbridge does not collect.

On top, what Entra cannot see: a path that does not work in AWS, a person disabled or deleted in Entra, an
orphaned assignment, and admin access to a production account (Review, whatever the sign-ins say).

AWS records the sign-in to the access portal, not the account or permission set chosen next: the last AWS
sign-in is the person's, for every account they can reach. A source not collected is said ("not collected:
why"), never read as "never signed in".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from idbridge.model.access.activity import utc
from idbridge.model.signins import activity, not_collected, read_table, stamp
from idbridge.model.signins_people import person_keys
from idbridge.review.layout import clean
from idbridge.snapshot.store import NotCollected

INACTIVE_AFTER_DAYS = 30  # Entra access reviews' default look-back


@dataclass(frozen=True)
class SignIns:
    """Per person key (Entra user id, else "idc:<Identity Center user id>"): the last sign-in to any app
    (Entra signInActivity) and the last AWS sign-in, as of `now`; each side's "not collected: why" instead when
    it is missing."""

    now: pd.Timestamp
    any_app: dict[str, pd.Timestamp] = field(default_factory=dict)
    aws: dict[str, pd.Timestamp] = field(default_factory=dict)
    any_app_missing: str = ""       # "not collected: why" when signInActivity is missing
    aws_missing: str = ""           # ... when neither AWS-side source (Entra app sign-ins, CloudTrail) was collected
    window_days: int | None = None  # the collection window of the AWS-side sign-ins
    inactive_after_days: int = INACTIVE_AFTER_DAYS


def _latest_ok(frame) -> dict[str, pd.Timestamp]:
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        return {}
    ok = frame[frame["ok"].to_numpy(dtype=bool) & frame["person"].astype(bool).to_numpy()]
    return ok.groupby("person")["time"].max().dropna().to_dict()


def _window_days(snapshot) -> int | None:
    window = (getattr(snapshot, "manifest", None) or {}).get("window") or {}
    try:
        return (pd.Timestamp(window["end"]) - pd.Timestamp(window["start"])).days
    except (KeyError, TypeError, ValueError):
        return None


def sign_ins(snapshot, settings=None, inactive_after_days: int = INACTIVE_AFTER_DAYS) -> SignIns:
    """The sign-ins of everyone in a snapshot, from the sign-in correlation (model.signins.activity)."""
    now = pd.Timestamp(settings.now) if settings is not None and getattr(settings, "now", None) else \
        pd.Timestamp.now(tz="UTC")
    now = now.tz_localize("UTC") if now.tzinfo is None else now
    act = activity(snapshot, settings)
    aws: dict[str, pd.Timestamp] = {}
    for side in (act.entra, act.aws):
        for person, when in _latest_ok(side).items():
            aws[person] = max(when, aws.get(person, when))
    missing = [why for why in (act.entra, act.aws) if isinstance(why, str)]
    try:
        raw = read_table(snapshot, "entra_sign_in_activity")
    except NotCollected as exc:
        any_app, any_missing = {}, not_collected(exc)
    else:
        when = utc(raw["lastSuccessfulSignInDateTime"]).fillna(utc(raw["lastSignInDateTime"]))
        frame = pd.DataFrame({"person": raw["id"].map(clean).to_numpy(), "time": when.to_numpy()})
        any_app, any_missing = frame.dropna().groupby("person")["time"].max().to_dict(), ""
    return SignIns(now, any_app, aws, any_missing,
                   "; ".join(missing) if len(missing) == 2 else "", _window_days(snapshot), inactive_after_days)


def _ago(when: pd.Timestamp, now: pd.Timestamp) -> str:
    days = (now - when).days
    return "today" if days <= 0 else "1 day ago" if days == 1 else f"{days} days ago"


def _key(row: dict) -> str:
    return person_keys([clean(row.get("entra_user_id"))], [clean(row.get("idc_user_id"))])[0]


def last_sign_in_cells(row: dict, seen: SignIns | None) -> tuple[str, str]:
    """(last sign-in to any app, last AWS sign-in) of the row's person, as the pack shows them."""
    if seen is None:
        return "not looked up", "not looked up"
    key = _key(row)
    if not key:
        return "no person", "no person"
    if key.startswith("idc:"):
        any_app = "no Entra user"
    elif seen.any_app_missing:
        any_app = seen.any_app_missing
    else:
        when = seen.any_app.get(key)
        any_app = f"{stamp(when)[:10]} ({_ago(when, seen.now)})" if when is not None else "never"
    if seen.aws_missing:
        aws = seen.aws_missing
    else:
        when = seen.aws.get(key)
        within = f"the last {seen.window_days} days" if seen.window_days else "the collection window"
        aws = f"{stamp(when)[:10]} ({_ago(when, seen.now)})" if when is not None else f"none in {within}"
    return any_app, aws


def recommend(row: dict, seen: SignIns | None) -> str:
    """"Remove: not signed in to AWS for 94 days", "Keep: used 3 days ago", "Review: admin in production"…"""
    kind, state = clean(row.get("path_kind")), clean(row.get("entra_state"))
    if kind == "orphaned":
        return "Remove: the assignment's principal no longer exists"
    if state == "deleted":
        return "Remove: the person was deleted in Entra"
    if state == "disabled":
        return "Remove: the person's Entra account is disabled"
    if kind == "nested_group":
        return (f"Review: does not work in AWS (nested group); Remove takes the person out of "
                f"{clean(row.get('nested_group_name'))}, which may serve other apps")
    if clean(row.get("effective")).lower() not in ("true", "1", "yes"):
        return "Review: does not work in AWS today"
    admin_prod = (clean(row.get("privilege")) == "admin"
                  and clean(row.get("is_production")).lower() in ("true", "1", "yes"))
    if seen is None or seen.aws_missing:
        why = "sign-ins not looked up" if seen is None else "AWS sign-ins not collected"
        return "Review: admin in production" + f" ({why})" if admin_prod else f"Review: {why}"
    limit = seen.inactive_after_days
    when = seen.aws.get(_key(row))
    if when is None:
        window = seen.window_days
        if window is not None and window >= limit:
            return f"Remove: no AWS sign-in in the last {window} days"
        return (f"Review: no AWS sign-in in the {window or '?'} days collected (Remove is recommended after "
                f"{limit})")
    days = (seen.now - when).days
    if days > limit:
        return f"Remove: not signed in to AWS for {days} days"
    if admin_prod:
        return f"Review: admin in production (used {_ago(when, seen.now)})"
    return f"Keep: used {_ago(when, seen.now)}"
