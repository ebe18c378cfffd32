"""Checks of the desired state that need a read of the clouds, run before a step plans: a group, account, OU or
managed policy the file names must exist. Every problem names the line and key; all are reported at once."""

from __future__ import annotations

from collections.abc import Callable

from idbridge.clients.aws.calls import error_code
from idbridge.core.yamlfile import YamlDocument
from idbridge.runbooks.desired.state import AwsAccessState, DesiredState


def target_accounts(doc: YamlDocument, access: AwsAccessState, accounts: dict) -> tuple[list[set[str]], list[str]]:
    """The accounts each assignment targets (accounts, OU paths with nested OUs, tags), and the problems: an
    account not in the organisation, an OU path that does not exist, a tag no account carries."""
    problems: list[str] = []
    ous = {a.ou_path for a in accounts.values()}
    ou_prefixes = {"/".join(p.split("/")[:i]) for p in ous for i in range(1, len(p.split("/")) + 1)}
    resolved = []
    for i, assignment in enumerate(access.assignments):
        targets, found = assignment.targets, set()
        for j, account in enumerate(targets.accounts):
            if account in accounts:
                found.add(account)
            else:
                problems.append(f"{doc.where(('aws_access', 'assignments', i, 'targets', 'accounts', j))}: account "
                                f"{account} is not in the organisation")
        for j, ou in enumerate(targets.ous):
            path = ou.strip("/")
            if path not in ou_prefixes:
                problems.append(f"{doc.where(('aws_access', 'assignments', i, 'targets', 'ous', j))}: no OU "
                                f"{ou!r} (OU paths below the root: {', '.join(sorted(p for p in ou_prefixes if p))})")
            found |= {a.id for a in accounts.values() if a.ou_path == path or a.ou_path.startswith(path + "/")}
        for key, values in targets.tags.items():
            hits = {a.id for a in accounts.values() if a.tags.get(key) in values}
            if not hits:
                problems.append(f"{doc.where(('aws_access', 'assignments', i, 'targets', 'tags', key))}: no account "
                                f"has tag {key} = {' or '.join(values)}")
            found |= hits
        resolved.append(found)
    return resolved, problems


def managed_policies(doc: YamlDocument, access: AwsAccessState, get_policy: Callable[[str], object]) -> list[str]:
    """AWS managed policy ARNs (attached or as boundary) that IAM does not know."""
    problems = []
    seen: dict[str, bool] = {}

    def known(arn: str) -> bool:
        if arn not in seen:
            try:
                get_policy(arn)
                seen[arn] = True
            except Exception as exc:
                if error_code(exc) not in ("NoSuchEntity", "NoSuchEntityException"):
                    raise
                seen[arn] = False
        return seen[arn]

    for i, ps in enumerate(access.permission_sets):
        for j, arn in enumerate(ps.managed_policies):
            if not known(arn):
                problems.append(f"{doc.where(('aws_access', 'permission_sets', i, 'managed_policies', j))}: no AWS "
                                f"managed policy {arn}")
        boundary = ps.permissions_boundary
        if boundary and boundary.managed_policy_arn and not known(boundary.managed_policy_arn):
            problems.append(f"{doc.where(('aws_access', 'permission_sets', i, 'permissions_boundary'))}: no AWS "
                            f"managed policy {boundary.managed_policy_arn}")
    return problems


def assignment_groups(doc: YamlDocument, desired: DesiredState, entra_names: set[str],
                      idc_ids: dict[str, str | None]) -> list[str]:
    """Groups of assignments: known to Entra, and either in Identity Center already or provisioned by this desired
    state (provisioning.groups) — otherwise they would never get there."""
    provisioned = set(desired.provisioning.groups) if desired.provisioning else set()
    problems = []
    for i, assignment in enumerate(desired.aws_access.assignments):
        name, where = assignment.group, doc.where(("aws_access", "assignments", i, "group"))
        if idc_ids.get(name):
            continue
        if name not in entra_names:
            problems.append(f"{where}: no group {name!r} in Entra or in Identity Center")
        elif name not in provisioned:
            problems.append(f"{where}: group {name!r} is not in Identity Center and not in provisioning.groups: "
                            "assign it to the app so that it is provisioned")
    return problems
