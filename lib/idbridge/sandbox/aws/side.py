"""AwsSide: what the AWS seeding made (accounts, the Identity Center instance, the identity store facade, the
CloudTrail store) and what the emulated provisioning and the routes read from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from idbridge.sandbox.aws import sso_state as st
from idbridge.sandbox.aws import trail
from idbridge.sandbox.aws.identity_store import IdentityStore


@dataclass
class AwsSide:
    account_id: str                 # where the Identity Center instance lives
    management_account: str
    region: str                     # the instance's primary Region
    regions: list[str]              # primary first, then extra_regions
    instance_arn: str
    identity_store_id: str
    organization_id: str
    ou_ids: dict[str, str]          # OU path ('' = root) -> id
    permission_sets: dict[str, str]  # name -> ARN
    identity_store: IdentityStore
    cloudtrail: trail.EventStore
    scim_endpoint: str
    scim_tokens: list[str]          # bearer tokens Identity Center accepts now (empty: expired / revoked / none)
    scim_issuer: str                # ExternalIds[].Issuer of SCIM-provisioned users and groups
    identity_source: str
    pending_sign_ins: list[tuple[dict[str, Any], str]] = field(default_factory=list, repr=False)

    @property
    def sso(self) -> st.SsoState:
        """Assignments and provisioning status of the instance."""
        return st.states(st.backend_for(self.account_id, self.region))[self.instance_arn]
