"""Patches to moto 5.2.5's sso-admin (Identity Center admin API). Installed once by patches.apply_patches().

Each function below names the moto gap it closes; tests/sandbox/test_aws_ssoadmin.py drives each through boto3.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.ssoadmin.exceptions import ConflictException, ResourceNotFoundException
from moto.ssoadmin.models import PermissionSet, SSOAdminBackend
from moto.ssoadmin.responses import SSOAdminResponse

from idbridge.sandbox.aws import store_records as ids
from idbridge.sandbox.aws import sso_state as st
from idbridge.sandbox.aws.naming import identity_store_arn
from idbridge.sandbox.aws.paging import page

Json = dict[str, Any]


def _validation(message: str) -> JsonRESTError:
    return JsonRESTError("ValidationException", message)


def _state(self: SSOAdminResponse, instance_arn: str | None) -> st.SsoState:
    """The instance's extra state; instances moto made itself get an empty one, unknown ARNs are refused."""
    backend = self.ssoadmin_backend
    if not instance_arn:
        raise _validation("1 validation error detected: Value null at 'instanceArn' failed to satisfy constraint")
    found = st.state_for(backend, instance_arn)
    if found is None:
        if not any(i.instance_arn == instance_arn for i in backend.instances):
            raise ResourceNotFoundException(f"Could not find Instance with arn {instance_arn}")
        found = st.states(backend).setdefault(instance_arn, st.SsoState(instance_arn))
    return found


def _instance(self: SSOAdminResponse, instance_arn: str):  # -> moto Instance
    for instance in self.ssoadmin_backend.instances:
        if instance.instance_arn == instance_arn:
            return instance
    raise ResourceNotFoundException(f"Could not find Instance with arn {instance_arn}")


def _ps(self: SSOAdminResponse) -> tuple[str, str, PermissionSet]:
    instance_arn = self._get_param("InstanceArn")
    ps_arn = self._get_param("PermissionSetArn")
    return instance_arn, ps_arn, self.ssoadmin_backend._find_permission_set(instance_arn, ps_arn)


# --------------------------------------------------------------------------------------------- permission sets

def _generate_ps_id(instance_arn: str) -> str:
    # Gap: moto builds "<instance ARN>/ps-..."; AWS's shape is arn:aws:sso:::permissionSet/ssoins-.../ps-...
    from moto.moto_api._internal import mock_random as random
    instance_id = instance_arn.rsplit("/", 1)[-1]
    return f"arn:aws:sso:::permissionSet/{instance_id}/ps-{random.get_random_string(length=16).lower()}"


def create_permission_set(self: SSOAdminResponse) -> str:
    # Gaps: moto defaults SessionDuration to the integer 3600 (AWS's default is the ISO-8601 string PT1H), and it
    # creates a second permission set of a name already taken, where AWS answers ConflictException
    # (tests/contract/fixtures/aws/ssoadmin_error_conflict.json).
    name, instance_arn = self._get_param("Name"), self._get_param("InstanceArn")
    if any(ps.instance_arn == instance_arn and ps.name == name for ps in self.ssoadmin_backend.permission_sets):
        raise ConflictException(f"PermissionSet with name {name} already exists.")
    result = self.ssoadmin_backend.create_permission_set(
        name=self._get_param("Name"), description=self._get_param("Description"),
        instance_arn=self._get_param("InstanceArn"), session_duration=self._get_param("SessionDuration", "PT1H"),
        relay_state=self._get_param("RelayState"), tags=self._get_param("Tags") or [])
    return json.dumps({"PermissionSet": result})


def update_permission_set(self: SSOAdminResponse) -> str:
    # Gap: moto overwrites attributes left out of the request with null / 3600, and marks nothing outdated.
    instance_arn, ps_arn, ps = _ps(self)
    for param, attr in (("Description", "description"), ("SessionDuration", "session_duration"),
                        ("RelayState", "relay_state")):
        value = self._get_param(param)
        if value is not None:
            setattr(ps, attr, value)
    _changed(self.ssoadmin_backend, instance_arn, ps_arn)
    return "{}"


def _changed(backend: SSOAdminBackend, instance_arn: str, ps_arn: str) -> None:
    state = st.state_for(backend, instance_arn)
    if state is not None:
        st.mark_outdated(state, ps_arn)


def _marks_outdated(method):
    """Gap: changing a permission set's policies leaves every account it is provisioned to on the old version
    (LATEST_PERMISSION_SET_NOT_PROVISIONED) until ProvisionPermissionSet; moto tracks no versions."""

    def wrapper(self: SSOAdminBackend, instance_arn: str, permission_set_arn: str, *args: Any, **kwargs: Any):
        result = method(self, instance_arn, permission_set_arn, *args, **kwargs)
        _changed(self, instance_arn, permission_set_arn)
        return result

    wrapper.__name__ = method.__name__
    wrapper.__wrapped__ = method  # type: ignore[attr-defined]
    return wrapper


_POLICY_WRITERS = (
    "attach_managed_policy_to_permission_set", "detach_managed_policy_from_permission_set",
    "attach_customer_managed_policy_reference_to_permission_set",
    "detach_customer_managed_policy_reference_from_permission_set",
    "put_inline_policy_to_permission_set", "delete_inline_policy_from_permission_set",
)


def delete_permission_set(self: SSOAdminResponse) -> str:
    # Gap: moto keeps nothing per account; drop our provisioning record with the permission set.
    instance_arn, ps_arn, _ = _ps(self)
    self.ssoadmin_backend.delete_permission_set(instance_arn=instance_arn, permission_set_arn=ps_arn)
    state = st.state_for(self.ssoadmin_backend, instance_arn)
    if state is not None:
        st.forget_permission_set(state, ps_arn)
    return "{}"


# Gap: put / get / delete_permissions_boundary_* are not implemented (HTTP 500).
def put_permissions_boundary_to_permission_set(self: SSOAdminResponse) -> str:
    instance_arn, ps_arn, ps = _ps(self)
    boundary = self._get_param("PermissionsBoundary") or {}
    if ("ManagedPolicyArn" in boundary) == ("CustomerManagedPolicyReference" in boundary):
        raise _validation("PermissionsBoundary needs exactly one of ManagedPolicyArn, CustomerManagedPolicyReference")
    if "CustomerManagedPolicyReference" in boundary:
        boundary["CustomerManagedPolicyReference"].setdefault("Path", "/")
    ps.permissions_boundary = boundary
    _changed(self.ssoadmin_backend, instance_arn, ps_arn)
    return "{}"


def get_permissions_boundary_for_permission_set(self: SSOAdminResponse) -> str:
    _, ps_arn, ps = _ps(self)
    boundary = getattr(ps, "permissions_boundary", None)
    if not boundary:
        raise ResourceNotFoundException(f"Could not find PermissionsBoundary for PermissionSet {ps_arn}")
    return json.dumps({"PermissionsBoundary": boundary})


def delete_permissions_boundary_from_permission_set(self: SSOAdminResponse) -> str:
    instance_arn, ps_arn, ps = _ps(self)
    if not getattr(ps, "permissions_boundary", None):
        raise ResourceNotFoundException(f"Could not find PermissionsBoundary for PermissionSet {ps_arn}")
    ps.permissions_boundary = None
    _changed(self.ssoadmin_backend, instance_arn, ps_arn)
    return "{}"


# --------------------------------------------------------------------------------------------- instances, regions

def _backend_init(original):
    # Gap: moto invents one random instance in every account and region; AWS has only the instance you enabled.
    # The seeder installs the scenario's instance; everywhere else list_instances is empty.
    def __init__(self: SSOAdminBackend, region_name: str, account_id: str) -> None:
        original(self, region_name, account_id)
        self.instances.clear()

    return __init__


def _instance_json(backend: SSOAdminBackend, instance) -> Json:
    # Gap: moto lacks IdentityStoreArn, PrimaryRegion, Regions.
    out = {k: v for k, v in instance.to_json().items() if v is not None}
    out["IdentityStoreArn"] = identity_store_arn(instance.account_id, instance.identity_store_id)
    state = st.state_for(backend, instance.instance_arn)
    if state is not None and state.regions:
        out["PrimaryRegion"] = next(r["RegionName"] for r in state.regions if r["IsPrimaryRegion"])
        out["Regions"] = state.regions
    return out


def list_instances(self: SSOAdminResponse) -> str:
    backend = self.ssoadmin_backend
    items, token = page(backend.instances, self._get_param("MaxResults"), self._get_param("NextToken"))
    return json.dumps({"Instances": [_instance_json(backend, i) for i in items], "NextToken": token})


def describe_instance(self: SSOAdminResponse) -> str:
    # Gap: not implemented.
    instance = _instance(self, self._get_param("InstanceArn"))
    return json.dumps(_instance_json(self.ssoadmin_backend, instance))


def list_regions(self: SSOAdminResponse) -> str:
    # Gap: not implemented (multi-Region Identity Center).
    state = _state(self, self._get_param("InstanceArn"))
    items, token = page(state.regions, self._get_param("MaxResults"), self._get_param("NextToken"))
    return json.dumps({"Regions": items, "NextToken": token})


def describe_region(self: SSOAdminResponse) -> str:
    # Gap: not implemented.
    state = _state(self, self._get_param("InstanceArn"))
    name = self._get_param("RegionName")
    for region in state.regions:
        if region["RegionName"] == name:
            return json.dumps(region)
    raise ResourceNotFoundException(f"Region {name} is not enabled for this instance")


# --------------------------------------------------------------------------------------------- ABAC

# Gap: the instance's attributes for access control are not implemented. AWS's rules from the API reference
# (AccessControlAttribute, AccessControlAttributeValue): at most 50 attributes, key 1-128 characters of
# [\p{L}\p{Z}\p{N}_.:/=+\-@], exactly one source of at most 256 characters; Create on a configured instance is a
# ConflictException, Describe/Update/Delete on one without a configuration ResourceNotFoundException.
_ABAC_KEY = re.compile(r"^[\w\s.:/=+\-@]{1,128}$")


def _abac_request(self: SSOAdminResponse) -> Json:
    config = self._get_param("InstanceAccessControlAttributeConfiguration") or {}
    attributes = config.get("AccessControlAttributes")
    if not isinstance(attributes, list):
        raise _validation("InstanceAccessControlAttributeConfiguration.AccessControlAttributes is required")
    if len(attributes) > 50:
        raise _validation("AccessControlAttributes: at most 50 attributes")
    keys = set()
    for item in attributes:
        key, sources = item.get("Key") or "", (item.get("Value") or {}).get("Source") or []
        if not _ABAC_KEY.match(key) or "\t" in key or "\n" in key:
            raise _validation(f"AccessControlAttribute Key {key!r} does not satisfy the constraint")
        if len(sources) != 1 or len(sources[0]) > 256:
            raise _validation(f"AccessControlAttribute {key}: Value.Source must hold exactly one source (<= 256)")
        if key.lower() in keys:
            raise _validation(f"AccessControlAttribute Key {key!r} is given twice")
        keys.add(key.lower())
    return {"AccessControlAttributes": [{"Key": a["Key"], "Value": {"Source": list(a["Value"]["Source"])}}
                                        for a in attributes]}


def _abac_state(self: SSOAdminResponse) -> st.SsoState:
    state = _state(self, self._get_param("InstanceArn"))
    if state.abac is None:
        raise ResourceNotFoundException("Could not find InstanceAccessControlAttributeConfiguration for the instance")
    return state


def describe_instance_access_control_attribute_configuration(self: SSOAdminResponse) -> str:
    return json.dumps(_abac_state(self).abac)


def create_instance_access_control_attribute_configuration(self: SSOAdminResponse) -> str:
    state = _state(self, self._get_param("InstanceArn"))
    config = _abac_request(self)
    if state.abac is not None:
        raise ConflictException("InstanceAccessControlAttributeConfiguration already exists for the instance")
    state.abac = {"Status": "ENABLED", "StatusReason": "", "InstanceAccessControlAttributeConfiguration": config}
    return "{}"


def update_instance_access_control_attribute_configuration(self: SSOAdminResponse) -> str:
    state = _abac_state(self)
    state.abac = {**state.abac, "InstanceAccessControlAttributeConfiguration": _abac_request(self)}
    return "{}"


def delete_instance_access_control_attribute_configuration(self: SSOAdminResponse) -> str:
    _abac_state(self).abac = None
    return "{}"


# --------------------------------------------------------------------------------------------- provisioning

def provision_permission_set(self: SSOAdminResponse) -> str:
    # Gap: moto provisions to the caller's account only and ignores TargetType / TargetId.
    instance_arn, ps_arn, _ = _ps(self)
    state = _state(self, instance_arn)
    target_type = self._get_param("TargetType")
    target_id = self._get_param("TargetId")
    if target_type == "AWS_ACCOUNT":
        if not target_id:
            raise _validation("TargetId is required when TargetType is AWS_ACCOUNT")
        if state.valid_accounts is not None and target_id not in state.valid_accounts:
            status = st.record_ps_request(state, ps_arn, target_id,
                                          failure=f"Account {target_id} is not part of the organization")
            return json.dumps({"PermissionSetProvisioningStatus": status})
        st.mark_provisioned(state, ps_arn, target_id)
    elif target_type == "ALL_PROVISIONED_ACCOUNTS":
        for account_id in list(state.provisioned.get(ps_arn, {})):
            st.mark_provisioned(state, ps_arn, account_id)
        target_id = None
    else:
        raise _validation(f"Invalid TargetType {target_type!r}")
    status = st.record_ps_request(state, ps_arn, target_id)
    return json.dumps({"PermissionSetProvisioningStatus": status})


def describe_permission_set_provisioning_status(self: SSOAdminResponse) -> str:
    # Gap: not implemented.
    state = _state(self, self._get_param("InstanceArn"))
    request_id = self._get_param("ProvisionPermissionSetRequestId")
    if request_id not in state.ps_requests:
        raise ResourceNotFoundException(f"Could not find provisioning request {request_id}")
    return json.dumps({"PermissionSetProvisioningStatus": state.ps_requests[request_id]})


def list_permission_set_provisioning_status(self: SSOAdminResponse) -> str:
    # Gap: not implemented.
    state = _state(self, self._get_param("InstanceArn"))
    wanted = (self._get_param("Filter") or {}).get("Status")
    rows = [{k: r[k] for k in ("Status", "RequestId", "CreatedDate")}
            for r in state.ps_requests.values() if wanted in (None, r["Status"])]
    items, token = page(rows, self._get_param("MaxResults"), self._get_param("NextToken"))
    return json.dumps({"PermissionSetsProvisioningStatus": items, "NextToken": token})


def list_accounts_for_provisioned_permission_set(self: SSOAdminResponse) -> str:
    # Gap: moto returns the caller's account for any permission set provisioned anywhere, no filter, no paging.
    instance_arn, ps_arn, _ = _ps(self)
    state = _state(self, instance_arn)
    accounts = st.accounts_for(state, ps_arn, self._get_param("ProvisioningStatus"))
    items, token = page(accounts, self._get_param("MaxResults"), self._get_param("NextToken"))
    return json.dumps({"AccountIds": items, "NextToken": token})


def list_permission_sets_provisioned_to_account(self: SSOAdminResponse) -> str:
    # Gap: moto ignores AccountId, ProvisioningStatus and paging.
    state = _state(self, self._get_param("InstanceArn"))
    account_id = self._get_param("AccountId")
    if not account_id:
        raise _validation("AccountId is required")
    arns = st.permission_sets_for(state, account_id, self._get_param("ProvisioningStatus"))
    items, token = page(arns, self._get_param("MaxResults"), self._get_param("NextToken"))
    return json.dumps({"PermissionSets": items, "NextToken": token})


# --------------------------------------------------------------------------------------------- assignments

def _assignment_params(self: SSOAdminResponse) -> tuple[str, st.AssignmentKey]:
    key = (self._get_param("TargetId"), self._get_param("PermissionSetArn"), self._get_param("PrincipalType"),
           self._get_param("PrincipalId"))
    if self._get_param("TargetType") != "AWS_ACCOUNT":
        raise _validation("TargetType must be AWS_ACCOUNT")
    if key[2] not in ("USER", "GROUP"):
        raise _validation("PrincipalType must be USER or GROUP")
    return self._get_param("InstanceArn"), key


def _operation_status(key: st.AssignmentKey, request_id: str, created: float, failure: str | None = None) -> Json:
    out = {"Status": "FAILED" if failure else "SUCCEEDED", "RequestId": request_id, "TargetId": key[0],
           "TargetType": "AWS_ACCOUNT", "PermissionSetArn": key[1], "PrincipalType": key[2],
           "PrincipalId": key[3], "CreatedDate": created}
    if failure:
        out["FailureReason"] = failure
    return out


def _principal_exists(self: SSOAdminResponse, instance_arn: str, principal_type: str, principal_id: str) -> bool:
    instance = _instance(self, instance_arn)
    try:
        data = ids.store_data(instance.account_id, self.region, instance.identity_store_id)
    except ids.NotFound:
        return True  # an instance moto made itself has no store of ours: nothing to check against
    return principal_id in (data.users if principal_type == "USER" else data.groups)


def create_account_assignment(self: SSOAdminResponse) -> str:
    # Gaps: moto validates nothing, provisions nothing, and stores duplicates. Here an unknown account or
    # principal ends the request FAILED (as AWS's asynchronous workflow does), a duplicate is a no-op, and the
    # permission set is provisioned to the account.
    instance_arn, key = _assignment_params(self)
    self.ssoadmin_backend._find_permission_set(instance_arn, key[1])
    state = _state(self, instance_arn)
    now = time.time()
    request_id = st.new_request_id()
    failure = None
    if state.valid_accounts is not None and key[0] not in state.valid_accounts:
        failure = f"Account {key[0]} is not part of the organization"
    elif not _principal_exists(self, instance_arn, key[2], key[3]):
        failure = f"{key[2].title()} {key[3]} does not exist in the identity store"
    if failure is None:
        st.add_assignment(state, *key, at=now)
    status = _operation_status(key, request_id, now, failure)
    state.creations[request_id] = status
    return json.dumps({"AccountAssignmentCreationStatus": status})


def delete_account_assignment(self: SSOAdminResponse) -> str:
    instance_arn, key = _assignment_params(self)
    state = _state(self, instance_arn)
    if st.remove_assignment(state, key) is None:
        raise ResourceNotFoundException("Could not find the account assignment")
    request_id = st.new_request_id()
    status = _operation_status(key, request_id, time.time())
    state.deletions[request_id] = status
    return json.dumps({"AccountAssignmentDeletionStatus": status})


def describe_account_assignment_creation_status(self: SSOAdminResponse) -> str:
    state = _state(self, self._get_param("InstanceArn"))
    status = state.creations.get(self._get_param("AccountAssignmentCreationRequestId"))
    if status is None:
        raise ResourceNotFoundException("Could not find the account assignment creation request")
    return json.dumps({"AccountAssignmentCreationStatus": status})


def describe_account_assignment_deletion_status(self: SSOAdminResponse) -> str:
    state = _state(self, self._get_param("InstanceArn"))
    status = state.deletions.get(self._get_param("AccountAssignmentDeletionRequestId"))
    if status is None:
        raise ResourceNotFoundException("Could not find the account assignment deletion request")
    return json.dumps({"AccountAssignmentDeletionStatus": status})


def _status_listing(self: SSOAdminResponse, attr: str, result_key: str) -> str:
    # Gap: list_account_assignment_creation/deletion_status are not implemented.
    state = _state(self, self._get_param("InstanceArn"))
    wanted = (self._get_param("Filter") or {}).get("Status")
    rows = [{k: r[k] for k in ("Status", "RequestId", "CreatedDate")}
            for r in getattr(state, attr).values() if wanted in (None, r["Status"])]
    items, token = page(rows, self._get_param("MaxResults"), self._get_param("NextToken"))
    return json.dumps({result_key: items, "NextToken": token})


def list_account_assignment_creation_status(self: SSOAdminResponse) -> str:
    return _status_listing(self, "creations", "AccountAssignmentsCreationStatus")


def list_account_assignment_deletion_status(self: SSOAdminResponse) -> str:
    return _status_listing(self, "deletions", "AccountAssignmentsDeletionStatus")


def list_account_assignments(self: SSOAdminResponse) -> str:
    # Gap: moto scans every assignment per page (slow at 50k); served from the (account, permission set) index.
    state = _state(self, self._get_param("InstanceArn"))
    pair = (self._get_param("AccountId"), self._get_param("PermissionSetArn"))
    rows = [a.listing() for a in state.by_pair.get(pair, {}).values()]
    items, token = page(rows, self._get_param("MaxResults"), self._get_param("NextToken"))
    return json.dumps({"AccountAssignments": items, "NextToken": token})


def list_account_assignments_for_principal(self: SSOAdminResponse) -> str:
    # Gap: moto scans every assignment and lists only the principal's own rows. For a USER, AWS also returns the
    # rows the user holds through its groups (PrincipalType GROUP, the group's id) — what "has access to" means.
    instance_arn = self._get_param("InstanceArn")
    state = _state(self, instance_arn)
    ptype, pid = self._get_param("PrincipalType"), self._get_param("PrincipalId")
    account = (self._get_param("Filter") or {}).get("AccountId")
    found = list(state.by_principal.get((ptype, pid), {}).values())
    if ptype == "USER":
        instance = _instance(self, instance_arn)
        try:
            data = ids.store_data(instance.account_id, self.region, instance.identity_store_id)
            for group_id in data.idx.member_of.get(pid, {}):  # type: ignore[attr-defined]
                found += state.by_principal.get(("GROUP", group_id), {}).values()
        except ids.NotFound:
            pass
    rows = [a.listing() for a in found if account in (None, a.account_id)]
    items, token = page(rows, self._get_param("MaxResults"), self._get_param("NextToken"))
    return json.dumps({"AccountAssignments": items, "NextToken": token})


# --------------------------------------------------------------------------------------------- tags

def _tag_target(self: SSOAdminResponse) -> list[Json]:
    arn = self._get_param("ResourceArn")
    backend = self.ssoadmin_backend
    for ps in backend.permission_sets:
        if ps.permission_set_arn == arn:
            if ps.tags is None:
                ps.tags = []
            return ps.tags
    for instance in backend.instances:
        if instance.instance_arn == arn:
            return _state(self, arn).tags.setdefault(arn, [])
    raise ResourceNotFoundException(f"Could not find resource {arn}")


def list_tags_for_resource(self: SSOAdminResponse) -> str:
    # Gap: not implemented (HTTP 500).
    items, token = page(_tag_target(self), 50, self._get_param("NextToken"), default=50)
    return json.dumps({"Tags": items, "NextToken": token})


def tag_resource(self: SSOAdminResponse) -> str:
    # Gap: not implemented.
    tags = _tag_target(self)
    for new in self._get_param("Tags") or []:
        tags[:] = [t for t in tags if t["Key"] != new["Key"]] + [new]
    return "{}"


def untag_resource(self: SSOAdminResponse) -> str:
    # Gap: not implemented.
    tags = _tag_target(self)
    drop = set(self._get_param("TagKeys") or [])
    tags[:] = [t for t in tags if t["Key"] not in drop]
    return "{}"


# --------------------------------------------------------------------------------------------- install

_RESPONSES = [
    create_permission_set, update_permission_set, delete_permission_set,
    put_permissions_boundary_to_permission_set, get_permissions_boundary_for_permission_set,
    delete_permissions_boundary_from_permission_set,
    list_instances, describe_instance, list_regions, describe_region,
    provision_permission_set, describe_permission_set_provisioning_status, list_permission_set_provisioning_status,
    list_accounts_for_provisioned_permission_set, list_permission_sets_provisioned_to_account,
    create_account_assignment, delete_account_assignment, describe_account_assignment_creation_status,
    describe_account_assignment_deletion_status, list_account_assignment_creation_status,
    list_account_assignment_deletion_status, list_account_assignments, list_account_assignments_for_principal,
    list_tags_for_resource, tag_resource, untag_resource,
    describe_instance_access_control_attribute_configuration, create_instance_access_control_attribute_configuration,
    update_instance_access_control_attribute_configuration, delete_instance_access_control_attribute_configuration,
]


def install() -> list[str]:
    PermissionSet.generate_id = staticmethod(_generate_ps_id)  # type: ignore[method-assign]
    SSOAdminBackend.__init__ = _backend_init(SSOAdminBackend.__init__)  # type: ignore[method-assign]
    for name in _POLICY_WRITERS:
        setattr(SSOAdminBackend, name, _marks_outdated(getattr(SSOAdminBackend, name)))
    for func in _RESPONSES:
        setattr(SSOAdminResponse, func.__name__, func)
    return ["PermissionSet.generate_id", "SSOAdminBackend.__init__",
            *(f"SSOAdminBackend.{n}" for n in _POLICY_WRITERS), *(f"SSOAdminResponse.{f.__name__}" for f in _RESPONSES)]

