"""Guided checkpoints: the steps only the AWS console can do (shared reference §2b), with exact instructions and,
where AWS leaves a trace, a verification afterwards.

- identity_source: change the identity source to the external IdP and upload Entra's federation metadata.
  Verified by CloudTrail (sso-directory): Create/UpdateExternalIdPConfigurationForDirectory after the active
  signing certificate was made (an older upload carries an older certificate).
- automatic_provisioning: enable automatic provisioning, keep the SCIM endpoint and token where the desired
  state's references point. Verified by CloudTrail CreateBearerToken and by the references resolving (their
  values are never shown).
- scim_users: users appear in Identity Center created by SCIM, the test user among them (identitystore).

A checkpoint not done yet is "waiting", not an error: the runbook goes on where it can, and the next notebook
verifies again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

import pandas as pd

from idbridge.clients.aws.calls import lookup_events
from idbridge.errors import InputError
from idbridge.model.origin import live_user_origin
from idbridge.report.safe import Text
from idbridge.runbooks import graph as g
from idbridge.runbooks.context import Runbook
from idbridge.runbooks.saml import certificates
from idbridge.runbooks.saml_metadata import FEDERATION_METADATA

Status = Literal["done", "waiting", "not verifiable"]
UPLOAD_EVENTS = ("CreateExternalIdPConfigurationForDirectory", "UpdateExternalIdPConfigurationForDirectory")
TRAIL_DAYS = 90  # CloudTrail event history


@dataclass(frozen=True)
class CheckpointResult:
    id: str
    title: str
    instructions: tuple[str, ...]
    status: Status
    evidence: str

    def text(self) -> Text:
        """The checkpoint as a notebook shows it. The instructions are this module's words with the run's own
        values inlined (region, paths, references): markup of the template, escaped all the same; the evidence
        quotes what AWS and Entra returned, as text."""
        # Words, not emoji: a report must read the same where no emoji font is installed (servers, print).
        mark = {"done": "done", "waiting": "waiting", "not verifiable": "not verifiable"}[self.status]
        steps = "\n".join(f"{i}. {s}" for i, s in enumerate(self.instructions, start=1))
        steps = steps.replace("{", "{{").replace("}", "}}")
        return Text("### Checkpoint: {title}\n\n" + steps + "\n\n**Verification: {mark}** — {evidence}\n",
                    title=self.title, mark=mark, evidence=self.evidence)

    def _repr_html_(self) -> str:
        return self.text()._repr_html_()

    def row(self) -> dict:
        return {"checkpoint": self.title, "status": self.status, "evidence": self.evidence}


def frame(results: list[CheckpointResult]) -> pd.DataFrame:
    return pd.DataFrame([r.row() for r in results], columns=["checkpoint", "status", "evidence"])


def _events(rb: Runbook, name: str) -> list[dict]:
    trail = rb.aws("cloudtrail", rb.instance.region)
    end = datetime.now(timezone.utc) + timedelta(minutes=5)
    found = lookup_events(trail, {"AttributeKey": "EventName", "AttributeValue": name}, end - timedelta(days=TRAIL_DAYS), end)
    return sorted(found, key=lambda e: e["EventTime"], reverse=True)


def _utc(moment) -> datetime:
    if isinstance(moment, (int, float)):
        return datetime.fromtimestamp(moment, timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# --------------------------------------------------------------------------------------------- identity source


async def identity_source(rb: Runbook) -> CheckpointResult:
    metadata = rb.run_dir / FEDERATION_METADATA
    sso_region = rb.instance.region
    steps = (
        f"AWS console, account of the Identity Center instance, Region **{sso_region}**: IAM Identity Center › "
        "Settings › Identity source › Actions › **Change identity source** › **External identity provider** › "
        "Next.",
        "Under *Identity provider metadata* › IdP SAML metadata, choose the file "
        f"`{metadata}` (written by this notebook; it carries the active signing certificate).",
        "Next, review, type **ACCEPT**, then **Change identity source**. (If the identity source is already the "
        "external IdP: Actions › Manage authentication › upload the same file.)",
        "Run this cell again to verify.",
    )
    title = "identity source = Microsoft Entra ID, federation metadata uploaded"
    sp, _ = await g.find_app(rb.graph, rb.params.app.app_id, rb.params.app.display_name)
    preferred = (sp or {}).get("preferredTokenSigningKeyThumbprint")
    active = next((c for c in certificates(sp) if c["thumbprint"] == (preferred or "").upper()), None) if sp else None
    if active is None:
        return CheckpointResult("identity_source", title, steps, "waiting",
                                "the app has no active signing certificate yet: apply the SAML plan first")
    uploads = [e for name in UPLOAD_EVENTS for e in _events(rb, name)]
    newest = max(uploads, key=lambda e: _utc(e["EventTime"]), default=None)
    if newest is None:
        return CheckpointResult("identity_source", title, steps, "waiting",
                                f"no {' / '.join(UPLOAD_EVENTS)} event in CloudTrail ({sso_region}, last "
                                f"{TRAIL_DAYS} days)")
    at = _utc(newest["EventTime"])
    if active["start"] and at < active["start"].replace(microsecond=0):
        return CheckpointResult("identity_source", title, steps, "waiting",
                                f"the last upload ({newest['EventName']}, {_stamp(at)}) is older than the active "
                                f"certificate {active['thumbprint']} (created {_stamp(active['start'])}): upload "
                                "the new metadata")
    return CheckpointResult("identity_source", title, steps, "done",
                            f"{newest['EventName']} at {_stamp(at)}, after the active certificate "
                            f"{active['thumbprint']} was created")


# --------------------------------------------------------------------------------------------- provisioning


def _references_resolve(rb: Runbook) -> str | None:
    from idbridge.runbooks.provisioning import credentials

    try:
        credentials(rb)
    except InputError as exc:
        return "; ".join(exc.problems)
    return None


def automatic_provisioning(rb: Runbook) -> CheckpointResult:
    prov = rb.section("provisioning")
    steps = (
        "IAM Identity Center › Settings › Identity source › **Automatic provisioning** › **Enable**.",
        "Copy the **SCIM endpoint** and the **Access token** (Show token): AWS shows the token only now.",
        f"Put them where the desired state's references point, never in a file of the engagement: "
        f"`{prov.scim_endpoint}` and `{prov.scim_token}` (for env:NAME, set the variable before starting "
        "Jupyter or the scheduled run).",
        "Record today's date as `checks.scim_token_created` in the parameters file: the token lives one year and "
        "no API tells its age.",
        "Run this cell again to verify.",
    )
    title = "automatic provisioning enabled, SCIM endpoint and token stored"
    tokens = _events(rb, "CreateBearerToken")
    unresolved = _references_resolve(rb)
    if not tokens:
        return CheckpointResult("automatic_provisioning", title, steps, "waiting",
                                f"no CreateBearerToken event in CloudTrail ({rb.instance.region}, last "
                                f"{TRAIL_DAYS} days)")
    at = _utc(tokens[0]["EventTime"])
    if unresolved:
        return CheckpointResult("automatic_provisioning", title, steps, "waiting",
                                f"token created {_stamp(at)}, but {unresolved}")
    recorded = rb.params.checks.scim_token_created
    note = (f"checks.scim_token_created is {recorded.isoformat()}" if recorded
            else f"record checks.scim_token_created: {at.date().isoformat()}")
    return CheckpointResult("automatic_provisioning", title, steps, "done",
                            f"CreateBearerToken at {_stamp(at)}; the references resolve; {note}")


def scim_users(rb: Runbook) -> CheckpointResult:
    """The test user by name (GetUserId, DescribeUser) and a first page of users: no full listing, which would
    be 100,000 reads on a large store."""
    from idbridge.runbooks.provisioning import in_identity_center

    prov = rb.section("provisioning")
    steps = ("IAM Identity Center › Users: the users of the assigned groups are listed with **Created by: SCIM** "
             f"(the test user {prov.test_user} first).",)
    title = "users in Identity Center, created by SCIM"
    store = rb.aws("identitystore", rb.instance.region)
    page = store.list_users(IdentityStoreId=rb.instance.identity_store_id, MaxResults=100).get("Users") or []
    if not page:
        return CheckpointResult("scim_users", title, steps, "waiting", "Identity Center holds no users yet")
    # AWS publishes no CreatedBy value for SCIM-made users: an externalId (only SCIM writes one) decides.
    made = [live_user_origin(u)[0] for u in page]
    sample = f"{made.count(True)} of the first {len(page)} user(s) show SCIM evidence (an externalId, which only SCIM writes)"
    user_id = in_identity_center(rb, prov.test_user)
    if user_id is None:
        return CheckpointResult("scim_users", title, steps, "waiting", f"{sample}; test user {prov.test_user} not "
                                                                       "in Identity Center yet")
    test_user = store.describe_user(IdentityStoreId=rb.instance.identity_store_id, UserId=user_id)
    by_scim, why = live_user_origin(test_user)
    if by_scim is False:
        return CheckpointResult("scim_users", title, steps, "waiting",
                                f"{sample}; test user {prov.test_user} was made by hand: {why}")
    if by_scim is None:
        return CheckpointResult("scim_users", title, steps, "not verifiable",
                                f"{sample}; test user {prov.test_user}: {why}, so its origin is not known")
    return CheckpointResult("scim_users", title, steps, "done", f"{sample}; test user {prov.test_user} created by "
                                                                f"SCIM: {why}")
