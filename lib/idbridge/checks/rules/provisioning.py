"""Provisioning health: the Entra provisioning job of the AWS app, its log, its scope and the SCIM token.

Sources: the job's synchronizationStatus (shared reference §2a; `0001-01-01T00:00:00Z` means "never"), the
provisioning log (auditLogs/provisioning), and the SCIM token's creation date, which no API returns: the consultant
records it (checks.scim_token_created), CloudTrail's CreateBearerToken is the fallback.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterator

import pandas as pd

from idbridge.checks.base import Hit, NotApplicable, check
from idbridge.checks.common import iso as _iso, plain as _plain, when as _when
from idbridge.checks.controls import iso, nist
from idbridge.model.provisioning_errors import error_words
from idbridge.model.scope import ENTRA_TABLES, IDC_TABLES, bridge, text
from idbridge.snapshot.store import NotCollected

NEVER = "0001-01-01T00:00:00Z"
TOKEN_LIFETIME_DAYS = 365  # AWS: a SCIM access token is valid for one year

MS_QUARANTINE = ("https://learn.microsoft.com/en-us/entra/identity/app-provisioning/"
                 "application-provisioning-quarantine-status")
GRAPH_STATUS = "https://learn.microsoft.com/en-us/graph/api/resources/synchronization-synchronizationstatus"
GRAPH_QUARANTINE = "https://learn.microsoft.com/en-us/graph/api/resources/synchronization-synchronizationquarantine"
MS_TUTORIAL = "https://learn.microsoft.com/en-us/entra/identity/saas-apps/aws-single-sign-on-provisioning-tutorial"
MS_HOW = "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/how-provisioning-works"
MS_LOGS = "https://learn.microsoft.com/en-us/graph/api/resources/provisioningobjectsummary"
AWS_PROVISION = "https://docs.aws.amazon.com/singlesignon/latest/userguide/provision-automatically.html"
AWS_ROTATE = "https://docs.aws.amazon.com/singlesignon/latest/userguide/rotate-token.html"
AWS_ENTRA = "https://docs.aws.amazon.com/singlesignon/latest/userguide/idp-microsoft-entra.html"
AWS_SCIM_TRAIL = "https://docs.aws.amazon.com/singlesignon/latest/userguide/scim-logging-using-cloudtrail.html"

# synchronizationQuarantine.reason in words (Graph reference; Microsoft's quarantine page).
QUARANTINE_REASONS = {
    "EncounteredQuarantineException": "Entra could not authenticate to the Identity Center SCIM endpoint: the secret "
                                      "token is invalid or expired (it lives one year), was rotated in AWS without "
                                      "being updated in Entra, or the tenant URL is wrong.",
    "EncounteredBaseEscrowThreshold": "Too many objects keep failing to provision: the count of failed objects "
                                      "passed the base threshold.",
    "EncounteredTotalEscrowThreshold": "More objects failed to provision than the service tolerates in total "
                                       "(over 40,000).",
    "EncounteredEscrowProportionThreshold": "Too large a share of the objects processed failed (over 40 % of a "
                                            "cycle's exports).",
    "QuarantinedOnDemand": "The job was put into quarantine on purpose, by an administrator or a Graph call.",
    "TooManyDeletes": "A cycle would have deleted more objects in Identity Center than the accidental-deletion "
                      "threshold allows; the service stopped before deleting anything.",
    "IngestionInterrupted": "Reading changes from Entra was interrupted; the job has to be restarted.",
    "Unknown": "Entra gives no reason.",
}


# --------------------------------------------------------------------------------------------- helpers


def _job(data) -> pd.Series | None:
    jobs = data.table("entra_sync_jobs")
    return None if jobs.empty else jobs.iloc[0]


def _status(job: pd.Series) -> dict:
    try:
        return json.loads(job.get("status_json") or "{}") or {}
    except (TypeError, ValueError):
        return {}


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(p for p in parts if p) or "0 min"


# --------------------------------------------------------------------------------------------- job status


@check(id="provisioning.job_not_active", title="Provisioning job missing or not active",
       passed="The AWS app has a provisioning job, its status is Active and its schedule is Active (or not reported).",
       severity="high", area="provisioning", subject_kind="app",
       controls=nist("AC-2(1)", "AC-2(3)") + iso("5.16", "5.18"),
       meaning="Entra is not provisioning Identity Center: joiners do not get their AWS user, and leavers keep "
               "theirs enabled, because only the provisioning job disables them.",
       fix="Entra admin center › Enterprise apps › AWS IAM Identity Center › Provisioning: configure the job with "
           "the SCIM endpoint and token from Identity Center (Settings › Automatic provisioning), then Start "
           "provisioning; resume a paused job; for a quarantined job see provisioning.quarantined.",
       references=(MS_TUTORIAL, GRAPH_STATUS, AWS_PROVISION), tables=("entra_sync_jobs",))
def job_not_active(data, settings) -> Iterator[Hit]:
    job = _job(data)
    if job is None:
        yield Hit(settings.app_subject, {"job": None}, detail="no provisioning job is configured on the app")
        return
    code, schedule = _plain(job.get("statusCode")), _plain(job.get("scheduleState"))
    if code != "Active" or schedule not in (None, "Active"):
        yield Hit(settings.app_subject, {"jobId": job.get("id"), "statusCode": code, "scheduleState": schedule},
                  detail=f"job status is {code}, schedule {schedule}")


@check(id="provisioning.quarantined", title="Provisioning job in quarantine",
       passed="The provisioning job, if there is one, is not in quarantine: its status is not Quarantine and no "
              "quarantine reason is set.",
       severity="high", area="provisioning", subject_kind="app",
       controls=nist("AC-2(1)", "AC-2(3)") + iso("5.16", "5.18"),
       meaning="Entra stopped provisioning normally: a quarantined job retries at most once a day and is disabled "
               "after four weeks. Nothing reaches Identity Center, leavers stay enabled there.",
       fix="Remove the cause given in the evidence (for invalid credentials: create a new SCIM token in Identity "
           "Center, paste it as Secret Token, Test Connection), then Restart provisioning.",
       references=(MS_QUARANTINE, GRAPH_QUARANTINE), tables=("entra_sync_jobs",))
def quarantined(data, settings) -> Iterator[Hit]:
    job = _job(data)
    if job is None:
        return
    reason = _plain(job.get("quarantineReason"))
    if job.get("statusCode") != "Quarantine" and not reason:
        return
    quarantine = _status(job).get("quarantine") or {}
    explained = QUARANTINE_REASONS.get(reason or "", "Entra gives no reason." if not reason
                                       else f"reason {reason} is not one Graph documents")
    message = _plain(job.get("quarantineErrorMessage"))
    evidence = {"reason": reason, "explanation": explained,
                "errorCode": _plain(job.get("quarantineErrorCode")),
                "errorMessage": message[:1000] if isinstance(message, str) else message,
                "since": _plain(job.get("quarantineCurrentBegan")), "seriesBegan": quarantine.get("seriesBegan"),
                "seriesCount": quarantine.get("seriesCount"), "nextAttempt": quarantine.get("nextAttempt")}
    yield Hit(settings.app_subject, evidence, detail=f"{reason or 'no reason'}: {explained}")


@check(id="provisioning.cycle_overdue", title="No successful provisioning cycle recently",
       passed="The provisioning job, if there is one, ended a successful cycle within two cycle lengths (2 × "
              "checks.provisioning_cycle_minutes, 80 minutes by default) before collection.",
       severity="medium", area="provisioning", subject_kind="app",
       controls=nist("AC-2", "AC-2(1)") + iso("5.16", "5.18"),
       meaning="Cycles run about every 40 minutes; when the last successful one is older than two cycles, "
               "changes in Entra (joiners, leavers, renames, group changes) are not reaching Identity Center.",
       fix="Look at the job's status and provisioning log for what stops the cycles (quarantine, paused job, "
           "errors); once fixed, Restart provisioning or provision the urgent users on demand.",
       references=(MS_HOW, GRAPH_STATUS), tables=("entra_sync_jobs",))
def cycle_overdue(data, settings) -> Iterator[Hit]:
    job = _job(data)
    if job is None:
        return
    limit = timedelta(minutes=2 * settings.checks.provisioning_cycle_minutes)
    ended = _when(job.get("lastSuccessfulExecutionEnded"))
    evidence = {"lastSuccessfulCycleEnded": _iso(ended), "limit_minutes": int(limit.total_seconds() // 60),
                "lastExecutionState": _plain(job.get("lastExecutionState")),
                "lastExecutionEnded": _plain(job.get("lastExecutionEnded")), "collected_at": _iso(settings.now)}
    if ended is None:
        yield Hit(settings.app_subject, evidence, detail="the job has no successful cycle on record")
    elif settings.now - ended > limit:
        age = settings.now - ended
        evidence["age_minutes"] = int(age.total_seconds() // 60)
        yield Hit(settings.app_subject, evidence, detail=f"last successful cycle ended {_duration(age)} before "
                                                         f"collection (limit {evidence['limit_minutes']} min)")


@check(id="provisioning.steady_state_never", title="Provisioning never reached steady state",
       passed="The provisioning job, if there is one, has reached steady state at least once "
              "(steadyStateFirstAchievedTime is set).",
       severity="medium", area="provisioning", subject_kind="app",
       controls=nist("AC-2(1)") + iso("5.16"),
       meaning="The job has never completed a full pass over everything in scope (steadyStateFirstAchievedTime is "
               "0001-01-01): the initial cycle is still running, keeps failing, or the job was restarted and has "
               "not caught up. Identity Center may be missing whole parts of the scope.",
       fix="Check the job's progress and the provisioning log; fix what fails, then let the initial cycle finish "
           "(large tenants take hours) before relying on Identity Center's content.",
       references=(GRAPH_STATUS, MS_HOW), tables=("entra_sync_jobs",))
def steady_state_never(data, settings) -> Iterator[Hit]:
    job = _job(data)
    if job is None:
        return
    raw = _plain(job.get("steadyStateFirstAchievedTime"))
    if _when(raw) is None:
        yield Hit(settings.app_subject, {"steadyStateFirstAchievedTime": raw or NEVER,
                                         "statusCode": _plain(job.get("statusCode"))},
                  detail="steadyStateFirstAchievedTime is 0001-01-01T00:00:00Z: never")


@check(id="provisioning.successive_failures", title="Provisioning cycles failing in a row",
       passed="The provisioning job, if there is one, has no complete cycle failures in a row "
              "(countSuccessiveCompleteFailures is 0).",
       severity="medium", area="provisioning", subject_kind="app",
       controls=nist("AC-2(1)") + iso("5.16"),
       meaning="The last cycles failed as a whole (not object by object): nothing is being provisioned, and "
               "Entra quarantines a job that keeps failing.",
       fix="Read the last execution's error in the evidence (often the SCIM token or the tenant URL) and fix it; "
           "Test Connection in the app's provisioning settings confirms the credentials.",
       references=(GRAPH_STATUS, MS_QUARANTINE), tables=("entra_sync_jobs",))
def successive_failures(data, settings) -> Iterator[Hit]:
    job = _job(data)
    if job is None:
        return
    failures = _plain(job.get("countSuccessiveCompleteFailures")) or 0
    if int(failures) > 0:
        error = (_status(job).get("lastExecution") or {}).get("error") or {}
        yield Hit(settings.app_subject, {"countSuccessiveCompleteFailures": int(failures),
                                         "lastExecutionState": _plain(job.get("lastExecutionState")),
                                         "lastExecutionError": error.get("code")},
                  detail=f"{int(failures)} complete failures in a row")


@check(id="provisioning.scope_all", title="Provisioning scope is all users and groups",
       passed="Nothing shows the job provisioning all users and groups: Identity Center holds no SCIM-made group "
              "matching an Entra group not assigned to the AWS app, and the job counts no more synchronized groups "
              "than are assigned (the scope setting itself is not readable).",
       severity="medium", area="provisioning", subject_kind="app",
       controls=nist("AC-2", "AC-6") + iso("5.16", "5.18"),
       meaning="The job syncs every Entra user and group, not the ones assigned to the app: people without any "
               "need for AWS get an Identity Center user, and unrelated groups appear there. The setting itself is "
               "not readable through Graph; it is inferred from Identity Center holding SCIM-made groups that are "
               "not assigned to the app, or from the job counting more groups than are assigned.",
       fix="Provisioning › Settings › Scope: Sync only assigned users and groups; assign the groups that need AWS. "
           "Then remove the out-of-scope users and groups from Identity Center (Entra disables them when they "
           "leave scope).",
       references=(MS_TUTORIAL, MS_HOW), tables=ENTRA_TABLES + IDC_TABLES)
def scope_all(data, settings) -> Iterator[Hit]:
    model = bridge(data)
    if model.scope.sync_all:
        yield Hit(settings.app_subject, dict(model.sync_all_evidence),
                  detail="the job provisions principals that are not assigned to the app")


# --------------------------------------------------------------------------------------------- provisioning log

_DETAIL = re.compile(r'"detail"\s*:\s*"((?:[^"\\]|\\.)*)"')
_RETRY = re.compile(r"\.?\s*This operation was retried.*$", re.DOTALL)
UNPARSABLE = "Request is unparsable, syntactically incorrect, or violates schema."


def error_detail(reason: Any) -> str | None:
    """The SCIM error's `detail` out of Entra's reason text ("... Web Response: {...detail...}"), else the reason
    without its retry boilerplate."""
    if not isinstance(reason, str) or not reason:
        return None
    match = _DETAIL.search(reason)
    if match:
        return json.loads(f'"{match[1]}"')
    return _RETRY.sub("", reason).strip()[:500]


def current_failures(logs: pd.DataFrame) -> pd.DataFrame:
    """Failures not followed by a success for the same object: a later success means the object went through."""
    if logs.empty:
        return logs
    frame = logs.assign(_at=pd.to_datetime(text(logs["activityDateTime"]), utc=True, errors="coerce"),
                        _status=text(logs["status"]).str.lower(), _source=text(logs["sourceId"]))
    last_ok = frame[frame["_status"].eq("success").fillna(False)].groupby("_source")["_at"].max()
    failed = frame[frame["_status"].eq("failure").fillna(False)]
    if last_ok.empty:
        return failed
    cleared = failed["_at"] <= pd.to_datetime(failed["_source"].map(last_ok), utc=True)
    return failed[~cleared.fillna(False).astype(bool)]


def _actions(rows: pd.DataFrame) -> pd.Series:
    """provisioningAction (v1.0's name), else the deprecated `action` of older snapshots, as provisioningAction
    spells it ("create", not "Create")."""
    preferred = text(rows["provisioningAction"]) if "provisioningAction" in rows.columns else None
    older = text(rows["action"]) if "action" in rows.columns else pd.Series(pd.NA, index=rows.index, dtype="string")
    older = older.str[:1].str.lower() + older.str[1:]
    return older if preferred is None else preferred.fillna(older)


@check(id="provisioning.errors", title="Objects Entra fails to provision",
       passed="The collected provisioning log holds no failure that was not followed by a later success for the same "
              "object.",
       severity="medium", area="provisioning", subject_kind="user",
       controls=nist("AC-2(1)", "AU-6") + iso("5.16"),
       meaning="Identity Center refused these objects (the log's errors say why); until the cause is fixed in "
               "Entra, the user or group is missing or out of date in Identity Center and cannot sign in to AWS. A "
               "failure followed by a success for the same object is not reported.",
       fix="Fix the attribute named in the error in Entra (missing names, a second phone or email mapped, a "
           "forbidden character, a value another user already holds), then provision the object on demand. For "
           "\"Request is unparsable\" the precise reason is in CloudTrail (identitystore-scim errorMessage).",
       references=(MS_LOGS, AWS_SCIM_TRAIL, AWS_ENTRA),
       tables=("entra_provisioning_logs", "entra_users", "entra_groups"))
def errors(data, settings) -> Iterator[Hit]:
    failures = current_failures(data.table("entra_provisioning_logs"))
    if failures.empty:
        return
    users, groups = data.table("entra_users"), data.table("entra_groups")
    upn = pd.Series(text(users["userPrincipalName"]).to_numpy(), index=text(users["id"]).to_numpy())
    names = pd.Series(text(groups["displayName"]).to_numpy(), index=text(groups["id"]).to_numpy())
    failures = failures.assign(_code=text(failures["errorCode"]).fillna("(no code)"),
                               _detail=failures["errorReason"].map(error_detail).astype("string").fillna(""))
    for source, rows in failures.groupby("_source", sort=True):
        kind = str(rows["sourceType"].iloc[0] or "").lower()
        display = rows["sourceDisplayName"].iloc[0]
        if kind == "group":
            subject = f"group:{names.get(source, display)}"
        else:
            subject = f"user:{upn.get(source) if source in upn.index else display}"
        grouped = (rows.groupby(["_code", "_detail"], sort=False)
                   .agg(n=("_at", "size"), last=("_at", "max")).reset_index()
                   .sort_values(["n", "last"], ascending=False))
        errors_list = []
        for row in grouped.to_dict("records"):
            item = {"errorCode": row["_code"], "detail": row["_detail"] or None, "count": int(row["n"]),
                    "last": _iso(row["last"].to_pydatetime()) if pd.notna(row["last"]) else None}
            if row["_detail"] == UNPARSABLE:
                item["hint"] = "the specific reason is in CloudTrail (identitystore-scim errorMessage)"
            errors_list.append(item)
        actions = sorted(set(_actions(rows).dropna()))
        evidence = {"sourceId": source, "sourceDisplayName": display, "failures": int(len(rows)),
                    "actions": actions, "errors": errors_list}
        first = errors_list[0]
        # The reader's words first; Identity Center's own detail after them (the code stays in the evidence).
        yield Hit(subject, evidence, detail=f"{len(rows)} failure(s), latest: "
                                            f"{error_words(first['errorCode'], first['detail'])}"
                                            + (f" — {first['detail']}" if first["detail"] else ""))


# --------------------------------------------------------------------------------------------- SCIM token


def _token_events(data) -> tuple[pd.DataFrame, str | None]:
    """CreateBearerToken events, newest first, and why none could be read (CloudTrail not collected)."""
    try:
        events = data.table("cloudtrail_events")
    except (NotCollected, KeyError) as exc:
        return pd.DataFrame(), getattr(exc, "why", "cloudtrail_events not in the snapshot")
    if events.empty:
        return events, None
    tokens = events[text(events["eventName"]).eq("CreateBearerToken").fillna(False)
                    & text(events["errorCode"]).isna()]
    tokens = tokens.assign(_at=pd.to_datetime(text(tokens["eventTime"]), utc=True, errors="coerce"))
    return tokens.dropna(subset=["_at"]).sort_values("_at", ascending=False), None


def _expiry_severity(days_left: int, horizons: list[int]) -> str | None:
    """Expired: critical; then by horizon, the nearest one worst (e.g. [90, 30, 7] -> low, medium, high)."""
    if days_left < 0:
        return "critical"
    levels = ["low", "medium", "high"]
    severity = None
    for index, horizon in enumerate(sorted(horizons, reverse=True)):
        if days_left <= horizon:
            severity = levels[min(index, len(levels) - 1)]
    return severity


@check(id="provisioning.scim_token_expiry", title="SCIM access token expires soon or has expired",
       passed="The SCIM access token, dated by checks.scim_token_created or else the newest CloudTrail "
              "CreateBearerToken event, has more days of its one-year life left than the widest of "
              "checks.scim_token_horizons_days (90 by default).",
       severity="high", area="provisioning", subject_kind="app",
       controls=nist("AC-2(1)", "IA-5") + iso("5.17"),
       graded={"critical": "the token has expired",
               "medium": "it expires within the middle horizon of checks.scim_token_horizons_days (30 days by "
                         "default)",
               "low": "it expires within the widest horizon only (90 days by default)"},
       meaning="Identity Center's SCIM token is valid for one year; when it expires, provisioning stops (the job "
               "goes into quarantine with invalid credentials). No API returns the token's date: it is the date "
               "recorded in the parameters (checks.scim_token_created), else the newest CloudTrail "
               "CreateBearerToken event.",
       fix="Identity Center › Settings › Automatic provisioning › Generate token (two may exist at once), paste it "
           "into the app's provisioning Secret Token, Test Connection, delete the old token, and record the new "
           "creation date in the parameters.",
       references=(AWS_ROTATE, AWS_PROVISION), tables=())
def scim_token_expiry(data, settings) -> Iterator[Hit]:
    recorded: date | None = settings.checks.scim_token_created
    events, why = _token_events(data)
    newest = events.iloc[0] if not events.empty else None
    trail_at = newest["_at"].to_pydatetime() if newest is not None else None
    if recorded is None and trail_at is None:
        if why:  # CloudTrail would have been the evidence, and it was not collected
            raise NotCollected("aws.cloudtrail", f"{why}; and no token creation date is recorded in the "
                                                 "parameters (checks.scim_token_created)")
        raise NotApplicable("no token creation date recorded in the parameters (checks.scim_token_created) and "
                            "no CreateBearerToken event in the window: record the date to have it checked")
    if recorded is not None:
        created = datetime(recorded.year, recorded.month, recorded.day, tzinfo=timezone.utc)
        source = "recorded in the parameters (checks.scim_token_created)"
    else:
        created = trail_at
        source = (f"CloudTrail CreateBearerToken {newest.get('eventId')} by {_plain(newest.get('userName'))} "
                  "(no date recorded in the parameters)")
    expires = created + timedelta(days=TOKEN_LIFETIME_DAYS)
    days_left = (expires.date() - settings.now.astimezone(timezone.utc).date()).days  # whole days, as recorded
    severity = _expiry_severity(days_left, settings.checks.scim_token_horizons_days)
    if severity is None:
        return
    evidence: dict[str, Any] = {"created": _iso(created.date() if recorded else created), "source": source,
                                "expires": _iso(expires), "days_left": days_left,
                                "horizons_days": list(settings.checks.scim_token_horizons_days)}
    if recorded is not None and trail_at is not None:
        evidence["cloudtrail_created"] = _iso(trail_at)
        if abs((trail_at.date() - recorded).days) > 1:
            evidence["mismatch"] = (f"the parameters say {recorded.isoformat()}, CloudTrail's newest "
                                    f"CreateBearerToken is {_iso(trail_at)}: a token was created since, or the "
                                    "recorded date is wrong; confirm which token Entra uses")
    elif recorded is not None and why:
        evidence["cloudtrail"] = f"not cross-checked: {why}"
    detail = f"expired {-days_left} days ago" if days_left < 0 else f"expires in {days_left} days"
    yield Hit(settings.app_subject, evidence, severity=severity, detail=f"SCIM token {detail} ({_iso(expires)})")
