"""The sign-in notebook's tables and figures (21_signin_activity), read from signins.Activity."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from idbridge.model import signins, signins_people
from idbridge.model.access.views import who_can_reach
from idbridge.report.safe import Text, plotly_text

CATEGORY_COLOURS = {signins.BOTH: "#2f9e44", signins.ENTRA_ONLY: "#74c0fc", signins.ENTRA_FAILED: "#f59f00",
                    signins.REFUSED: "#d9480f", signins.AWS_FAILED: "#8b0000", signins.AWS_ONLY: "#868e96"}
TABLE_LIMIT = 300  # correlation rows shown, the problems first


def scope(access: pd.DataFrame, account: str = "", group: str = "", user: str = "") -> pd.DataFrame | None:
    """The effective access the notebook's filters select; None when no filter is set (then every table shows
    everyone, including the sign-ins of people without AWS access: their failures matter too)."""
    if not (account or group or user):
        return None
    return who_can_reach(access, account=account or None, group=group or None, user=user or None)


def _keys(scoped: pd.DataFrame) -> set[str]:
    entra, idc = scoped["entra_user_id"].astype(object), scoped["idc_user_id"].astype(object)
    return set(signins_people.person_keys(entra, idc))


def _filtered(act: signins.Activity, scoped: pd.DataFrame | None) -> pd.DataFrame:
    """The correlation, restricted to the people of `scoped` when the notebook filters (else every sign-in,
    including those of people without AWS access: their failures matter too)."""
    if scoped is None:
        return act.correlation
    return act.correlation[act.correlation["person"].isin(_keys(scoped))]


def _side(frame) -> tuple[str, str, str]:
    """(total, successes, failures) of one side as text: counts, or why not collected."""
    if isinstance(frame, str):
        return frame, frame, frame
    ok = int(frame["ok"].sum())
    return str(len(frame)), str(ok), str(len(frame) - ok)


def overview(act: signins.Activity, scoped: pd.DataFrame | None = None) -> pd.DataFrame:
    """How many sign-ins each side logged in the window, how many failed, how many were matched."""
    entra, aws = act.entra, act.aws
    if scoped is not None:
        keys = _keys(scoped)
        entra = entra if isinstance(entra, str) else entra[entra["person"].isin(keys)]
        aws = aws if isinstance(aws, str) else aws[aws["person"].isin(keys)]
    e_total, e_ok, e_failed = _side(entra)
    a_total, a_ok, a_failed = _side(aws)
    mfa = entra if isinstance(entra, str) else \
        f"{int((entra['ok'] & entra['mfa'].eq('multiFactorAuthentication')).sum())} of {e_ok}"
    ca = entra if isinstance(entra, str) else str(int(entra["conditional_access"].eq("failure").sum()))
    counts = _filtered(act, scoped)["category"].value_counts()
    rows = [("Entra: sign-ins to the AWS app", e_total, f"entra_sign_ins, {act.window}"),
            ("Entra: successful", e_ok, "errorCode 0"),
            ("Entra: successful with MFA", mfa, "authenticationRequirement multiFactorAuthentication"),
            ("Entra: failed", e_failed, "explained below"),
            ("Entra: blocked by Conditional Access", ca, "conditionalAccessStatus failure"),
            ("AWS: sign-in events", a_total, "CloudTrail UserAuthentication and failed ExternalIdPDirectoryLogin"),
            ("AWS: signed in to the access portal", a_ok, "UserAuthentication without error"),
            ("AWS: refused", a_failed, "a SAML response AWS did not accept")]
    rows += [(f"Matched: {c}", str(int(counts.get(c, 0))), "") for c in CATEGORY_COLOURS]
    return pd.DataFrame(rows, columns=["what", "count", "note"])


def _not_checked(act: signins.Activity) -> str | None:
    if isinstance(act.entra, str) and isinstance(act.aws, str):
        return Text("Not checked: Entra sign-ins {entra}; CloudTrail {aws}", entra=act.entra, aws=act.aws)
    return None


def timeline_figure(act: signins.Activity, scoped: pd.DataFrame | None = None) -> go.Figure | str:
    """Sign-ins per day, stacked by what happened on each side."""
    missing = _not_checked(act)
    if missing:
        return missing
    rows = _filtered(act, scoped)
    figure = go.Figure()
    if rows.empty:
        figure.add_annotation(text="No sign-ins in the window", showarrow=False)
    days = rows["time"].dt.tz_convert("UTC").dt.floor("D")
    for category, colour in CATEGORY_COLOURS.items():
        counts = days[rows["category"] == category].value_counts().sort_index()
        if len(counts):
            figure.add_bar(name=category, x=counts.index, y=counts.to_numpy(), marker_color=colour)
    gone = "; ".join(f"{side} side {why}" for side, why in (("Entra", act.entra), ("AWS", act.aws))
                     if isinstance(why, str))
    title = "Sign-ins per day, Entra and AWS matched" + (f" ({gone})" if gone else "")
    figure.update_layout(barmode="stack", title=plotly_text(title),
                         yaxis_title="sign-ins", height=400, margin=dict(t=50, b=40))
    return figure


def results_figure(act: signins.Activity, scoped: pd.DataFrame | None = None) -> go.Figure | str:
    """Success and failure on each side; Entra's successes split by single- and multi-factor."""
    missing = _not_checked(act)
    if missing:
        return missing
    keys = _keys(scoped) if scoped is not None else None
    figure = go.Figure()
    if isinstance(act.entra, pd.DataFrame):
        e = act.entra if keys is None else act.entra[act.entra["person"].isin(keys)]
        mfa = e["mfa"].eq("multiFactorAuthentication")
        for name, mask, colour in (("success, MFA", e["ok"] & mfa, "#2f9e44"),
                                   ("success, single factor", e["ok"] & ~mfa, "#f59f00"),
                                   ("failure", ~e["ok"], "#d9480f")):
            figure.add_bar(name=name, x=["Entra: AWS app"], y=[int(mask.sum())], marker_color=colour)
    if isinstance(act.aws, pd.DataFrame):
        a = act.aws if keys is None else act.aws[act.aws["person"].isin(keys)]
        figure.add_bar(name="signed in", x=["AWS: access portal"], y=[int(a["ok"].sum())], marker_color="#1971c2")
        figure.add_bar(name="refused", x=["AWS: access portal"], y=[int((~a["ok"]).sum())], marker_color="#8b0000")
    figure.update_layout(barmode="stack", title=plotly_text(f"Sign-in results, {act.window}"),
                         yaxis_title="sign-ins", height=380, margin=dict(t=50, b=40))
    return figure


def _time(series: pd.Series) -> pd.Series:
    return series.map(lambda t: t.strftime("%Y-%m-%d %H:%M:%S") if isinstance(t, pd.Timestamp) and not pd.isna(t)
                      else "")


def correlation_table(act: signins.Activity, scoped: pd.DataFrame | None = None,
                      limit: int = TABLE_LIMIT) -> pd.DataFrame | str:
    """The matched sign-ins, newest first: the rows where something went wrong on either side, then those where
    both sides agree it went well; at most `limit` rows."""
    rows = _filtered(act, scoped)
    if rows.empty:
        return _not_checked(act) or Text("No sign-in in {window}.", window=act.window)
    rows = pd.concat([rows[rows["category"] != signins.BOTH], rows[rows["category"] == signins.BOTH]])
    shown = rows.head(limit)
    return pd.DataFrame({
        "user": shown["user"], "what happened": shown["category"], "outcome": shown["outcome"],
        "Entra time": _time(shown["entra_time"]), "Entra": shown["entra_result"], "MFA": shown["mfa"],
        "Conditional Access": shown["conditional_access"], "Entra IP": shown["entra_ip"],
        "AWS time": _time(shown["aws_time"]), "AWS event": shown["aws_event"], "AWS": shown["aws_result"],
        "AWS IP": shown["aws_ip"], "AWS user name": shown["aws_user_name"],
        "seconds apart": shown["seconds_apart"], "matched by": shown["matched_by"]}).reset_index(drop=True)


def failures_table(act: signins.Activity, scoped: pd.DataFrame | None = None) -> pd.DataFrame | str:
    """Every kind of failure in the window, in words: how often, for how many people, last seen, who."""
    rows = _filtered(act, scoped)
    rows = rows[rows["category"].isin([signins.ENTRA_FAILED, signins.REFUSED, signins.AWS_FAILED])]
    if rows.empty:
        missing = _not_checked(act)
        return missing or Text("No failed sign-in in {window}.", window=act.window)
    reason = rows["outcome"].str.replace(r"; AWS looked for user name .*$", "", regex=True)
    grouped = (rows.assign(reason=reason)
               .groupby(["category", "reason"], sort=False)
               .agg(sign_ins=("user", "size"), people=("person", "nunique"), last=("time", "max"),
                    who=("user", lambda s: ", ".join(sorted(set(map(str, s))))))
               .reset_index().sort_values(["sign_ins", "last"], ascending=False))
    grouped["last"] = _time(grouped["last"])
    return grouped.rename(columns={"category": "side", "reason": "what happened", "sign_ins": "sign-ins",
                                   "last": "last seen", "who": "people"}).reset_index(drop=True)


def people(snapshot, settings, access: pd.DataFrame, act: signins.Activity) -> pd.DataFrame:
    """Per person holding access: last sign-ins on each side, failures (signins_people.per_person)."""
    return signins_people.per_person(snapshot, settings, access, act)


def _people(people: pd.DataFrame, scoped: pd.DataFrame | None) -> pd.DataFrame:
    return people if scoped is None else people[people["key"].isin(_keys(scoped))]


def people_table(people: pd.DataFrame, scoped: pd.DataFrame | None = None) -> pd.DataFrame:
    """signins_people.per_person for display: the filtered people, without the key."""
    return _people(people, scoped).drop(columns=["key"]).rename(
        columns={"entra_state": "Entra state", "highest_privilege": "highest privilege"}).reset_index(drop=True)


def last_use_table(access: pd.DataFrame, people: pd.DataFrame, scoped: pd.DataFrame | None = None) -> pd.DataFrame:
    return signins_people.last_use(access if scoped is None else scoped, people)


def stale_table(people: pd.DataFrame, after_days: int, scoped: pd.DataFrame | None = None) -> pd.DataFrame | str:
    rows = signins_people.stale(_people(people, scoped), after_days)
    if rows.empty:
        return Text("Nobody holding AWS access has gone more than {days} days without a sign-in.", days=after_days)
    return people_table(rows)


SOURCES = ("entra.sign_ins", "entra.sign_in_activity", "aws.cloudtrail")


def sources(snapshot) -> pd.DataFrame:
    """The sources this report reads, as collected: a source not collected explains the "not collected" cells."""
    from idbridge.report.sources import sources_table

    table = sources_table(snapshot)
    listed = table[table["source"].isin(SOURCES)]
    missing = [s for s in SOURCES if s not in set(listed["source"])]
    extra = pd.DataFrame([{"source": s, "status": "not collected", "rows": 0,
                           "why": "this snapshot did not include the source"} for s in missing],
                         columns=table.columns)
    return pd.concat([listed, extra], ignore_index=True)
