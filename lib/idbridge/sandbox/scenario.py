"""Scenario files: one synthetic organisation on both sides of the bridge, with the faults planted in it.

The format is documented in docs/scenarios.md. Every model forbids unknown keys; references between sections
(group members, assignments, sign-ins) are checked after parsing so that a dangling name is reported with the
line it stands on.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, PrivateAttr, field_validator, model_validator

from idbridge.core.paths import SCENARIOS_DIR
from idbridge.core.vocabulary import StrictModel as Strict
from idbridge.core.yamlfile import PathKey, YamlDocument, format_path, read_yaml, validate_document
from idbridge.errors import InputError
from idbridge.sandbox.timeexpr import check_time_expr

TimeExpr = Annotated[str, AfterValidator(check_time_expr)]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$")
_AWS_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/.+$")


def _guid(value: str | None) -> str | None:
    if value is not None and not _GUID.match(value):
        raise ValueError(f"{value!r} is not a GUID (8-4-4-4-12 hex digits)")
    return value.lower() if value else value


def _account_id(value: str) -> str:
    if not _ACCOUNT.match(value):
        raise ValueError(f"{value!r} is not an AWS account id (12 digits, quoted so YAML keeps it a string)")
    return value


def _region(value: str) -> str:
    if not _AWS_REGION.match(value):
        raise ValueError(f"{value!r} is not an AWS region name such as eu-west-1")
    return value


def _policy_arn(value: str) -> str:
    if not _POLICY_ARN.match(value):
        raise ValueError(f"{value!r} is not an IAM policy ARN")
    return value


Guid = Annotated[str, AfterValidator(_guid)]
AccountId = Annotated[str, AfterValidator(_account_id)]
Region = Annotated[str, AfterValidator(_region)]
PolicyArn = Annotated[str, AfterValidator(_policy_arn)]



class SeedError(ValueError):
    """The scenario parsed, but cannot be seeded as written (e.g. an assignment to a group that is never
    provisioned). `path` is the key path of the offending item (`("aws", "account_assignments", 3, "group")`),
    which `seed_input_error` turns into the file's line; str() starts with the path written out."""

    def __init__(self, path: PathKey, problem: str):
        self.path = tuple(path)
        self.problem = problem
        super().__init__(f"{format_path(self.path)}: {problem}")

# --------------------------------------------------------------------------------------------- Entra ID


class Tenant(Strict):
    id: Guid
    display_name: str
    default_domain: str = Field(description="the tenant's initial domain, e.g. contoso.onmicrosoft.com")
    domains: list[str] = Field(default_factory=list, description="verified custom domains")
    licence: Literal["P2", "P1", "free"] = "P2"


class IdcUserState(Strict):
    """How Identity Center's copy of a provisioned user differs from what SCIM would have written now.

    `present: false` means SCIM has not (yet) created the user. Any other field overrides the SCIM value, which
    plants drift (an attribute changed in Entra after the last cycle, a user disabled in Entra but still enabled
    in Identity Center, and so on)."""

    present: bool = True
    user_name: str | None = None
    display_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    active: bool | None = None
    external_id: str | None = None
    recreated: bool = Field(False, description="deleted and created again: new id, old assignments dangle")


class EntraUser(Strict):
    upn: str
    id: Guid | None = None
    display_name: str | None = None
    given_name: str | None = None
    surname: str | None = None
    mail: str | None = None
    other_mails: list[str] = Field(default_factory=list)
    user_type: Literal["Member", "Guest"] = "Member"
    account_enabled: bool = True
    deleted: bool = Field(False, description="deleted in Entra (no longer in /users) after it was provisioned")
    job_title: str | None = None
    department: str | None = None
    company_name: str | None = None
    employee_id: str | None = None
    office_location: str | None = None
    mobile_phone: str | None = None
    business_phones: list[str] = Field(default_factory=list)
    street_address: str | None = None
    city: str | None = None
    country: str | None = None
    usage_location: str | None = None
    preferred_language: str | None = None
    created: TimeExpr = "now-400d"
    last_sign_in: TimeExpr | None = None
    last_non_interactive_sign_in: TimeExpr | None = None
    mfa_registered: bool = True
    mfa_methods: list[str] = Field(default_factory=lambda: ["microsoftAuthenticatorPush"])
    idc: IdcUserState | None = None

    @field_validator("upn")
    @classmethod
    def _upn_shape(cls, value: str) -> str:
        if value.count("@") != 1 or value.startswith("@") or value.endswith("@"):
            raise ValueError(f"{value!r} is not a user principal name (name@domain)")
        return value


class IdcGroupState(Strict):
    present: bool = True
    display_name: str | None = None
    recreated: bool = False


class EntraGroup(Strict):
    display_name: str
    id: Guid | None = None
    description: str | None = None
    mail_nickname: str | None = None
    security_enabled: bool = True
    mail_enabled: bool = False
    members: list[str] = Field(default_factory=list, description="direct user members, by UPN")
    member_groups: list[str] = Field(default_factory=list, description="direct nested groups, by display name")
    dynamic_rule: str | None = Field(None, description="membershipRule; the group becomes a dynamic group")
    created: TimeExpr = "now-500d"
    idc: IdcGroupState | None = None


class SigningCertificate(Strict):
    display_name: str = "CN=Microsoft Azure Federated SSO Certificate"
    start: TimeExpr
    end: TimeExpr
    active: bool = Field(False, description="the preferred token signing certificate")
    custom: bool = Field(False, description="the tenant's own certificate, added as Graph documents it (PATCH "
                                            "keyCredentials: SHA-256 customKeyIdentifier), not one Entra made")
    uploaded_to_aws: TimeExpr | None = Field(
        None, description="when this certificate's metadata was uploaded to Identity Center (CloudTrail event)"
    )


class ClaimsConfig(Strict):
    name_id_format: str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
    name_id_source: str = "user.userprincipalname"
    guest_name_id_source: str | None = Field(
        "user.mail", description="claim condition for external guests; null = no guest rule"
    )
    access_control: dict[str, str] = Field(
        default_factory=dict, description="ABAC claims: key -> Entra source (user.department), sent as "
                                          "https://aws.amazon.com/SAML/Attributes/AccessControl:<key>")


class AttributeMapping(Strict):
    source: str
    target: str


class Provisioning(Strict):
    status: Literal["Active", "Paused", "Quarantine", "NotRun", "NotConfigured"] = "Active"
    quarantine_reason: str | None = None
    scope: Literal["assigned", "all"] = "assigned"
    token_valid: bool = True
    token_created: TimeExpr = "now-120d"
    last_cycle: TimeExpr | None = "now-25m"
    steady_state_reached: bool = True
    successive_failures: int = 0
    external_id_source: Literal["objectId", "mailNickname", "userPrincipalName", "employeeId"] = "objectId"
    extra_mappings: list[AttributeMapping] = Field(
        default_factory=list, description="mappings added to the default AWS schema, e.g. a second phone"
    )
    notification_email: str | None = None
    initial_sync: bool = Field(True, description="run the emulated SCIM cycle at seed time to fill Identity Center")
    # Deprovisioning settings (issue 17): the schema's object mappings and what the job's secrets hold.
    removed_mappings: list[str] = Field(
        default_factory=list, description="User target attributes removed from the default schema, e.g. active")
    flow_types: dict[Literal["User", "Group"], str] = Field(
        default_factory=dict, description="target object actions of an object mapping, e.g. {User: 'Add, Update'}")
    accidental_deletion_threshold: int | None = Field(
        500, ge=1, description="'Prevent accidental deletion' threshold; null: off")
    skip_out_of_scope_deletions: bool = False
    restarts: list[TimeExpr] = Field(
        default_factory=list, description="when someone chose Restart provisioning: the cycle then re-reads every "
                                          "object in scope over SCIM (reads logged in CloudTrail)")

    @model_validator(mode="after")
    def _quarantine_needs_reason(self) -> "Provisioning":
        if self.status == "Quarantine" and not self.quarantine_reason:
            raise ValueError("status Quarantine needs a quarantine_reason")
        return self


class AppAssignments(Strict):
    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)


class AwsApp(Strict):
    """The 'AWS IAM Identity Center' enterprise application. URLs left out are derived from the instance."""

    display_name: str = "AWS IAM Identity Center"
    app_id: Guid | None = None
    sso_mode: Literal["saml", "password", "oidc", "notSupported"] | None = "saml"
    identifier_uris: list[str] | None = None
    reply_urls: list[str] | None = None
    login_url: str | None = None
    keep_wildcard_reply_url: bool = False
    signing_certificates: list[SigningCertificate] = Field(default_factory=list)
    claims: ClaimsConfig = Field(default_factory=ClaimsConfig)
    assignments: AppAssignments = Field(default_factory=AppAssignments)
    assignment_required: bool = Field(True, description="the service principal's appRoleAssignmentRequired")
    provisioning: Provisioning | None = None


# authenticationMethodModes (Graph v1.0): what a combination of an authentication strength is made of.
AUTH_MODES = frozenset({
    "password", "voice", "hardwareOath", "softwareOath", "sms", "fido2", "windowsHelloForBusiness",
    "microsoftAuthenticatorPush", "deviceBasedPush", "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse",
    "email", "x509CertificateSingleFactor", "x509CertificateMultiFactor", "federatedSingleFactor",
    "federatedMultiFactor", "qrCodePin"})


class CustomStrength(Strict):
    """A custom authentication strength (policyType custom): its allowed combinations, each one mode or two joined
    by a comma ("password,sms"). Entra derives requirementsSatisfied from them (the sandbox: "mfa" only when every
    combination is multifactor)."""

    display_name: str
    allowed_combinations: list[str] = Field(min_length=1)

    @field_validator("allowed_combinations")
    @classmethod
    def _modes(cls, value: list[str]) -> list[str]:
        for combination in value:
            unknown = [m for m in combination.split(",") if m not in AUTH_MODES]
            if unknown:
                raise ValueError(f"{combination!r}: {', '.join(unknown)} is not an authentication method mode "
                                 f"({', '.join(sorted(AUTH_MODES))})")
        return value


BuiltInStrength = Literal["mfa", "passwordlessMfa", "phishingResistantMfa"]


class CaPolicy(Strict):
    display_name: str
    state: Literal["enabled", "disabled", "enabledForReportingButNotEnforced"] = "enabled"
    include_applications: list[str] = Field(
        default_factory=lambda: ["aws"], description="'aws' for the AWS app, 'All', or app ids"
    )
    include_users: list[str] = Field(default_factory=list, description="'All', 'GuestsOrExternalUsers' or UPNs")
    include_groups: list[str] = Field(default_factory=list)
    exclude_users: list[str] = Field(default_factory=list)
    exclude_groups: list[str] = Field(default_factory=list)
    grant_controls: list[Literal["mfa", "compliantDevice", "domainJoinedDevice", "block"]] = Field(
        default_factory=lambda: ["mfa"]
    )
    operator: Literal["OR", "AND"] = "OR"
    include_roles: list[str] = Field(default_factory=list, description="directory role template ids")
    exclude_roles: list[str] = Field(default_factory=list, description="directory role template ids")
    authentication_strength: BuiltInStrength | CustomStrength | None = Field(
        default=None, description="a built-in authentication strength (by name) or a custom one in grantControls "
                                  "(use grant_controls: [] for the strength alone); no grant controls and no "
                                  "strength: grantControls null")


class EntraSignIn(Strict):
    user: str
    at: TimeExpr
    status: Literal["success", "failure"] = "success"
    error_code: int = 0
    failure_reason: str | None = None
    mfa: bool = True
    conditional_access: Literal["success", "failure", "notApplied"] = "success"
    ip: str = "203.0.113.10"
    client_app: str = "Browser"


class PimMembership(Strict):
    """One person's eligibility for, or active membership of, a PIM-managed group (PIM for Groups)."""

    user: str = Field(description="UPN")
    start: TimeExpr = "now-30d"
    end: TimeExpr | None = Field(None, description="absent: permanent (Graph's expiration type noExpiration)")
    member_type: Literal["direct", "group"] = Field(
        "direct", description="Graph's memberType: direct, or inherited through a group (\"group\")")


class PimActive(PimMembership):
    type: Literal["activated", "assigned"] = Field(
        "activated", description="activated from an eligibility (just in time), or assigned as active by an admin")
    still_in_idc: bool = Field(
        False, description="an activation that has ended, whose membership the last provisioning cycle had copied "
                           "to Identity Center before it ended: Identity Center still holds it")
    deactivated: TimeExpr | None = Field(
        None, description="the person ended the activation early (selfDeactivate) at this moment, before `end` "
                          "(the end they had asked for); the activation ended then")


class PimGroup(Strict):
    """A group whose membership PIM for Groups manages: who may activate it, and who holds it now. Active
    entries whose window includes now are members of the Entra group (PIM adds them); ended ones are not."""

    group: str = Field(description="display name of an entra.groups entry")
    eligible: list[PimMembership] = Field(default_factory=list)
    active: list[PimActive] = Field(default_factory=list)


class Entra(Strict):
    users: list[EntraUser] = Field(default_factory=list)
    groups: list[EntraGroup] = Field(default_factory=list)
    aws_app: AwsApp | None = Field(None, description="absent: the bridge is not set up yet")
    conditional_access: list[CaPolicy] = Field(default_factory=list)
    sign_ins: list[EntraSignIn] = Field(default_factory=list)
    pim_groups: list[PimGroup] = Field(default_factory=list, description="groups managed by PIM for Groups")


# --------------------------------------------------------------------------------------------- AWS


class Account(Strict):
    id: AccountId
    name: str
    email: str | None = None
    ou: str = Field("", description="OU path below the root, e.g. 'Workloads/Prod'; empty = root")
    tags: dict[str, str] = Field(default_factory=dict)
    status: Literal["ACTIVE", "SUSPENDED"] = "ACTIVE"


class CustomerManagedPolicy(Strict):
    name: str
    path: str = "/"


class Boundary(Strict):
    managed_policy_arn: PolicyArn | None = None
    customer_managed: CustomerManagedPolicy | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "Boundary":
        if (self.managed_policy_arn is None) == (self.customer_managed is None):
            raise ValueError("a boundary is either managed_policy_arn or customer_managed, exactly one")
        return self


class PermissionSet(Strict):
    name: str = Field(pattern=r"^[\w+=,.@-]{1,32}$")
    description: str | None = None
    session_duration: str = "PT1H"
    relay_state: str | None = None
    managed_policies: list[PolicyArn] = Field(default_factory=list)
    customer_managed_policies: list[CustomerManagedPolicy] = Field(default_factory=list)
    inline_policy: dict[str, Any] | None = None
    boundary: Boundary | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    not_reprovisioned_in: list[str] = Field(
        default_factory=list, description="accounts (name or id) where a change has not been provisioned"
    )
    provisioning_failed_in: list[str] = Field(
        default_factory=list, description="accounts (name or id) where the last provisioning of the set FAILED: "
        "its customer-managed policy or boundary does not exist there (the account must hold no assignment of it)")

    @field_validator("session_duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        match = _DURATION.match(value)
        if not match or value == "PT":
            raise ValueError(f"{value!r} is not an ISO-8601 duration such as PT1H or PT8H30M")
        minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
        if not 60 <= minutes <= 720:
            raise ValueError(f"{value!r}: a permission set session lasts 1 to 12 hours")
        return value


class AccountAssignment(Strict):
    """Exactly one of group / user (Entra names, resolved to the provisioned principal) or idc_user /
    idc_group (an Identity Center principal created by hand)."""

    group: str | None = None
    user: str | None = None
    idc_user: str | None = None
    idc_group: str | None = None
    accounts: list[str] = Field(min_length=1, description="account names or ids")
    permission_set: str

    @model_validator(mode="after")
    def _one_principal(self) -> "AccountAssignment":
        given = [k for k in ("group", "user", "idc_user", "idc_group") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("name exactly one principal: group, user, idc_user or idc_group")
        return self


class IdcUser(Strict):
    """An Identity Center user that did not come from Entra (created by hand)."""

    user_name: str
    display_name: str
    given_name: str
    family_name: str
    email: str | None = None


class IdcGroup(Strict):
    display_name: str
    description: str | None = None
    members: list[str] = Field(default_factory=list, description="Identity Center user names")


class CloudTrailEvent(Strict):
    name: str
    source: str = Field(description="event source, e.g. signin.amazonaws.com")
    at: TimeExpr
    user: str | None = Field(None, description="Identity Center user name, if the event concerns one")
    ip: str = "203.0.113.10"
    error_code: str | None = None
    error_message: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict, description="extra additionalEventData fields")


class AwsSignIn(Strict):
    """An access-portal sign-in through the external IdP: emitted as UserAuthentication (success) or
    ExternalIdPDirectoryLogin (failure)."""

    user: str
    at: TimeExpr
    status: Literal["success", "failure"] = "success"
    ip: str = "203.0.113.10"
    failure_reason: str | None = None


class IdentityCenter(Strict):
    region: Region = "eu-west-1"
    extra_regions: list[Region] = Field(default_factory=list)
    account: AccountId | None = Field(None, description="where the instance lives; default the management account")
    instance_name: str | None = None
    identity_source: Literal["external_idp", "identity_center", "active_directory"] = "external_idp"
    users: list[IdcUser] = Field(default_factory=list)
    groups: list[IdcGroup] = Field(default_factory=list)
    access_control_attributes: dict[str, str] | None = Field(
        None, description="ABAC: key -> source, e.g. {CostCenter: '${path:enterprise.costCenter}'}; null = ABAC "
                          "not enabled, {} = enabled with no attribute of Identity Center's own")


class ServiceControlPolicy(Strict):
    """A service control policy of the organisation (besides AWS's FullAWSAccess, always there)."""

    name: str
    description: str = ""
    statements: list[dict[str, Any]] = Field(min_length=1, description="the policy's Statement list")
    targets: list[str] = Field(default_factory=lambda: ["root"],
                               description="where it is attached: 'root', an OU path, or an account name or id")


class Aws(Strict):
    management_account: AccountId
    service_control_policies: list[ServiceControlPolicy] = Field(default_factory=list)
    identity_center: IdentityCenter = Field(default_factory=IdentityCenter)
    accounts: list[Account] = Field(default_factory=list)
    permission_sets: list[PermissionSet] = Field(default_factory=list)
    account_assignments: list[AccountAssignment] = Field(default_factory=list)
    sign_ins: list[AwsSignIn] = Field(default_factory=list)
    cloudtrail: list[CloudTrailEvent] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------- whole file


class PlantedFault(Strict):
    check: str = Field(pattern=r"^[a-z0-9_]+\.[a-z0-9_.]+$", description="check id, e.g. saml.certificate_expiry")
    subject: str = Field(pattern=r"^(user|group|account|permission_set|app|assignment|tenant|instance):.+$")
    note: str = ""


class EngagementFacts(Strict):
    """What a consultant records in the engagement's parameters for this organisation (no API can tell)."""

    sod_conflicts: list[tuple[str, str]] = Field(
        default_factory=list, description="pairs of permission sets no one may hold both of")
    portal_session_hours: float | None = Field(
        None, gt=0, le=2160, description="the access portal session duration read in the console")
    revocation_prepared: Literal["scp", "permission_set_inline", "none"] | None = Field(
        None, description="where the deny policy for revoking active sessions is prepared")


class Scenario(Strict):
    scenario: str = Field(description="short name of the organisation")
    description: str = ""
    tenant: Tenant
    entra: Entra = Field(default_factory=Entra)
    aws: Aws
    engagement: EngagementFacts = Field(default_factory=EngagementFacts)
    faults: list[PlantedFault] = Field(default_factory=list)
    _accounts_by_ref: dict[str, Account] | None = PrivateAttr(default=None)
    _users_by_upn: dict[str, EntraUser] | None = PrivateAttr(default=None)
    _sign_ins_by_user: dict[str, list[EntraSignIn]] | None = PrivateAttr(default=None)
    _source: YamlDocument | None = PrivateAttr(default=None)  # the file it was read from (lines of keys only)

    # -- lookups used by seeders

    def account_by_ref(self, ref: str) -> Account | None:
        if self._accounts_by_ref is None:  # built once: large scenarios look up thousands of references
            self._accounts_by_ref = {}
            for account in reversed(self.aws.accounts):
                self._accounts_by_ref[account.name] = account
            for account in reversed(self.aws.accounts):
                self._accounts_by_ref[account.id] = account
        return self._accounts_by_ref.get(ref)

    def user_by_upn(self, upn: str) -> EntraUser | None:
        """Case-insensitive; the index is built once (seeding looks users up per sign-in event)."""
        if self._users_by_upn is None:
            self._users_by_upn = {}
            for user in reversed(self.entra.users):
                self._users_by_upn[user.upn.lower()] = user
        return self._users_by_upn.get(upn.lower())

    def entra_sign_ins_of(self, upn: str) -> list[EntraSignIn]:
        if self._sign_ins_by_user is None:
            self._sign_ins_by_user = {}
            for event in self.entra.sign_ins:
                self._sign_ins_by_user.setdefault(event.user.lower(), []).append(event)
        return self._sign_ins_by_user.get(upn.lower(), [])

    @property
    def instance_account(self) -> str:
        return self.aws.identity_center.account or self.aws.management_account


def stable_id(*parts: str) -> str:
    """A GUID that is the same each time for the same names, so runs and snapshots are comparable."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "idbridge:" + ":".join(parts)))


def check_references(scenario: Scenario) -> list[tuple[PathKey, str]]:
    """Every name used in one place must be defined in another. Returns (path, problem) pairs."""
    problems: list[tuple[PathKey, str]] = []
    entra = scenario.entra

    def unique(items: list, attr: str, section: PathKey, what: str, fold=str.lower) -> set:
        seen: set = set()
        for index, item in enumerate(items):
            key = fold(getattr(item, attr)) if fold else getattr(item, attr)
            if key in seen:
                problems.append((section + (index, attr), f"{what} {getattr(item, attr)!r} is defined twice"))
            seen.add(key)
        return seen

    upns = unique(entra.users, "upn", ("entra", "users"), "user")
    group_names = unique(entra.groups, "display_name", ("entra", "groups"), "group", fold=None)
    unique([u for u in entra.users if u.id], "id", ("entra", "users"), "user id")
    unique(scenario.aws.accounts, "id", ("aws", "accounts"), "account id", fold=None)
    unique(scenario.aws.accounts, "name", ("aws", "accounts"), "account name", fold=None)
    ps_names = unique(scenario.aws.permission_sets, "name", ("aws", "permission_sets"), "permission set", fold=None)
    idc = scenario.aws.identity_center
    idc_users = unique(idc.users, "user_name", ("aws", "identity_center", "users"), "Identity Center user")
    idc_groups = unique(idc.groups, "display_name", ("aws", "identity_center", "groups"), "Identity Center group",
                        fold=None)

    def need_user(ref: str, path: PathKey) -> None:
        if ref.lower() not in upns:
            problems.append((path, f"no user {ref!r} in entra.users"))

    def need_group(ref: str, path: PathKey) -> None:
        if ref not in group_names:
            problems.append((path, f"no group {ref!r} in entra.groups"))

    def need_account(ref: str, path: PathKey) -> None:
        if scenario.account_by_ref(ref) is None:
            problems.append((path, f"no account {ref!r} (by id or name) in aws.accounts"))

    for g_index, group in enumerate(entra.groups):
        for m_index, member in enumerate(group.members):
            need_user(member, ("entra", "groups", g_index, "members", m_index))
        for m_index, member in enumerate(group.member_groups):
            need_group(member, ("entra", "groups", g_index, "member_groups", m_index))
            if member == group.display_name:
                problems.append((("entra", "groups", g_index, "member_groups", m_index), "a group cannot contain itself"))

    app = entra.aws_app
    if app is not None:
        for index, ref in enumerate(app.assignments.users):
            need_user(ref, ("entra", "aws_app", "assignments", "users", index))
        for index, ref in enumerate(app.assignments.groups):
            need_group(ref, ("entra", "aws_app", "assignments", "groups", index))
        active = [c for c in app.signing_certificates if c.active]
        if len(active) > 1:
            problems.append((("entra", "aws_app", "signing_certificates"), "only one certificate can be active"))

    for p_index, policy in enumerate(entra.conditional_access):
        base = ("entra", "conditional_access", p_index)
        for key in ("include_users", "exclude_users"):
            for index, ref in enumerate(getattr(policy, key)):
                if ref not in ("All", "GuestsOrExternalUsers", "None"):
                    need_user(ref, base + (key, index))
        for key in ("include_groups", "exclude_groups"):
            for index, ref in enumerate(getattr(policy, key)):
                need_group(ref, base + (key, index))
        for index, ref in enumerate(policy.include_applications):
            if ref not in ("aws", "All", "Office365") and not _GUID.match(ref):
                problems.append((base + ("include_applications", index), f"{ref!r}: use 'aws', 'All' or an app id"))

    for index, sign_in in enumerate(entra.sign_ins):
        need_user(sign_in.user, ("entra", "sign_ins", index, "user"))

    for p_index, pim in enumerate(entra.pim_groups):
        need_group(pim.group, ("entra", "pim_groups", p_index, "group"))
        for key in ("eligible", "active"):
            for index, item in enumerate(getattr(pim, key)):
                need_user(item.user, ("entra", "pim_groups", p_index, key, index, "user"))

    for g_index, group in enumerate(idc.groups):
        for m_index, member in enumerate(group.members):
            if member.lower() not in idc_users:
                problems.append((("aws", "identity_center", "groups", g_index, "members", m_index),
                                 f"no user {member!r} in aws.identity_center.users"))

    for p_index, ps in enumerate(scenario.aws.permission_sets):
        for index, ref in enumerate(ps.not_reprovisioned_in):
            need_account(ref, ("aws", "permission_sets", p_index, "not_reprovisioned_in", index))
        for index, ref in enumerate(ps.provisioning_failed_in):
            need_account(ref, ("aws", "permission_sets", p_index, "provisioning_failed_in", index))
        if ps.provisioning_failed_in and not ps.customer_managed_policies and not (
                ps.boundary and ps.boundary.customer_managed):
            problems.append((("aws", "permission_sets", p_index, "provisioning_failed_in"),
                             "only a set with a customer-managed policy or boundary fails this way"))

    ou_paths = {a.ou.strip("/") for a in scenario.aws.accounts}
    ou_paths |= {"/".join(p.split("/")[:i]) for p in list(ou_paths) for i in range(1, p.count("/") + 1)}
    for s_index, policy in enumerate(scenario.aws.service_control_policies):
        for index, ref in enumerate(policy.targets):
            if ref != "root" and ref.strip("/") not in ou_paths:
                need_account(ref, ("aws", "service_control_policies", s_index, "targets", index))

    for a_index, assignment in enumerate(scenario.aws.account_assignments):
        base = ("aws", "account_assignments", a_index)
        if assignment.group:
            need_group(assignment.group, base + ("group",))
        if assignment.user:
            need_user(assignment.user, base + ("user",))
        if assignment.idc_user and assignment.idc_user.lower() not in idc_users:
            problems.append((base + ("idc_user",), f"no user {assignment.idc_user!r} in aws.identity_center.users"))
        if assignment.idc_group and assignment.idc_group not in idc_groups:
            problems.append((base + ("idc_group",), f"no group {assignment.idc_group!r} in aws.identity_center.groups"))
        for index, ref in enumerate(assignment.accounts):
            need_account(ref, base + ("accounts", index))
        if assignment.permission_set not in ps_names:
            problems.append((base + ("permission_set",), f"no permission set {assignment.permission_set!r}"))

    for p_index, pair in enumerate(scenario.engagement.sod_conflicts):
        for index, name in enumerate(pair):
            if name not in ps_names:
                problems.append((("engagement", "sod_conflicts", p_index, index), f"no permission set {name!r}"))

    if scenario.aws.identity_center.account and scenario.account_by_ref(scenario.aws.identity_center.account) is None \
            and scenario.aws.identity_center.account != scenario.aws.management_account:
        problems.append((("aws", "identity_center", "account"), "not the management account nor in aws.accounts"))

    return problems


def validate_scenario(doc: YamlDocument) -> Scenario:
    scenario = validate_document(doc, Scenario, echo_input=True)  # sandbox fiction: the value helps, no secret
    problems = check_references(scenario)
    if problems:
        raise InputError(doc.file, [f"{doc.where(path)}: {message}" for path, message in problems])
    scenario._source = doc.positions_only()
    return scenario


def seed_input_error(scenario: Scenario, error: SeedError, file: str | Path | None = None) -> InputError:
    """A SeedError as the InputError `sandbox lint` and `sandbox up` report: the scenario file, the line and the
    key (the line when the scenario was read from a file), then the problem."""
    source = scenario._source
    where = source.where(error.path) if source is not None else format_path(error.path)
    name = file if file is not None else (source.file if source is not None else "scenario")
    return InputError(str(name), f"{where}: {error.problem}")


# A generated benchmark organisation of 100,000 users is ~61 MB of YAML; hand-written inputs are bounded lower.
MAX_SCENARIO_BYTES = 512 * 1024 * 1024


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file; raises InputError naming the file, line and key of each problem."""
    return validate_scenario(read_yaml(path, max_bytes=MAX_SCENARIO_BYTES))


def scenarios_dir() -> Path:
    """The scenarios shipped with the project (repo checkout) — where `--scenario demo` is looked up."""
    return SCENARIOS_DIR


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml", ".json") or path.exists():
        return path
    return scenarios_dir() / f"{name_or_path}.yaml"
