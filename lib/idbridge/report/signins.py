"""The sign-in notebook's tables and figures (21_signin_activity), read from signins.Activity."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from idbridge.model import signins, signins_people
from idbridge.model.access.views import who_can_reach
from idbridge.report.safe import Text, plotly_text

CATEGORY_COLOURS = {signins.BOTH: "#2f9e44", signins.ENTRA_ONLY: "#74c0fc", signins.ENTRA_FAILED: "#f59f00",
                    signins.REFUSED: "#d9480f", signins.AWS_FAILED: "#8b0000", signins.AWS_ONLY: "#868e96"}
DAYS = "days since last sign-in"


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
    # Failures at the foot of each stack, where a handful of them is not lost on top of hundreds of successes.
    failures_first = [signins.REFUSED, signins.AWS_FAILED, signins.ENTRA_FAILED]
    for category in failures_first + [c for c in CATEGORY_COLOURS if c not in failures_first]:
        colour = CATEGORY_COLOURS[category]
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
    """Success and failure on each side, one bar each with its count written on it; Entra's successes split by
    single- and multi-factor. A logarithmic axis, so that 4 refusals stay visible next to 570 sign-ins."""
    missing = _not_checked(act)
    if missing:
        return missing
    keys = _keys(scoped) if scoped is not None else None
    bars: list[tuple[str, int, str]] = []
    if isinstance(act.entra, pd.DataFrame):
        e = act.entra if keys is None else act.entra[act.entra["person"].isin(keys)]
        mfa = e["mfa"].eq("multiFactorAuthentication")
        bars += [("Entra: signed in with MFA", int((e["ok"] & mfa).sum()), "#2f9e44"),
                 ("Entra: signed in, single factor", int((e["ok"] & ~mfa).sum()), "#f59f00"),
                 ("Entra: refused", int((~e["ok"]).sum()), "#d9480f")]
    if isinstance(act.aws, pd.DataFrame):
        a = act.aws if keys is None else act.aws[act.aws["person"].isin(keys)]
        bars += [("AWS: signed in to the access portal", int(a["ok"].sum()), "#1971c2"),
                 ("AWS: refused", int((~a["ok"]).sum()), "#8b0000")]
    gone = [f"{side} side {why}" for side, why in (("Entra", act.entra), ("AWS", act.aws)) if isinstance(why, str)]
    names = [plotly_text(n) for n, _, _ in bars][::-1]
    counts = [c for _, c, _ in bars][::-1]
    # A zero has no place on a log axis: its bar is drawn at 0.5 and labelled 0.
    figure = go.Figure(go.Bar(x=[c if c else 0.5 for c in counts], y=names, orientation="h",
                              marker_color=[c for _, _, c in bars][::-1], text=[str(c) for c in counts],
                              textposition="outside", hovertemplate="%{y}: %{text}<extra></extra>"))
    title = f"Sign-in results, {act.window} (logarithmic scale: small counts stay visible)" + \
        (f"; {'; '.join(gone)}" if gone else "")
    figure.update_layout(title=plotly_text(title), xaxis=dict(type="log", title="sign-ins"),
                         yaxis=dict(automargin=True), height=120 + 48 * max(1, len(bars)),
                         margin=dict(t=50, b=40, r=60), showlegend=False)
    return figure


def verdict(act: signins.Activity, people: pd.DataFrame, stale_after_days: int,
            scoped: pd.DataFrame | None = None):
    """This report's verdict in words: failed sign-ins on each side, AWS refusing what Entra let in, people
    holding access without a recent sign-in; NOT CHECKED when neither side was collected. Never more than was
    collected: a side not collected is named."""
    from idbridge.report.safe import html_text

    class _Verdict:
        def __init__(self, status: str, word: str, lines: list[str]):
            self.status, self.word, self.lines = status, word, lines

        def _repr_html_(self) -> str:
            items = "".join(f"<li>{html_text(line)}</li>" for line in self.lines)
            css = {"fail": "fail", "pass": "pass"}.get(self.status, "notchecked")
            return (f"<section class='idbridge-report-verdict verdict-{css}' data-status='{html_text(self.status)}'>"
                    f"<div class='word'>{html_text(self.word)}</div><ul>{items}</ul></section>")

        def __repr__(self) -> str:
            return f"{self.word}: " + " ".join(self.lines)

    if isinstance(act.entra, str) and isinstance(act.aws, str):
        return _Verdict("not_checked", "NOT CHECKED", [f"Entra sign-ins {act.entra}; CloudTrail {act.aws}."])
    rows = _filtered(act, scoped)
    counts = rows["category"].value_counts()
    lines, problems = [], 0
    refused = int(counts.get(signins.REFUSED, 0))
    if refused:
        who = rows.loc[rows["category"] == signins.REFUSED, "person"].nunique()
        lines.append(f"AWS refused {refused} sign-in{'s' if refused != 1 else ''} that Entra let through "
                     f"({who} {'person' if who == 1 else 'people'}): the bridge fails them (see Failures explained).")
        problems += refused
    entra_failed = int(counts.get(signins.ENTRA_FAILED, 0))
    if entra_failed:
        lines.append(f"Entra refused {entra_failed} sign-in{'s' if entra_failed != 1 else ''} to the AWS app "
                     "(wrong password, Conditional Access, MFA …: each explained below).")
        problems += entra_failed
    aws_failed = int(counts.get(signins.AWS_FAILED, 0))
    if aws_failed:
        lines.append(f"AWS refused {aws_failed} sign-in{'s' if aws_failed != 1 else ''} with no Entra sign-in "
                     "matched to them.")
        problems += aws_failed
    held = _people(people, scoped)
    stale = signins_people.stale(held, stale_after_days)
    if len(stale):
        lines.append(f"{len(stale)} of {len(held)} people holding AWS access have not signed in for more than "
                     f"{stale_after_days} days, or not at all (see Stale users).")
        problems += len(stale)
    for side, why in (("Entra sign-ins", act.entra), ("CloudTrail", act.aws)):
        if isinstance(why, str):
            lines.append(f"Not checked: {side} {why}.")
    if problems:
        return _Verdict("fail", "NEEDS ATTENTION", lines)
    partial = any(isinstance(x, str) for x in (act.entra, act.aws))
    lines.insert(0, f"No failed sign-in in {act.window} and everyone holding access signed in within "
                    f"{stale_after_days} days.")
    return _Verdict("not_checked" if partial else "pass", "PARTLY CHECKED" if partial else "NO PROBLEM SEEN", lines)


def _time(series: pd.Series) -> pd.Series:
    return series.map(lambda t: t.strftime("%Y-%m-%d %H:%M:%S") if isinstance(t, pd.Timestamp) and not pd.isna(t)
                      else "")


def correlation_table(act: signins.Activity, scoped: pd.DataFrame | None = None) -> pd.DataFrame | str:
    """The matched sign-ins, newest first: the rows where something went wrong on either side, then those where
    both sides agree it went well. Every row (the report's table pages through them; none is left out)."""
    rows = _filtered(act, scoped)
    if rows.empty:
        return _not_checked(act) or Text("No sign-in in {window}.", window=act.window)
    rows = pd.concat([rows[rows["category"] != signins.BOTH], rows[rows["category"] == signins.BOTH]])
    shown = rows
    return pd.DataFrame({
        "user": shown["user"], "what happened": shown["category"], "outcome": shown["outcome"],
        "Entra time": _time(shown["entra_time"]), "Entra": shown["entra_result"], "MFA": shown["mfa"],
        "Conditional Access": shown["conditional_access"], "Entra IP": shown["entra_ip"],
        "AWS time": _time(shown["aws_time"]), "AWS event": shown["aws_event"], "AWS": shown["aws_result"],
        "AWS IP": shown["aws_ip"], "AWS user name": shown["aws_user_name"],
        "seconds apart": shown["seconds_apart"].map(_whole), "matched by": shown["matched_by"]}
    ).reset_index(drop=True)


def _whole(value) -> object:
    """A count of seconds or days as a whole number; missing stays missing (shown blank, never NaN)."""
    return "" if value is None or pd.isna(value) else int(value)


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


def _readable_people(frame: pd.DataFrame) -> pd.DataFrame:
    """Days as whole numbers, with words where there is no date; "none" said as what it means."""
    frame = frame.copy()
    if DAYS in frame:
        frame[DAYS] = [int(d) if not pd.isna(d) else "no sign-in seen" for d in frame[DAYS]]
    if "last failure" in frame:
        frame["last failure"] = frame["last failure"].astype(str).str.replace(
            r"^none\b", "no failure in the window", regex=True)
    return frame.rename(columns={c: c.replace("(CloudTrail)", "(from CloudTrail)") for c in frame.columns})


def people_table(people: pd.DataFrame, scoped: pd.DataFrame | None = None) -> pd.DataFrame:
    """signins_people.per_person for display: the filtered people, without the key."""
    return _readable_people(_people(people, scoped).drop(columns=["key"]).rename(
        columns={"entra_state": "Entra state", "highest_privilege": "highest privilege"}).reset_index(drop=True))


def last_use_table(access: pd.DataFrame, people: pd.DataFrame, scoped: pd.DataFrame | None = None) -> pd.DataFrame:
    return _readable_people(signins_people.last_use(access if scoped is None else scoped, people))


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
