"""The desired state of the bridge: what the setup runbooks make true, in one YAML file per engagement.

    apply: false               # plan only (the default); true writes
    allow_removals: false      # deletions are planned and shown, and happen only with true
    saml: ...                  # 01_setup_saml
    provisioning: ...          # 02_setup_provisioning
    aws_access: ...            # 03_setup_aws_access

parameters/desired-state.demo.yaml documents every key. Paths in the file (SP metadata, inline policies) are
relative to the file's own folder. Secrets are references (env:NAME, ...), never values.

Loading checks everything that can be checked without a cloud (shapes, policy files, limits); what needs a read
(unknown group, account, OU, managed policy) is checked by desired_state_checks before a step plans. Either way a
wrong file is an InputError naming the file, the line and the key, and nothing is planned.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from idbridge.runbooks.desired.policies import (MANAGED_POLICY_ARN, MAX_ATTACHED_POLICIES, canonical_duration,
                                                load_policy)
from idbridge.core import secrets
from idbridge.core.vocabulary import StrictModel as Strict
from idbridge.core.yamlfile import YamlDocument, read_yaml, validate_document
from idbridge.errors import InputError
from idbridge.runbooks.params import RunbookParams

_ACCOUNT = re.compile(r"^\d{12}$")
_PS_NAME = re.compile(r"^[\w+=,.@-]{1,32}$")
_UPN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEFAULT_CERTIFICATE_NAME = "CN=Microsoft Azure Federated SSO Certificate"


def _base_dir(info: ValidationInfo) -> Path:
    return Path((info.context or {}).get("base_dir", "."))


# --------------------------------------------------------------------------------------------- SAML


class SamlState(Strict):
    sp_metadata: list[str] = Field(description="the AWS service-provider metadata file(s) downloaded from "
                                               "Identity Center, one per Region or one with every Region")
    sign_on_url: str | None = Field(None, description="the AWS access portal sign-in URL Identity Center shows")
    certificate_name: str = DEFAULT_CERTIFICATE_NAME
    certificate_years: int = Field(3, ge=1, le=3, description="Entra allows at most 3 years")
    renew_within_days: int = Field(60, ge=1, le=365, description="make a new certificate when the active one "
                                                                  "expires within this many days")
    guest_name_id_source: str | None = Field("user.mail", description="NameID source for guests (AWS-ENTRA): "
                                                                       "their UPN holds #EXT#; null: no rule")

    @field_validator("sp_metadata", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value

    @field_validator("sp_metadata")
    @classmethod
    def _exist(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if not value:
            raise ValueError("give the SP metadata file Identity Center offers for download")
        resolved = []
        for index, item in enumerate(value):
            path = Path(item) if Path(item).is_absolute() else _base_dir(info) / item
            if not path.is_file():
                which = f"file {index + 1} of {len(value)}: " if len(value) > 1 else ""
                raise ValueError(f"{which}file not found, relative to the desired state's folder (download it in "
                                 "Identity Center › Settings › Identity source › Change identity source › External "
                                 "identity provider)")
            resolved.append(str(path.resolve()))
        return resolved

    @field_validator("sign_on_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError(f"{value!r} is not an https URL")
        return value

    @field_validator("certificate_name")
    @classmethod
    def _cn(cls, value: str) -> str:
        if not value.startswith("CN="):
            raise ValueError("Entra requires the certificate's display name to start with CN=")
        return value


# --------------------------------------------------------------------------------------------- provisioning


class ProvisioningState(Strict):
    scim_endpoint: str = Field(description="secret reference (env:NAME, ...) or the https SCIM endpoint")
    scim_token: str = Field(description="secret reference to the SCIM access token; never the token")
    groups: list[str] = Field(description="Entra groups to assign to the app: they and their direct members "
                                          "are provisioned")
    test_user: str = Field(description="UPN of a member of one of the groups, provisioned on demand first")
    notification_email: str | None = Field(None, description="who gets Entra's quarantine mails")
    wait_minutes: float = Field(10, ge=0, le=120, description="how long to wait for the first cycle")

    @field_validator("scim_endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if value.startswith("https://"):
            return value
        return secrets.check(value)

    @field_validator("scim_token")
    @classmethod
    def _token(cls, value: str) -> str:
        return secrets.check(value)

    @field_validator("groups")
    @classmethod
    def _groups(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("assign at least one group (scope: assigned users and groups)")
        duplicates = sorted({g for g in value if value.count(g) > 1})
        if duplicates:
            raise ValueError(f"listed twice: {', '.join(duplicates)}")
        return value

    @field_validator("test_user", "notification_email")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not _UPN.match(value):
            raise ValueError(f"{value!r} is not a user principal name / address (name@domain)")
        return value


# --------------------------------------------------------------------------------------------- AWS access


class PolicyRef(Strict):
    """A customer-managed policy by name and path: it must exist in every account the permission set goes to."""

    name: str = Field(pattern=r"^[\w+=,.@-]{1,128}$")
    path: str = Field("/", pattern=r"^/(?:[\w+=,.@-]+/)*$")


class Boundary(Strict):
    managed_policy_arn: str | None = None
    customer_managed: PolicyRef | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "Boundary":
        if (self.managed_policy_arn is None) == (self.customer_managed is None):
            raise ValueError("give exactly one of managed_policy_arn and customer_managed")
        if self.managed_policy_arn and not MANAGED_POLICY_ARN.match(self.managed_policy_arn):
            raise ValueError(f"{self.managed_policy_arn!r} is not an AWS managed policy ARN")
        return self


class PermissionSetState(Strict):
    name: str
    description: str | None = Field(None, max_length=700)
    session_duration: str = "PT1H"
    relay_state: str | None = None
    managed_policies: list[str] = Field(default_factory=list)
    customer_managed_policies: list[PolicyRef] = Field(default_factory=list)
    inline_policy: str | None = Field(None, description="a JSON policy file, relative to this file")
    permissions_boundary: Boundary | None = None
    _inline_document: str | None = PrivateAttr(None)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _PS_NAME.match(value):
            raise ValueError(f"{value!r}: a permission set name has 1-32 letters, digits and +=,.@-_")
        return value

    @field_validator("session_duration")
    @classmethod
    def _session(cls, value: str) -> str:
        return canonical_duration(value)

    @field_validator("managed_policies")
    @classmethod
    def _arns(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not MANAGED_POLICY_ARN.match(v)]
        if bad:
            raise ValueError(f"not AWS managed policy ARNs (arn:aws:iam::aws:policy/NAME): {', '.join(bad)}")
        if len(set(value)) != len(value):
            raise ValueError("a managed policy is listed twice")
        return value

    @field_validator("inline_policy")
    @classmethod
    def _policy_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        path = Path(value) if Path(value).is_absolute() else _base_dir(info) / value
        load_policy(path, value)  # raises ValueError in words: shown at this key's line
        return str(path.resolve())

    @model_validator(mode="after")
    def _limits(self) -> "PermissionSetState":
        attached = len(self.managed_policies) + len(self.customer_managed_policies)
        if attached > MAX_ATTACHED_POLICIES:
            raise ValueError(f"{attached} managed and customer-managed policies: Identity Center allows "
                             f"{MAX_ATTACHED_POLICIES} per permission set")
        if self.inline_policy:
            self._inline_document = load_policy(Path(self.inline_policy), self.inline_policy)
        return self

    @property
    def inline_document(self) -> str | None:
        """The inline policy as sent to AWS (minified JSON)."""
        return self._inline_document


class Targets(Strict):
    accounts: list[str] = Field(default_factory=list)
    ous: list[str] = Field(default_factory=list, description="OU paths below the root, e.g. Workloads/Prod; "
                                                             "accounts in nested OUs are included")
    tags: dict[str, list[str]] = Field(default_factory=dict, description="key: [values]; any value matches")

    @field_validator("accounts", mode="before")
    @classmethod
    def _as_text(cls, value):
        return [str(v) for v in value] if isinstance(value, list) else value

    @field_validator("accounts")
    @classmethod
    def _accounts(cls, value: list[str]) -> list[str]:
        bad = [str(v) for v in value if not _ACCOUNT.match(str(v))]
        if bad:
            raise ValueError(f"not 12-digit account ids (quote them in YAML): {', '.join(bad)}")
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_values(cls, value):
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _some(self) -> "Targets":
        if not (self.accounts or self.ous or self.tags):
            raise ValueError("name the target accounts: accounts, ous or tags")
        return self


class AssignmentState(Strict):
    group: str
    permission_set: str
    targets: Targets


class AwsAccessState(Strict):
    permission_sets: list[PermissionSetState] = Field(default_factory=list)
    assignments: list[AssignmentState] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> "AwsAccessState":
        names = [p.name for p in self.permission_sets]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"permission set(s) defined twice: {', '.join(twice)}")
        return self


# --------------------------------------------------------------------------------------------- ABAC

_ABAC_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")  # AWS's AccessControlAttribute key (docs/abac.md)
_ABAC_PATH = re.compile(r"^\$\{path:[^}]+\}$")


class AbacKey(Strict):
    source: str = Field(description="the Entra user attribute, as a claim source: user.department")
    identity_center: str | None = Field(None, description="set by Identity Center from this SCIM path "
                                                          "(${path:enterprise.department}) instead of a claim")

    @field_validator("source")
    @classmethod
    def _user(cls, value: str) -> str:
        if not re.match(r"^user\.\w+$", value):
            raise ValueError("an Entra user attribute as claims name it, such as user.department")
        return value

    @field_validator("identity_center")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not _ABAC_PATH.match(value):
            raise ValueError("a SCIM path as Identity Center names it, such as ${path:enterprise.department}")
        return value


class AbacState(Strict):
    keys: dict[str, AbacKey] = Field(description="session tag key -> its Entra source")

    @field_validator("keys")
    @classmethod
    def _keys(cls, value: dict[str, AbacKey]) -> dict[str, AbacKey]:
        if len(value) > 50:
            raise ValueError("at most 50 keys (AWS's limit of session tags and of attributes for access control)")
        bad = [k for k in value if not _ABAC_KEY.match(k)]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))}: a key is 1-128 letters, digits, spaces and _ . : / = + - @")
        folded = [k.lower() for k in value]
        twice = sorted({k for k in value if folded.count(k.lower()) > 1})
        if twice:
            raise ValueError(f"keys that differ only in case: {', '.join(twice)} (IAM compares keys without case)")
        return value


# --------------------------------------------------------------------------------------------- the file


class DesiredState(RunbookParams):
    saml: SamlState | None = None
    provisioning: ProvisioningState | None = None
    aws_access: AwsAccessState | None = None
    abac: AbacState | None = Field(None, description="ABAC keys: claims (01) and attributes for access control (03)")


def _unknown_permission_sets(doc: YamlDocument, state: DesiredState) -> list[str]:
    if state.aws_access is None:
        return []
    names = {p.name for p in state.aws_access.permission_sets}
    return [f"{doc.where(('aws_access', 'assignments', i, 'permission_set'))}: permission set {a.permission_set!r} "
            f"is not defined under aws_access.permission_sets" for i, a in enumerate(state.aws_access.assignments)
            if a.permission_set not in names]


def load_desired_state(path: str | Path) -> tuple[DesiredState, YamlDocument]:
    """Read and validate a desired-state file. Returns the model and the parsed document (whose `where()` lets
    later checks name the line of a key). Raises InputError naming the file, line and key."""
    doc = read_yaml(path)
    state = validate_document(doc, DesiredState, context={"base_dir": str(Path(path).resolve().parent)})
    problems = _unknown_permission_sets(doc, state)
    if problems:
        raise InputError(doc.file, problems)
    return state, doc
