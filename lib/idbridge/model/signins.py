"""Sign-in activity on both sides of the bridge, and the two sides matched up.

Entra logs each sign-in to the AWS app (entra_sign_ins: success when errorCode is 0; MFA from
authenticationRequirement; the Conditional Access result). AWS logs the sign-in to the access portal in CloudTrail:
`UserAuthentication` (signin.amazonaws.com; a failure carries an errorCode) and, for a SAML response it refused,
`ExternalIdPDirectoryLogin` (signin.amazonaws.com, eventType AwsConsoleSignIn). A real refusal carries no errorCode:
it says `responseElements: {"ExternalIdPDirectoryLogin": "Failure"}` and an errorMessage (AWS troubleshooting page),
so a failure is an errorCode OR that Failure. One sign-in seen from both sides is an Entra sign-in and an AWS
event of the same person at most WINDOW apart, from the same IP address when both record one of the same family
(Entra often logs IPv6 where AWS logs IPv4: those are not compared) — the correlation key of the reference notes,
§2c. An AWS event whose user name is nobody's (a SAML NameID that is no Identity Center user name) is matched on
time and IP alone, and says so: that is the usual cause of the refusal.

A source not collected is never read as "nobody signed in": the columns it feeds say "not collected: why".
Per person (last sign-ins, last use of each access, stale users): signins_people.py.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from idbridge.model.access.activity import utc
from idbridge.model.access.dims import optional_table
from idbridge.model.scope import text
from idbridge.snapshot.store import NotCollected

WINDOW = pd.Timedelta(minutes=5)
AWS_EVENTS = ("UserAuthentication", "ExternalIdPDirectoryLogin")
ERROR_PAGE = "https://login.microsoftonline.com/error?code="

# The AADSTS codes sign-ins to a SAML app fail with most, in words (Microsoft's error-code reference).
AADSTS = {
    50126: "wrong user name or password",
    50076: "MFA required (a policy, or a new location) and not done yet: usually an interruption, followed by a "
           "sign-in with MFA",
    50074: "MFA required and the user did not complete the MFA challenge",
    500121: "the MFA challenge failed: denied, not answered or timed out",
    53003: "blocked by a Conditional Access policy",
    50105: "the user is not assigned to the AWS app (directly or through a group) and the app requires assignment",
    50057: "the user account is disabled in Entra",
    50053: "the account is locked after too many failed sign-ins (smart lockout), or the sign-in came from an IP "
           "address Entra considers malicious",
    50158: "an external security challenge was not satisfied (third-party MFA, a federated IdP, or a custom control "
           "such as terms of use)",
}
# AWS refusals of a SAML response: a phrase of the errorMessage -> what to look at.
AWS_HINTS = (
    (("nameid", "no user"), "the NameID Entra sends must equal an Identity Center user name: provision the user, "
                            "or fix the app's NameID claim"),
    (("signature", "certificate"), "Identity Center does not hold Entra's active signing certificate"),
    (("expired", "notonorafter", "clock"), "the SAML response was too old: clock skew, or a stale browser tab"),
    (("audience", "destination", "recipient"), "the response names another Identifier or ACS URL than Identity "
                                               "Center's: check the app's Identifier and Reply URLs"),
)

ENTRA_COLUMNS = ["time", "person", "user", "ip", "ok", "error_code", "failure_reason", "mfa", "conditional_access"]
AWS_COLUMNS = ["time", "person", "user", "ip", "event", "ok", "error_code", "error_message", "known",
               "aws_user_name"]  # known: the user name is an Identity Center user's (or a UPN)
CORRELATION_COLUMNS = ["time", "person", "user", "category", "outcome", "entra_time", "entra_result", "mfa",
                       "conditional_access", "entra_ip", "aws_time", "aws_event", "aws_result", "aws_ip",
                       "aws_user_name", "seconds_apart", "matched_by"]
# category: what the row is, for counting and colour
BOTH, REFUSED, ENTRA_ONLY, ENTRA_FAILED, AWS_ONLY, AWS_FAILED = (
    "signed in on both sides", "Entra let in, AWS refused", "Entra only", "Entra refused", "AWS only",
    "AWS refused")


def not_collected(exc: NotCollected) -> str:
    return f"not collected: {exc.why}"


def read_table(data, name: str) -> pd.DataFrame:
    """data.table(name); a table the snapshot does not know is NotCollected too (MemoryTables in tests)."""
    try:
        return data.table(name)
    except KeyError:
        raise NotCollected(name, "not in this snapshot") from None


# ----------------------------------------------------------------------------------------------- who is who


@dataclass(frozen=True)
class Directory:
    """Person keys: the Entra user id, else "idc:<Identity Center user id>"; a name nobody has: "aws:<name>"."""

    by_idc_id: dict[str, str]
    by_name: dict[str, str]       # folded Identity Center user name or UPN -> key
    labels: dict[str, str]        # key -> UPN, else Identity Center user name

    def from_entra(self, user_id, upn) -> str:
        """An Entra sign-in's user: its Entra user, else (deleted in Entra) whoever has its UPN as user name."""
        if user_id and user_id in self.labels:
            return user_id
        return self.by_name.get(str(upn or "").strip().casefold()) or user_id or f"aws:{str(upn).casefold()}"

    def from_aws(self, user_id, user_name) -> tuple[str, bool]:
        """(key, known) of an AWS event's user."""
        if user_id and user_id in self.by_idc_id:
            return self.by_idc_id[user_id], True
        name = str(user_name or "").strip().casefold()
        if name in self.by_name:
            return self.by_name[name], True
        return f"aws:{name}", False


def directory(data, settings=None) -> Directory:
    """Who each Entra and Identity Center user is, paired as the access model pairs them (its SCIM mapping), or
    by user name = UPN when the model cannot be built (a source it needs not collected)."""
    from idbridge.model.access.build import checks_params
    from idbridge.model.access.dims import build_dims
    from idbridge.model.scope import bridge

    try:
        # The dimension tables only (the pairing), not the paths: the run's access table is read from disk.
        dims = build_dims(data, bridge(data), checks_params(settings).production)
        upns, ids = text(dims.users["upn"]).tolist(), text(dims.users["id"]).tolist()
        idc_ids, idc_names = text(dims.idc_users["userId"]).tolist(), text(dims.idc_users["userName"]).tolist()
        paired = [ids[p] if p >= 0 else None for p in dims.idc_users["entra"].to_numpy()]
    except (NotCollected, KeyError):
        users = optional_table(data, "entra_users", ("id", "userPrincipalName"))
        idc = optional_table(data, "idc_users", ("userId", "userName"))
        upns, ids = text(users["userPrincipalName"]).tolist(), text(users["id"]).tolist()
        idc_ids, idc_names = text(idc["userId"]).tolist(), text(idc["userName"]).tolist()
        by_upn = {str(u).casefold(): i for u, i in zip(upns, ids) if u}
        paired = [by_upn.get(str(n or "").casefold()) for n in idc_names]
    labels = {i: u for i, u in zip(ids, upns) if i}
    by_name = {str(u).casefold(): i for u, i in zip(upns, ids) if u and i}
    by_idc_id = {}
    for idc_id, name, entra in zip(idc_ids, idc_names, paired):
        key = entra or f"idc:{idc_id}"
        by_idc_id[idc_id] = key
        labels.setdefault(key, name)
        if name:  # the Identity Center user name decides: it is what AWS logs
            by_name[str(name).casefold()] = key
    return Directory(by_idc_id, by_name, labels)


# ----------------------------------------------------------------------------------------------- events


def entra_events(data, people: Directory) -> pd.DataFrame:
    """Entra sign-ins to the AWS app (ENTRA_COLUMNS), oldest first. Raises NotCollected."""
    raw = read_table(data, "entra_sign_ins")
    code = pd.to_numeric(raw["errorCode"], errors="coerce")
    keys = text(raw["userId"]).fillna("").tolist()
    upns = text(raw["userPrincipalName"]).tolist()
    frame = pd.DataFrame({
        "time": utc(raw["createdDateTime"]).to_numpy(),
        "person": [people.from_entra(k, u) for k, u in zip(keys, upns)],
        "user": [people.labels.get(k) or u for k, u in zip(keys, upns)],
        "ip": text(raw["ipAddress"]).to_numpy(),
        "ok": code.eq(0).to_numpy(dtype=bool),
        "error_code": code.astype("Int64").to_numpy(),
        "failure_reason": text(raw["failureReason"]).to_numpy(),
        "mfa": text(raw["authenticationRequirement"]).to_numpy(),
        "conditional_access": text(raw["conditionalAccessStatus"]).to_numpy()}, columns=ENTRA_COLUMNS)
    return frame.sort_values("time", kind="stable").reset_index(drop=True)


def _says_failure(event_json) -> bool:
    """True when a CloudTrail record's responseElements (or serviceEventDetails) names a Failure for its event."""
    if not isinstance(event_json, str) or "Failure" not in event_json:
        return False
    try:
        record = json.loads(event_json)
    except ValueError:
        return False
    if not isinstance(record, dict):
        return False
    for field in ("responseElements", "serviceEventDetails"):
        part = record.get(field)
        if isinstance(part, dict) and any(str(v).casefold() == "failure" for v in part.values()):
            return True
    return False


def aws_failed(raw: pd.DataFrame) -> pd.Series:
    """Per cloudtrail_events row: the event failed (an errorCode, or responseElements saying Failure)."""
    errors = text(raw["errorCode"]).notna()
    if "event_json" not in raw.columns:
        return errors
    said = pd.Series([_says_failure(v) for v in raw["event_json"].astype(object)], index=raw.index, dtype=bool)
    return errors | said


def aws_events(data, people: Directory) -> pd.DataFrame:
    """CloudTrail UserAuthentication and failed ExternalIdPDirectoryLogin events (AWS_COLUMNS), oldest first.
    Raises NotCollected. An ExternalIdPDirectoryLogin that did not fail is left out: the success is already the
    UserAuthentication event of the same sign-in."""
    raw = read_table(data, "cloudtrail_events")
    names = text(raw["eventName"])
    failed = aws_failed(raw)
    keep = (names.isin(["UserAuthentication"]) | (names.eq("ExternalIdPDirectoryLogin") & failed)).to_numpy()
    raw, names, failed = raw[keep], names[keep], failed[keep]
    errors = text(raw["errorCode"])
    resolved = [people.from_aws(i, n) for i, n in zip(text(raw["userId"]), text(raw["userName"]))]
    user_names = text(raw["userName"]).tolist()
    frame = pd.DataFrame({
        "time": utc(raw["eventTime"]).to_numpy(),
        "person": [k for k, _ in resolved],
        "user": [people.labels.get(k) or n for (k, _), n in zip(resolved, user_names)],
        "ip": text(raw["sourceIPAddress"]).to_numpy(),
        "event": names.to_numpy(),
        "ok": (names.eq("UserAuthentication") & ~failed).to_numpy(dtype=bool),
        "error_code": errors.to_numpy(),
        "error_message": text(raw["errorMessage"]).to_numpy(),
        "known": [k for _, k in resolved], "aws_user_name": user_names}, columns=AWS_COLUMNS)
    return frame.sort_values("time", kind="stable").reset_index(drop=True)


def explain_entra_error(code, reason=None) -> str:
    """An Entra sign-in error in words ("" for success)."""
    if code is None or pd.isna(code) or int(code) == 0:
        return ""
    words = AADSTS.get(int(code)) or reason or f"see {ERROR_PAGE}{int(code)}"
    return f"AADSTS{int(code)}: {words}"


def explain_aws_error(code, message) -> str:
    message = str(message or code or "failed")
    lowered = message.casefold()
    hint = next((h for words, h in AWS_HINTS if any(w in lowered for w in words)), "")
    return f"{message} ({hint})" if hint else message


# ----------------------------------------------------------------------------------------------- correlation


def _family(ip) -> str:
    return "6" if ":" in str(ip) else "4"


def _ip_match(a, b) -> str | None:
    """How two IPs agree: "ip" equal, "no ip" one missing, "family" IPv4 vs IPv6 (not comparable); None: differ."""
    if not a or not b or pd.isna(a) or pd.isna(b):
        return "no ip"
    if _family(a) != _family(b):
        return "family"
    return "ip" if str(a).strip() == str(b).strip() else None


def _column(frame: pd.DataFrame, name: str) -> list:
    """A column as a Python list, missing as None (iterating arrow strings or datetimes per row is slow)."""
    if name == "time":
        times = pd.to_datetime(frame[name], utc=True).dt.as_unit("ns")  # pandas 3 may hold s or us
        return [None if missing else int(v) for v, missing in zip(times.array.asi8, times.isna())]
    values = frame[name].astype(object)
    return values.where(values.notna(), None).tolist()


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts (to_dict("records") boxes every cell through pandas: twice as slow)."""
    columns = {c: (list(frame[c]) if c == "time" else _column(frame, c)) for c in frame.columns}
    return [dict(zip(columns, row)) for row in zip(*columns.values())]


def _pairs(entra: pd.DataFrame, aws: pd.DataFrame, window: pd.Timedelta, by: str) -> list[tuple[int, int, str]]:
    """One-to-one (entra row, aws row, how) matches, closest in time first. by="person": same person, IPs
    compatible; by="ip": same IP (both present), for AWS events of nobody known."""
    group_of = "person" if by == "person" else "ip"
    aws_ips, groups = _column(aws, "ip"), {}
    for j, (group, t) in enumerate(zip(_column(aws, group_of), _column(aws, "time"))):
        if group is not None and t is not None:
            groups.setdefault(group, []).append((t, j))
    groups = {g: ([t for t, _ in sorted(v)], [j for _, j in sorted(v)]) for g, v in groups.items()}
    span = window.value
    candidates = []
    for i, (group, ip, t) in enumerate(zip(_column(entra, group_of), _column(entra, "ip"), _column(entra, "time"))):
        if group is None or t is None or group not in groups:
            continue
        times, rows = groups[group]
        for k in range(bisect.bisect_left(times, t - span), bisect.bisect_right(times, t + span)):
            how = _ip_match(ip, aws_ips[rows[k]])
            if how is not None:
                candidates.append((abs(times[k] - t), i, rows[k], how))
    used_e, used_a, pairs = set(), set(), []
    for _, i, j, how in sorted(candidates):
        if i not in used_e and j not in used_a:
            used_e.add(i)
            used_a.add(j)
            pairs.append((i, j, how))
    return pairs


MATCHED_BY = {"ip": "user, time and IP", "no ip": "user and time (one side has no IP)",
              "family": "user and time (IPv4 and IPv6: IPs not compared)"}


def correlate(entra, aws, window: pd.Timedelta = WINDOW) -> pd.DataFrame:
    """Entra sign-ins and AWS events matched one to one (CORRELATION_COLUMNS), newest first. `entra` / `aws`:
    the frames of entra_events / aws_events, or the text saying why that side was not collected."""
    e = entra if isinstance(entra, pd.DataFrame) else pd.DataFrame(columns=ENTRA_COLUMNS)
    a = aws if isinstance(aws, pd.DataFrame) else pd.DataFrame(columns=AWS_COLUMNS)
    e, a = e.reset_index(drop=True), a.reset_index(drop=True)
    pairs = _pairs(e, a, window, "person")
    done_e, done_a = {i for i, _, _ in pairs}, {j for _, j, _ in pairs}
    # second pass: a name AWS could not place (wrong NameID) meets the Entra sign-in of the same time and IP
    rest_e = e.drop(index=list(done_e))
    rest_a = a.drop(index=list(done_a))
    rest_a = rest_a[~rest_a["known"].astype(bool)]
    loose = _pairs(rest_e.reset_index(), rest_a.reset_index(), window, "ip")
    pairs += [(int(rest_e.index[i]), int(rest_a.index[j]), "name") for i, j, _ in loose]
    done_e |= {i for i, _, _ in pairs}
    done_a |= {j for _, j, _ in pairs}
    gone = {"entra": entra if isinstance(entra, str) else None, "aws": aws if isinstance(aws, str) else None}
    er, ar = _records(e), _records(a)
    rows = [_row(er[i], ar[j], how, window, gone) for i, j, how in pairs]
    rows += [_row(er[i], None, "", window, gone) for i in range(len(er)) if i not in done_e]
    rows += [_row(None, ar[j], "", window, gone) for j in range(len(ar)) if j not in done_a]
    frame = pd.DataFrame(rows, columns=CORRELATION_COLUMNS)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame.sort_values("time", ascending=False, kind="stable").reset_index(drop=True)


def _minutes(window: pd.Timedelta) -> str:
    return f"±{window.total_seconds() / 60:g} min"


def _row(ev, av, how: str, window: pd.Timedelta, gone: dict) -> dict:
    within = _minutes(window)
    row = dict.fromkeys(CORRELATION_COLUMNS, "")
    row.update(entra_time=pd.NaT, aws_time=pd.NaT, seconds_apart=np.nan)
    if ev is not None:
        failure = explain_entra_error(ev["error_code"], ev["failure_reason"])
        row.update(time=ev["time"], person=ev["person"], user=ev["user"], entra_time=ev["time"],
                   entra_result="success" if ev["ok"] else f"failure: {failure}",
                   mfa={"multiFactorAuthentication": "multi-factor",
                        "singleFactorAuthentication": "single-factor"}.get(ev["mfa"], ev["mfa"] or ""),
                   conditional_access=ev["conditional_access"] or "", entra_ip=ev["ip"] or "")
    else:
        row["entra_result"] = gone["entra"] or f"no Entra sign-in to the app within {within}"
    if av is not None:
        refused = "" if av["ok"] else explain_aws_error(av["error_code"], av["error_message"])
        row.update(aws_time=av["time"], aws_event=av["event"], aws_ip=av["ip"] or "",
                   aws_result="signed in" if av["ok"] else f"refused: {refused}", aws_user_name=av["aws_user_name"])
        if ev is None:
            row.update(time=av["time"], person=av["person"], user=av["user"])
    else:
        row["aws_result"] = gone["aws"] or f"no AWS sign-in within {within}"
    if ev is not None and av is not None:
        row["seconds_apart"] = round((av["time"] - ev["time"]).total_seconds(), 1)
        row["matched_by"] = (f"time and IP only: AWS saw user name {av['aws_user_name']!r}, which is no Identity "
                             "Center user" if how == "name" else MATCHED_BY[how])
    row["category"], row["outcome"] = _outcome(ev, av, row, gone, within)
    return row


def _outcome(ev, av, row: dict, gone: dict, within: str) -> tuple[str, str]:
    if ev is not None and not ev["ok"]:
        return ENTRA_FAILED, f"Entra refused the sign-in: {row['entra_result'][len('failure: '):]}"
    if ev is not None and av is not None:
        if av["ok"]:
            return BOTH, "signed in to AWS"
        name = (f"; AWS looked for user name {av['aws_user_name']!r}" if row["matched_by"].startswith("time and IP")
                else "")
        return REFUSED, f"Entra issued the SAML response, AWS refused it: {row['aws_result'][len('refused: '):]}{name}"
    if ev is not None:
        if gone["aws"]:
            return ENTRA_ONLY, f"Entra sign-in; the AWS side was {gone['aws']}"
        return ENTRA_ONLY, (f"Entra sign-in with no AWS sign-in within {within}: the SAML response never reached "
                            "AWS (browser closed, network), or AWS logged it in a trail or Region not collected")
    if not av["ok"]:
        return AWS_FAILED, f"AWS refused a SAML response: {row['aws_result'][len('refused: '):]}"
    if gone["entra"]:
        return AWS_ONLY, f"AWS sign-in; the Entra side was {gone['entra']}"
    return AWS_ONLY, (f"AWS sign-in with no Entra sign-in to the app within {within}: a sign-in just outside the "
                      "Entra window, or through another identity provider")


# ----------------------------------------------------------------------------------------------- per snapshot


@dataclass
class Activity:
    """Everything the sign-in report reads, built once: the events of each side (or why not collected), their
    correlation, who is who, and the collection window."""

    entra: pd.DataFrame | str
    aws: pd.DataFrame | str
    correlation: pd.DataFrame
    people: Directory
    window: str                # "the last 30 days", for sentences


def _window(data) -> str:
    window = getattr(data, "manifest", {}).get("window") or {}
    try:
        days = (pd.Timestamp(window["end"]) - pd.Timestamp(window["start"])).days
        return f"the last {days} days"
    except (KeyError, TypeError, ValueError):
        return "the collection window"


def activity(data, settings=None, window: pd.Timedelta = WINDOW) -> Activity:
    people = directory(data, settings)
    sides = {}
    for side, read in (("entra", entra_events), ("aws", aws_events)):
        try:
            sides[side] = read(data, people)
        except NotCollected as exc:
            sides[side] = not_collected(exc)
    return Activity(sides["entra"], sides["aws"], correlate(sides["entra"], sides["aws"], window), people,
                    _window(data))


def stamp(value) -> str:
    """A timestamp as "YYYY-MM-DD HH:MM" (UTC), "" when missing."""
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, pd.Timestamp) and not pd.isna(value) else ""
