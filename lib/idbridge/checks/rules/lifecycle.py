"""What keeps working after a correct setup, and what quietly stops: deprovisioning through the provisioning job,
and access that outlives it (sessions, revocation).

Two kinds of unit here:
- checks on collected data: the job's schema (attribute mappings and object mappings) decides whether a leaver is
  ever disabled in Identity Center;
- guided checkpoints: settings no read-only API returns. Graph keeps the notification email, the accidental-
  deletion threshold and SkipOutOfScopeDeletions with the job's credentials (synchronization/secrets: writing
  them needs Synchronization.ReadWrite.All, and the Graph reference documents no read), and the access portal
  session length is a console setting with no API. These units judge what the consultant recorded in the
  parameters after looking; with nothing recorded they are not applicable and say where to look.
"""

from __future__ import annotations

import json
import re
from typing import Iterator

import pandas as pd

from idbridge.checks.base import Hit, NotApplicable, check
from idbridge.checks.common import plain as _plain
from idbridge.checks.controls import iso, nist
from idbridge.model.scope import text
from idbridge.snapshot.store import NotCollected

GRAPH_OBJECT_MAPPING = "https://learn.microsoft.com/en-us/graph/api/resources/synchronization-objectmapping"
MS_ATTRIBUTES = ("https://learn.microsoft.com/en-us/entra/identity/app-provisioning/"
                 "customize-application-attributes")
MS_HOW = "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/how-provisioning-works"
MS_TUTORIAL = "https://learn.microsoft.com/en-us/entra/identity/saas-apps/aws-single-sign-on-provisioning-tutorial"
MS_SKIP = "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/skip-out-of-scope-deletions"
MS_ACCIDENTAL = "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/accidental-deletions"
GRAPH_SECRETS = "https://learn.microsoft.com/en-us/graph/api/synchronization-serviceprincipal-put-synchronization"
AWS_SESSION = ("https://docs.aws.amazon.com/singlesignon/latest/userguide/"
               "user-session-duration-prereqs-considerations.html")
AWS_REVOKE = "https://docs.aws.amazon.com/singlesignon/latest/userguide/prereqs-revoking-user-permissions.html"
AWS_REVOKE_DELETED = "https://docs.aws.amazon.com/singlesignon/latest/userguide/authconcept-revoke-access.html"

FLOWS = ("Add", "Update", "Delete")  # objectFlowTypes; Graph's default when absent is all three
_SOFT_DELETED = re.compile(r"\[IsSoftDeleted\]", re.IGNORECASE)
_USER_IDS = ("identitystore:userid", "aws:userid")  # condition keys AWS's deny policy names a person by


def _schema_table(data, name: str) -> pd.DataFrame:
    """A table of the job schema; snapshots taken before it existed say so instead of failing."""
    try:
        return data.table(name)
    except KeyError:
        raise NotCollected("entra.provisioning", f"{name} is not in this snapshot (collected by an older "
                                                 "idbridge): collect again") from None


def _kind(frame: pd.DataFrame) -> pd.Series:
    return text(frame["sourceObjectName"]).str.lower()


# --------------------------------------------------------------------------------------------- job schema


@check(id="provisioning.active_not_mapped", title="Provisioning no longer maps `active`: leavers stay enabled",
       passed="The job's User object mapping sends `active` from IsSoftDeleted, as the AWS gallery app does, so a "
              "user who is disabled, deleted or unassigned in Entra is disabled in Identity Center (jobs whose "
              "schema lists no User mapping are left to provisioning.target_actions_off).",
       severity="high", area="provisioning", subject_kind="app",
       meaning="Entra deprovisions a user in Identity Center by sending active = false, computed from IsSoftDeleted "
               "(Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\") in the gallery mapping). "
               "Without that mapping, or with `active` fed from something else, people who leave, are disabled or "
               "lose their assignment keep an enabled Identity Center user and every account assignment of their "
               "groups, while provisioning reports success.",
       fix="Provisioning › Mappings › Provision Microsoft Entra ID Users › Add New Mapping (or edit `active`): "
           "expression Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\") to target `active`; "
           "then restart provisioning so users already out of scope are disabled.",
       controls=nist("AC-2(3)", "PS-4") + iso("5.16", "5.18"),
       references=(MS_TUTORIAL, MS_ATTRIBUTES, MS_HOW), tables=("entra_sync_jobs", "entra_sync_mappings"))
def active_not_mapped(data, settings) -> Iterator[Hit]:
    if data.table("entra_sync_jobs").empty:
        return  # no job: provisioning.job_not_active says so
    mappings = data.table("entra_sync_mappings")
    users = mappings[_kind(mappings).eq("user").fillna(False)]
    for job_id, rows in users.groupby(text(users["jobId"])):
        active = rows[text(rows["targetAttributeName"]).str.lower().eq("active").fillna(False)]
        expressions = [str(e) for e in active["sourceExpression"].dropna()]
        if any(_SOFT_DELETED.search(e) for e in expressions):
            continue
        yield Hit(settings.app_subject, {"jobId": job_id, "activeMapping": expressions or None,
                                         "expected": 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'},
                  detail=("`active` is not mapped" if not expressions
                          else f"`active` comes from {expressions[0]}, not IsSoftDeleted"))
        return  # one finding for the app (a second job would say the same)


def _flows(value) -> set[str]:
    value = _plain(value)
    if value is None or not str(value).strip():
        return set(FLOWS)
    return {f.strip().capitalize() for f in str(value).split(",") if f.strip()}


@check(id="provisioning.target_actions_off", title="Provisioning may not update or deprovision in Identity Center",
       passed="The job's User and Group object mappings are enabled and their target object actions include "
              "Update and Delete (Graph's objectMapping.flowTypes).",
       severity="high", area="provisioning", subject_kind="app",
       graded={"medium": "only the Group object mapping is affected"},
       meaning="Target object actions (Create, Update, Delete) decide what the job may do in Identity Center. With "
               "Delete off, users who leave scope or are deleted in Entra are never disabled or removed there; with "
               "Update off, no change reaches Identity Center (renames, group memberships, a disabled account); a "
               "disabled object mapping provisions nothing of that kind. Provisioning still reports success.",
       fix="Provisioning › Mappings › the User (and Group) mapping › Enabled: Yes, Target Object Actions: tick "
           "Create, Update and Delete › Save; then restart provisioning.",
       controls=nist("AC-2(1)", "AC-2(3)", "CM-6") + iso("5.16", "8.9"),
       references=(GRAPH_OBJECT_MAPPING, MS_ATTRIBUTES, MS_HOW), tables=("entra_sync_jobs",))
def target_actions_off(data, settings) -> Iterator[Hit]:
    if data.table("entra_sync_jobs").empty:
        return
    objects = _schema_table(data, "entra_sync_object_mappings")
    found, severity = [], "medium"
    for kind in ("User", "Group"):
        rows = objects[_kind(objects).eq(kind.lower()).fillna(False)]
        if rows.empty:
            found.append({"objectMapping": kind, "problem": "no such object mapping in the job's schema"})
            severity = "high" if kind == "User" else severity
            continue
        for row in rows.itertuples(index=False):
            flows = _flows(row.flowTypes)
            enabled = _plain(row.enabled)
            missing = [f for f in ("Update", "Delete") if f not in flows]
            if enabled is False or missing:
                found.append({"objectMapping": _plain(row.objectMapping) or kind, "enabled": enabled,
                              "flowTypes": sorted(flows, key=FLOWS.index) if flows <= set(FLOWS) else sorted(flows),
                              "problem": "disabled" if enabled is False else "no " + " / ".join(missing)})
                severity = "high" if kind == "User" else severity
    if found:
        yield Hit(settings.app_subject, {"objectMappings": found}, severity=severity,
                  detail="; ".join(f"{f['objectMapping']}: {f['problem']}" for f in found))


# --------------------------------------------------------------------------------------------- checkpoints


_WHERE = ("Entra admin center › Enterprise apps › the AWS IAM Identity Center app › Provisioning › Settings "
          "(notification email, 'Prevent accidental deletion' and its threshold); SkipOutOfScopeDeletions only "
          "through Graph, as an admin: GET …/servicePrincipals/{id}/synchronization/secrets (the answer also holds "
          "the SCIM token: read it on screen, never save it)")


@check(id="provisioning.deprovisioning_settings", title="Deprovisioning can be skipped or fail unnoticed",
       passed="As recorded in checks.provisioning_settings: out-of-scope deletions are not skipped, accidental-"
              "deletion prevention is on and failure notifications go to an address (a guided checkpoint: Graph "
              "returns these settings only with the job's credentials, so no read-only permission can verify them).",
       severity="medium", area="provisioning", subject_kind="app",
       graded={"high": "SkipOutOfScopeDeletions is recorded as true"},
       meaning="Three settings stored with the job's credentials decide whether deprovisioning happens and whether "
               "anyone hears when it does not: SkipOutOfScopeDeletions = true leaves users who leave scope enabled "
               "in Identity Center; without accidental-deletion prevention one bad scoping change disables "
               "everyone at once; without a notification email nobody is told the job went into quarantine.",
       fix="Provisioning › Settings: enter a monitored Notification Email and tick 'Send an email notification "
           "when a failure occurs', tick 'Prevent accidental deletion' with a threshold; set "
           "SkipOutOfScopeDeletions back to False (PUT …/synchronization/secrets, as an Application "
           "Administrator). Record what you see in checks.provisioning_settings.",
       controls=nist("AC-2(1)", "AC-2(3)", "CM-6") + iso("5.18", "8.9"),
       references=(MS_SKIP, MS_ACCIDENTAL, MS_TUTORIAL, GRAPH_SECRETS), tables=("entra_sync_jobs",))
def deprovisioning_settings(data, settings) -> Iterator[Hit]:
    # The record belongs to a job: without the job collected it cannot be tied to one; without a job it is moot.
    if data.table("entra_sync_jobs").empty:
        return
    record = settings.checks.provisioning_settings
    if record is None:
        raise NotApplicable("guided checkpoint, not readable with a read-only permission: read " + _WHERE +
                            ", then record checks.provisioning_settings")
    problems, severity = [], "medium"
    if record.skip_out_of_scope_deletions:
        problems.append("SkipOutOfScopeDeletions is true: users leaving scope are not disabled")
        severity = "high"
    if record.accidental_deletion_threshold is None:
        problems.append("accidental-deletion prevention is off")
    if not record.notification_email:
        problems.append("no notification email: failures and quarantine go unnoticed")
    if problems:
        yield Hit(settings.app_subject, {**record.model_dump(mode="json"), "source": "checks.provisioning_settings"},
                  severity=severity, detail="; ".join(problems) + f" (recorded {record.checked_on.isoformat()})")


@check(id="aws.portal_session_long", title="Access portal session longer than allowed",
       passed="The access portal session duration recorded in checks.portal_session_hours is at most "
              "checks.max_portal_session_hours (8 hours by default): a guided checkpoint, the setting has no API.",
       severity="medium", area="aws", subject_kind="app",
       graded={"high": "the recorded session is longer than a week"},
       meaning="A signed-in access portal session survives deprovisioning: someone disabled in Entra keeps opening "
               "new role sessions from the portal (and the CLI) until it ends, up to 90 days if configured so. "
               "Entra ends the session earlier only if its assertion carries SessionNotOnOrAfter.",
       fix="IAM Identity Center › Settings › Authentication › Configure session settings: lower the session "
           "duration to the engagement's maximum; record the value in checks.portal_session_hours.",
       controls=nist("AC-12", "IA-11") + iso("8.5"),
       references=(AWS_SESSION,), tables=("idc_instances",))  # the instance the recorded setting belongs to
def portal_session_long(data, settings) -> Iterator[Hit]:
    hours, limit = settings.checks.portal_session_hours, settings.checks.max_portal_session_hours
    if hours is None:
        raise NotApplicable("guided checkpoint, no API returns it: read IAM Identity Center › Settings › "
                            "Authentication › session duration, then record checks.portal_session_hours")
    if hours > limit:
        yield Hit(settings.app_subject, {"portal_session_hours": hours, "max_portal_session_hours": limit,
                                            "source": "checks.portal_session_hours"},
                  severity="high" if hours > 24 * 7 else None,
                  detail=f"portal session {hours:g} h > {limit:g} h")


def _denies_by_user(document) -> bool:
    """Whether an inline policy holds AWS's revocation statement: Deny on every action with a condition on the
    person's Identity Center user id (the placeholder may still be in it: it is prepared, not yet used)."""
    try:
        policy = json.loads(document) if isinstance(document, str) else None
    except ValueError:
        return False
    statements = (policy or {}).get("Statement") or []
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        keys = {k.lower() for block in (statement.get("Condition") or {}).values() if isinstance(block, dict)
                for k in block}
        if statement.get("Effect") == "Deny" and "*" in actions and keys & set(_USER_IDS):
            return True
    return False


@check(id="access.revocation_not_prepared", title="No prepared way to revoke active AWS sessions",
       passed="The deny policy AWS recommends preparing in advance is in place: recorded in "
              "checks.revocation_prepared, and when recorded as permission_set_inline, every assigned permission "
              "set's inline policy holds a Deny on * conditioned on identitystore:userId (an SCP is not read).",
       severity="medium", area="access", subject_kind="permission_set / app",
       meaning="Removing someone in Entra does not end the role sessions they already hold (up to the permission "
               "set's session duration) nor their access portal session. AWS's answer is a deny policy on the "
               "person's Identity Center user id, prepared in advance (an SCP, or each permission set's inline "
               "policy) so that it only has to be filled in during an incident; without it, revoking takes an "
               "emergency policy change under pressure.",
       fix="Prepare the deny policy of AWS's 'revoke active permission set sessions' guidance (Deny * with "
           "identitystore:userId in a condition, placeholder id) as an SCP or in every permission set's inline "
           "policy; write down who fills it in; record checks.revocation_prepared.",
       controls=nist("AC-2(3)", "PS-4") + iso("5.18"),
       references=(AWS_REVOKE, AWS_REVOKE_DELETED),
       tables=("idc_permission_sets", "idc_permission_set_policies", "idc_account_assignments"))
def revocation_not_prepared(data, settings) -> Iterator[Hit]:
    where = settings.checks.revocation_prepared
    if where is None:
        raise NotApplicable("guided checkpoint: say where the revocation deny policy is prepared (scp, "
                            "permission_set_inline or none) in checks.revocation_prepared; SCPs are not collected")
    if where == "none":
        yield Hit(settings.app_subject, {"revocation_prepared": "none"},
                  detail="recorded as not prepared: active sessions cannot be cut short")
        return
    if where != "permission_set_inline":
        return  # an SCP: recorded, not readable by the audit
    sets, policies = data.table("idc_permission_sets"), data.table("idc_permission_set_policies")
    assigned = set(text(data.table("idc_account_assignments")["permissionSetArn"]).dropna())
    inline = policies[text(policies["kind"]).eq("inline").fillna(False)]
    prepared = {arn for arn, doc in zip(text(inline["permissionSetArn"]), inline["document"]) if _denies_by_user(doc)}
    for row in sets.sort_values("name").itertuples(index=False):
        if row.permissionSetArn in assigned and row.permissionSetArn not in prepared:
            yield Hit(f"permission_set:{row.name}", {"permissionSetArn": row.permissionSetArn,
                                                     "revocation_prepared": where},
                      detail="inline policy has no Deny * on identitystore:userId")
