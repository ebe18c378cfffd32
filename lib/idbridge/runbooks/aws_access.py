"""Runbook step 3, AWS access: permission sets and group -> account assignments from the desired state.

The desired state manages the permission sets it names (others are left alone). Plan logic, per named set:
- not in Identity Center                         -> create aws.permission_set, then its policies as creates
- description / session / relay state differ     -> update aws.permission_set
- a managed or customer-managed policy missing   -> create aws.managed_policy / aws.customer_managed_policy
  (one attached but not listed)                  -> delete (allow_removals)
- inline policy missing / different / not wanted -> create / update / delete aws.inline_policy
- boundary missing / different / not wanted      -> create / update / delete aws.permissions_boundary
- changed in this plan and provisioned somewhere, or an account on an older version
                                                 -> update aws.provision_permission_set (ALL_PROVISIONED_ACCOUNTS)
- a (group, account) pair of the targets without an assignment -> create aws.account_assignment
- an assignment of the set that the targets do not give       -> delete aws.account_assignment (allow_removals)
- desired `abac:` keys set by Identity Center      -> create / update aws.abac_configuration (runbooks/abac.py)
Warnings (role_warnings) go with the plan, not as changes: a set created (again) and a set's last assignment in
an account removed both give people a role AWSReservedSSO_<set>_<suffix> with a new suffix, so resource policies,
KMS key policies and EKS access entries that name the old role ARN stop matching.
Targets are account ids, OU paths (nested OUs included) and tags. Every name in the file is checked first
(desired_state_checks): a wrong file stops before anything is planned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from idbridge.errors import InputError
from idbridge.plan import Change, Plan
from idbridge.runbooks import abac, aws_state
from idbridge.runbooks import graph as g
from idbridge.runbooks.aws_state import PermissionSet
from idbridge.runbooks.context import Runbook
from idbridge.runbooks.desired.checks import assignment_groups, managed_policies, target_accounts
from idbridge.runbooks.desired.policies import same_policy
from idbridge.runbooks.desired.state import PermissionSetState

STEP = "aws_access"


@dataclass
class AccessPlan:
    plan: Plan
    arns: dict[str, str]                      # permission set name -> ARN (new ones filled in when created)
    pending_groups: list[str] = field(default_factory=list)   # not in Identity Center yet
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)   # also in notes, each starting "Warning:"

    def frame(self):
        return self.plan.frame()


def _boundary(state: PermissionSetState) -> dict | None:
    b = state.permissions_boundary
    if b is None:
        return None
    if b.managed_policy_arn:
        return {"ManagedPolicyArn": b.managed_policy_arn}
    return {"CustomerManagedPolicyReference": {"Name": b.customer_managed.name, "Path": b.customer_managed.path}}


def _normal_boundary(boundary: dict | None) -> dict | None:
    if boundary and "CustomerManagedPolicyReference" in boundary:
        ref = boundary["CustomerManagedPolicyReference"]
        return {"CustomerManagedPolicyReference": {"Name": ref["Name"], "Path": ref.get("Path") or "/"}}
    return boundary or None


def _attributes(state: PermissionSetState) -> dict:
    out = {"SessionDuration": state.session_duration}
    if state.description is not None:
        out["Description"] = state.description
    if state.relay_state is not None:
        out["RelayState"] = state.relay_state
    return out


def _set_changes(state: PermissionSetState, current: PermissionSet | None) -> list[Change]:
    name = state.name
    wanted = _attributes(state)
    out: list[Change] = []
    if current is None:
        out.append(Change("create", "aws.permission_set", name, f"create permission set {name}",
                          after={"Name": name, **wanted}))
        current = PermissionSet("", name, None, None, None)
    else:
        have = {"SessionDuration": current.session_duration, "Description": current.description,
                "RelayState": current.relay_state}
        differs = {k: v for k, v in wanted.items() if have.get(k) != v}
        if differs:
            out.append(Change("update", "aws.permission_set", name, f"{name}: " + ", ".join(differs),
                              before={k: have.get(k) for k in differs}, after=differs))
    for arn in state.managed_policies:
        if arn not in current.managed:
            out.append(Change("create", "aws.managed_policy", f"{name} / {arn}", f"{name}: attach {arn}",
                              after={"ManagedPolicyArn": arn}, payload={"set": name}))
    out += [Change("delete", "aws.managed_policy", f"{name} / {arn}", f"{name}: detach {arn} (not listed)",
                   before={"ManagedPolicyArn": arn}, payload={"set": name})
            for arn in sorted(current.managed - set(state.managed_policies))]
    wanted_refs = {(p.name, p.path) for p in state.customer_managed_policies}
    for ref in sorted(wanted_refs - current.customer_managed):
        out.append(Change("create", "aws.customer_managed_policy", f"{name} / {ref[1]}{ref[0]}",
                          f"{name}: attach customer-managed policy {ref[1]}{ref[0]} (it must exist in every "
                          "target account)", after={"Name": ref[0], "Path": ref[1]}, payload={"set": name}))
    out += [Change("delete", "aws.customer_managed_policy", f"{name} / {ref[1]}{ref[0]}",
                   f"{name}: detach customer-managed policy {ref[1]}{ref[0]} (not listed)",
                   before={"Name": ref[0], "Path": ref[1]}, payload={"set": name})
            for ref in sorted(current.customer_managed - wanted_refs)]
    document = state.inline_document
    if document and not same_policy(document, current.inline):
        out.append(Change("update" if current.inline else "create", "aws.inline_policy", name,
                          f"{name}: inline policy from {state.inline_policy}",
                          before={"InlinePolicy": current.inline} if current.inline else None,
                          after={"InlinePolicy": document}, payload={"set": name}))
    elif not document and current.inline:
        out.append(Change("delete", "aws.inline_policy", name, f"{name}: remove the inline policy (none listed)",
                          before={"InlinePolicy": current.inline}, payload={"set": name}))
    boundary, have = _boundary(state), _normal_boundary(current.boundary)
    if boundary and boundary != have:
        out.append(Change("update" if have else "create", "aws.permissions_boundary", name,
                          f"{name}: permissions boundary", before=have, after=boundary, payload={"set": name}))
    elif not boundary and have:
        out.append(Change("delete", "aws.permissions_boundary", name, f"{name}: remove the permissions boundary",
                          before=have, payload={"set": name}))
    return out


def _reprovision(name: str, current: PermissionSet | None, changed: bool) -> Change | None:
    if current is None or not (current.outdated_in or (changed and current.provisioned_to)):
        return None
    accounts = sorted(current.provisioned_to | current.outdated_in)
    return Change("update", "aws.provision_permission_set", name,
                  f"provision {name} again to the {len(accounts)} account(s) it is in",
                  before={"outdatedIn": sorted(current.outdated_in)},
                  after={"TargetType": "ALL_PROVISIONED_ACCOUNTS", "accounts": accounts}, payload={"set": name})


def _known_policy(rb: Runbook, arn: str) -> None:
    """iam:GetPolicy, once per ARN and run (IAM reads are paced at the default 5 a second)."""
    known = rb.cache.setdefault("managed_policies", set())
    if arn not in known:
        rb.aws("iam").get_policy(PolicyArn=arn)
        known.add(arn)


AWS_RESERVED_ROLES = "https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html"


def role_warnings(changes: list[Change], pairs_after: set[tuple[str, str]], account_names: dict[str, str]) -> list[str]:
    """The plan's changes that replace AWSReservedSSO_ roles: each created permission set, and each (account,
    set) whose assignments the plan deletes with none left after it (`pairs_after`: (account, set) pairs holding
    an assignment once the plan is applied). Identity Center deletes the role with the set's last assignment in an
    account and makes a new one, with a new unique suffix, at the next assignment (AWS_RESERVED_ROLES)."""
    out = []
    for change in changes:
        if change.action == "create" and change.kind == "aws.permission_set":
            out.append(f"Warning: {change.key} is created: its roles will be AWSReservedSSO_{change.key}_<new "
                       "suffix>. If a set of this name existed before, resource policies, KMS key policies and EKS "
                       "access entries naming its old role ARNs no longer match: update them after applying "
                       f"({AWS_RESERVED_ROLES}).")
    emptied = sorted({(c.payload["account"], c.payload["set"]) for c in changes
                      if c.action == "delete" and c.kind == "aws.account_assignment"} - pairs_after)
    for account, ps_name in emptied:
        label = f"{account_names.get(account, account)} ({account})"
        out.append(f"Warning: this removes the last assignment of {ps_name} in {label}: Identity Center deletes "
                   f"its role AWSReservedSSO_{ps_name}_<suffix> there, and a later assignment makes one with a new "
                   "suffix. Resource policies, KMS key policies and EKS access entries naming the current role ARN "
                   f"will lock people out: look for them first ({AWS_RESERVED_ROLES}).")
    return out


async def _entra_groups(rb: Runbook, names: set[str]) -> set[str]:
    found = set()
    for name in sorted(names):
        hits = await g.listing(rb.graph, "/groups", **{"$filter": f"displayName eq {g.quote(name)}", "$select": "id"})
        if hits:
            found.add(name)
    return found


async def plan(rb: Runbook) -> AccessPlan:
    """Check the desired state against the organisation, IAM, Entra and Identity Center, then plan; writes
    nothing."""
    access = rb.section("aws_access")
    accounts = aws_state.accounts(rb)
    targets, problems = target_accounts(rb.doc, access, accounts)
    problems += managed_policies(rb.doc, access, lambda arn: _known_policy(rb, arn))
    group_names = {a.group for a in access.assignments}
    idc_groups = aws_state.group_ids(rb, group_names)
    entra = await _entra_groups(rb, {n for n in group_names if not idc_groups.get(n)})
    problems += assignment_groups(rb.doc, rb.desired, entra, idc_groups)
    if problems:
        raise InputError(rb.file, problems)

    current = aws_state.permission_sets(rb, {p.name for p in access.permission_sets})
    arns = {name: ps.arn for name, ps in current.items()}
    changes: list[Change] = []
    for state in access.permission_sets:
        edits = _set_changes(state, current.get(state.name))
        changes += edits
        again = _reprovision(state.name, current.get(state.name), bool(edits))
        changes += [again] if again else []

    wanted: dict[tuple[str, str, str], str] = {}     # (account, set, group) -> group id ('' when pending)
    for assignment, accounts_of in zip(access.assignments, targets):
        for account in accounts_of:
            wanted[(account, assignment.permission_set, assignment.group)] = idc_groups.get(assignment.group) or ""
    existing = aws_state.assignments(rb, current)
    name_of = {ps.arn: name for name, ps in current.items()}
    have = {(a.account, name_of[a.permission_set_arn], a.principal_type, a.principal_id) for a in existing}
    pending = sorted({group for (_, _, group), gid in wanted.items() if not gid})
    for (account, ps_name, group), gid in sorted(wanted.items()):
        if gid and (account, ps_name, "GROUP", gid) in have:
            continue
        label = f"{accounts[account].name} ({account})"
        changes.append(Change("create", "aws.account_assignment", f"{group} -> {account} / {ps_name}",
                              f"assign {ps_name} in {label} to group {group!r}"
                              + ("" if gid else " (the group is not in Identity Center yet)"),
                              after={"account": account, "permissionSet": ps_name, "group": group},
                              payload={"set": ps_name, "account": account, "type": "GROUP", "principal": gid}))
    keep = {(account, ps_name, "GROUP", gid) for (account, ps_name, _), gid in wanted.items() if gid}
    for account, ps_name, kind, principal in sorted(have - keep):
        who = aws_state.principal_name(rb, kind, principal)
        changes.append(Change("delete", "aws.account_assignment", f"{who} -> {account} / {ps_name}",
                              f"remove {ps_name} in {account} from {kind.lower()} {who!r} (not in the targets)",
                              before={"account": account, "permissionSet": ps_name, "principal": who},
                              payload={"set": ps_name, "account": account, "type": kind, "principal": principal}))
    if rb.desired.abac is not None:  # ABAC enabled with the file's attributes (runbooks/abac.py)
        changes += abac.instance_changes(abac.read_instance(rb.aws("sso-admin"), rb.instance.arn), rb.desired.abac)
    notes = [f"{len(accounts)} accounts in the organisation; {len(current)} of {len(access.permission_sets)} "
             "permission sets exist"]
    if pending:
        notes.append(f"not in Identity Center yet (02_setup_provisioning provisions them): {', '.join(pending)}")
    warnings = role_warnings(changes, {(account, ps_name) for account, ps_name, _ in wanted},
                             {account_id: a.name for account_id, a in accounts.items()})
    return AccessPlan(Plan(STEP, changes), arns, pending, notes + warnings, warnings)

