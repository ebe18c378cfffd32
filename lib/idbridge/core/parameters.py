"""Engagement parameters: one YAML file per engagement, validated before any call is made.

A parameters file never holds a secret value: secrets are references (`env:NAME`, see secrets.py) resolved at run
time. A value that fails validation is never echoed in the error (a secret pasted into the wrong field would be
shown on the terminal and kept in logs): the error says what shape was expected.
The sandbox writes one of these pointing at its own endpoints; a real engagement starts from
parameters/engagement.template.yaml.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, PrivateAttr, ValidationInfo, field_validator

from idbridge.core import secrets
from idbridge.core.vocabulary import FailOn, StrictModel as Strict
from idbridge.core.yamlfile import load_model

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_INSTANCE_ARN = re.compile(r"^arn:aws[a-z-]*:sso:::instance/(sso)?ins-[0-9a-f]{16}$")

# What `aws.credentials: sandbox` stands for: the one key the sandbox's AWS side accepts (it verifies the SigV4
# signature of every request against it). Fixed and documented, so it is no secret: it keeps the committed
# parameters/sandbox.yaml working across restarts. What protects the sandbox from web pages is not this key
# but what the sandbox refuses (docs/security.md): unsigned requests, query-string signatures, Host names that
# are not loopback ones, /moto-api, and CORS.
SANDBOX_AWS_ACCESS_KEY_ID = "sandbox"
SANDBOX_AWS_SECRET_ACCESS_KEY = "sandbox"


# The national clouds' Microsoft Graph endpoints: a real token is sent to graph.base_url, so outside the sandbox
# it goes to one of these over https unless graph.allow_custom_host says otherwise.
GRAPH_HOSTS = ("graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn")


class GraphParams(Strict):
    tenant_id: str
    auth: Literal["sandbox", "device_code", "client_certificate", "workload_identity", "managed_identity",
                  "azure_cli", "default"] = "default"
    client_id: str | None = None
    base_url: str = "https://graph.microsoft.com/v1.0"
    token_url: str | None = Field(None, description="sandbox only: the emulator's token endpoint")
    allow_custom_host: bool = Field(False, description="let base_url name a host other than Microsoft Graph's "
                                                       "(still https): e.g. a proxy the organisation runs")
    certificate_path: str | None = None
    certificate_password: str | None = None

    @field_validator("tenant_id", "client_id")
    @classmethod
    def _guid(cls, value: str | None) -> str | None:
        if value is not None and not _GUID.match(value):
            raise ValueError("not a GUID: expected 8-4-4-4-12 hex digits, e.g. 3c8e5b1a-7d2f-4e96-a0b4-5f19c27d8e63")
        return value

    @field_validator("certificate_password")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        return secrets.check(value)


class AwsParams(Strict):
    region: str = "us-east-1"
    profile: str | None = None
    role_arn: str | None = None
    endpoint_url: str | None = Field(None, description="sandbox only: moto's server")
    credentials: Literal["chain", "sandbox"] = Field(
        "chain", description="chain: boto3's credential chain (profile); sandbox: the sandbox's fixed key")
    instance_arn: str | None = None
    management_account: str | None = None
    assignment_walk: Literal["auto", "pair-walk", "principal-walk"] = Field(
        "auto", description="how account assignments are read: auto = the pair-walk, the complete one; "
                            "principal-walk (often fewer calls, used only where AWS allows it: the management "
                            "account) misses assignments of deleted principals, so its result is partial")
    account_tags: Literal["assigned", "all", "none"] = Field(
        "assigned", description="whose Organizations tags to read (one call per account): assigned = accounts "
                                "with a permission set provisioned (the only ones access can reach; production "
                                "and owner tags matter there), all, or none")

    @field_validator("role_arn")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_ARN.match(value):
            raise ValueError("not an IAM role ARN: expected arn:aws:iam::123456789012:role/NAME")
        return value

    @field_validator("instance_arn")
    @classmethod
    def _instance(cls, value: str | None) -> str | None:
        if value is not None and not _INSTANCE_ARN.match(value):
            raise ValueError("not an Identity Center instance ARN: expected arn:aws:sso:::instance/ssoins-<16 hex digits>")
        return value

    @field_validator("management_account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        if value is not None and not _ACCOUNT.match(value):
            raise ValueError("not an AWS account id: expected 12 digits (quote it in YAML)")
        return value


class AppParams(Strict):
    display_name: str = "AWS IAM Identity Center"
    app_id: str | None = None


def _known_source(value: str) -> str:
    """One item of collection.sources (checked one by one: an error names the item, and echoes no value)."""
    from idbridge.snapshot.schema import SOURCES_BY_NAME

    if value not in SOURCES_BY_NAME:
        raise ValueError(f"unknown source; known: {', '.join(sorted(SOURCES_BY_NAME))}")
    return value


class CollectionParams(Strict):
    window_days: int = Field(30, ge=1, le=90, description="sign-ins, provisioning logs, CloudTrail: the last N days")
    sources: list[Annotated[str, AfterValidator(_known_source)]] | None = Field(
        None, description="collect only these sources (default: all)")
    concurrency: int = Field(8, ge=1, le=64, description="AWS calls in flight at once (paced to the API limits)")
    incremental: bool = Field(
        False, description="scheduled runs: read Entra users, groups and group members as changes since the previous "
                           "complete snapshot of the engagement (Graph delta queries), Identity Center and "
                           "Organizations as what CloudTrail's write events since then touch, and everything in "
                           "full where that cannot be proven complete (the manifest says why)")


class ProductionParams(Strict):
    tags: dict[str, list[str]] = Field(default_factory=lambda: {"environment": ["prod", "production"]},
                                       description="an account is production if one of its tags has one of these values")
    ous: list[str] = Field(default_factory=list, description="or if its OU path starts with one of these")


class ProvisioningSettingsRecord(Strict):
    """The provisioning settings a consultant read in the Entra admin center (the app › Provisioning › Settings):
    Graph keeps them with the job's credentials (synchronization/secrets), which no read-only permission returns."""

    checked_on: date = Field(description="when they were read")
    notification_email: str | None = Field(
        None, description="'Send an email notification when a failure occurs' recipient; null: none set")
    accidental_deletion_threshold: int | None = Field(
        None, ge=1, description="'Prevent accidental deletion' threshold; null: the box is not ticked")
    skip_out_of_scope_deletions: bool = Field(
        False, description="SkipOutOfScopeDeletions (set through Graph only; the portal does not show it)")


class ChecksParams(Strict):
    certificate_horizons_days: list[int] = Field(default_factory=lambda: [60, 30, 7])
    scim_token_created: date | None = Field(
        None, description="when the SCIM access token was created in AWS (no API can read it): record it here")
    scim_token_horizons_days: list[int] = Field(default_factory=lambda: [90, 30, 7])
    provisioning_cycle_minutes: int = Field(40, ge=5, le=1440)
    # PIM for Groups allows activations of up to 24 hours (the role setting's maximum activation duration).
    max_pim_activation_hours: float = Field(
        8, gt=0, le=24, description="PIM for Groups activations of an AWS group longer than this are reported")
    stale_after_days: int = Field(90, ge=1)
    max_session_hours: float = Field(8, gt=0, le=12)
    production: ProductionParams = Field(default_factory=ProductionParams)
    sod_conflicts: list[tuple[str, str]] = Field(
        default_factory=list, description="pairs of permission sets no one may hold both of")
    # Guided checkpoints: settings no read-only API returns, recorded by the consultant after looking.
    provisioning_settings: ProvisioningSettingsRecord | None = Field(
        None, description="the app's provisioning settings as read in the Entra admin center")
    portal_session_hours: float | None = Field(
        None, gt=0, le=2160, description="IAM Identity Center › Settings › Authentication › session duration, as "
                                         "read in the console (15 minutes to 90 days), in hours")
    max_portal_session_hours: float = Field(
        8, gt=0, le=2160, description="the engagement's maximum access portal session (AWS's default is 8 hours)")
    revocation_prepared: Literal["scp", "permission_set_inline", "none"] | None = Field(
        None, description="where the deny policy AWS's 'revoke active sessions' guidance prepares in advance "
                          "lives: an SCP, each permission set's inline policy, or none")

    @field_validator("certificate_horizons_days", "scim_token_horizons_days")
    @classmethod
    def _horizons(cls, value: list[int]) -> list[int]:
        if not value or any(v <= 0 for v in value):
            raise ValueError("give one or more positive numbers of days, e.g. [60, 30, 7]")
        return sorted(value, reverse=True)


class ReviewParams(Strict):
    signing_key: str | None = Field(
        None, description="the key reviewer packs are signed with (HMAC-SHA256), a secret reference such as "
                          "env:IDBRIDGE_REVIEW_KEY; without it packs are written unsigned")
    allow_unsigned: bool = Field(
        False, description="accept returned packs that are unsigned (or signed but not verifiable): their "
                           "decisions could be forged")
    deadline: date | None = Field(
        None, description="the date reviewers are asked to send their packs back by (YYYY-MM-DD): shown on "
                          "each pack's Instructions")
    requested_by: str | None = Field(
        None, max_length=200, description="who asks for the review (a name, role or address): shown on each "
                                          "pack's Instructions")
    returned_dir: str | None = Field(
        None, description="a folder of returned reviewer packs (.xlsx) that `idbridge run` hands to "
                          "22_review_decisions; relative to the working directory, like run_root")
    inactive_after_days: int = Field(
        30, ge=1, le=365, description="recommend Remove for access whose person has not signed in to AWS for "
                                      "this many days (Entra access reviews' default look-back is 30 days)")

    @field_validator("signing_key")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        return secrets.check(value)

    @field_validator("returned_dir", "requested_by")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("is empty: leave the key out instead")
        return value.strip() if value is not None else None


_ENGAGEMENT = re.compile(r"^[\w-][\w.-]{0,63}$")


def _https_problem(url: str | None) -> str | None:
    """Why `url` cannot carry a real credential: not https, or no host."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return ("must be an https:// URL outside the sandbox (sandbox: true with its own credentials): a token "
                "would travel in clear")
    return None


class Parameters(Strict):
    engagement: str = Field(description="names the run folders: letters, digits, '-', '_' and '.', not first")
    sandbox: bool = False
    graph: GraphParams
    aws: AwsParams = Field(default_factory=AwsParams)
    app: AppParams = Field(default_factory=AppParams)
    collection: CollectionParams = Field(default_factory=CollectionParams)
    checks: ChecksParams = Field(default_factory=ChecksParams)
    review: ReviewParams = Field(default_factory=ReviewParams)
    run_root: str = "runs"
    fail_on: FailOn = "high"
    exceptions: str | None = Field(
        None, description="a file of accepted exceptions (docs/exceptions.md): findings it matches are shown as "
                          "accepted and do not fail the run until the exception expires; a path relative to "
                          "this parameters file's folder (and inside it), or absolute")
    # The folder of the file these parameters were read from: what a relative `exceptions` path means.
    _folder: Path | None = PrivateAttr(None)

    @field_validator("exceptions")
    @classmethod
    def _exceptions_path(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.strip():
            raise ValueError("is empty: leave the key out instead")
        # Inside the parameters' folder: `idbridge run` keeps a copy at the same place under the run folder (its
        # notebooks read the kept parameters there), which a path climbing out with '..' would leave.
        if not Path(value).is_absolute() and ".." in Path(value).parts:
            raise ValueError("a relative path may not climb out of the parameters file's folder with '..': "
                             "give an absolute path instead")
        return value

    def exceptions_path(self) -> Path | None:
        """The accepted-exceptions file: `exceptions` as given when absolute, else under the parameters file's
        folder (the working directory when the parameters were not read from a file)."""
        if self.exceptions is None:
            return None
        path = Path(self.exceptions).expanduser()
        return path if path.is_absolute() else (self._folder or Path.cwd()) / path

    @field_validator("graph", "review")
    @classmethod
    def _sandbox_references(cls, value, info: ValidationInfo):
        """sandbox: references name the sandbox's public values: never in a real engagement's parameters."""
        if not info.data.get("sandbox"):
            found = [key for key, ref in secrets.references_in(value.model_dump(mode="json"))
                     if ref.startswith(f"{secrets.SANDBOX}:")]
            if found:
                raise ValueError(f"{', '.join(found)}: {secrets.SANDBOX}: references are the sandbox's public "
                                 "values, only for parameters with sandbox: true; use env:NAME (or keyvault:, "
                                 "secretsmanager:)")
        return value

    @field_validator("engagement")
    @classmethod
    def _folder_name(cls, value: str) -> str:
        # It becomes a folder under run_root: '..', '.', a separator or a hidden name would put runs elsewhere.
        if not _ENGAGEMENT.match(value):
            raise ValueError("not a folder name: 1-64 letters, digits, '-', '_' and '.', not starting with '.' "
                             "(no '/', '\\', '.' or '..')")
        return value

    # Declared after `sandbox`, so its value is known here (info.data). Only the sandbox's own credentials may go
    # over plain http (to the emulators): a real token or AWS session token never does, sandbox: true or not.
    @field_validator("graph")
    @classmethod
    def _graph_endpoints(cls, graph: GraphParams, info: ValidationInfo) -> GraphParams:
        if info.data.get("sandbox") is True and graph.auth == "sandbox":
            return graph
        problems = [f"{key}: {why}" for key in ("base_url", "token_url")
                    if (why := _https_problem(getattr(graph, key)))]
        host = urlsplit(graph.base_url).hostname or ""
        if not problems and not graph.allow_custom_host and host not in GRAPH_HOSTS:
            problems.append(f"base_url: {host} is not a Microsoft Graph host ({', '.join(GRAPH_HOSTS)}); "
                            "set graph.allow_custom_host: true to send the engagement's token there anyway")
        if problems:
            raise ValueError("; ".join(problems))
        return graph

    @field_validator("aws")
    @classmethod
    def _aws_endpoint(cls, aws: AwsParams, info: ValidationInfo) -> AwsParams:
        sandboxed = info.data.get("sandbox") is True and aws.credentials == "sandbox"
        if not sandboxed and (why := _https_problem(aws.endpoint_url)):
            raise ValueError(f"endpoint_url: {why}")
        return aws


def load_parameters(path: str | Path) -> Parameters:
    """Read and validate a parameters file; raises InputError naming the file, line and key."""
    params = load_model(path, Parameters)
    params._folder = Path(path).resolve().parent
    return params

