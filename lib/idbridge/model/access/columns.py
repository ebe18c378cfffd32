"""The access table: one row per path from a person to (AWS account × permission set).

This is the contract between the access model (model/access/build.py builds it from a snapshot) and everything that
reads it (access checks, notebooks, reviewer workbooks, decisions back, history). Each row names every hop with
its ids, so any access can be explained hop by hop:

    Entra user ─(direct app assignment | assigned group [─ nested group])─> Identity Center user / group
        ─ account assignment ─> account (name, OU, tags) × permission set ─> policies, boundary, session

Path kinds:
    direct_user      the Entra user is assigned to the app and holds an account assignment as a user
    group            the Entra user is a direct member of an assigned group that holds an account assignment
    nested_group     the user reaches the group only through a nested group: SCIM never provisions them, so the
                     path does not work in AWS (kept so that reviewers see what Entra suggests)
    idc_only         an Identity Center principal that did not come from Entra (created by hand, or left behind
                     after its Entra user was deleted): no Entra hop
    orphaned         an account assignment whose principal id no longer exists in Identity Center
    eligible         (never in the access table: model.access.build's Model.eligible / eligible_access) a person
                     eligible through PIM for Groups for a provisioned group they do not hold now: what they
                     could activate; never effective
"""

from __future__ import annotations

ACCESS_COLUMNS: tuple[str, ...] = (
    "path_id",               # stable hash of the hop ids: the key reviewers' decisions refer to
    "path_kind",             # direct_user | group | nested_group | idc_only | orphaned
    "effective",             # True when the path works in AWS today (provisioned principal, enabled user)
    # Entra side (empty for idc_only / orphaned)
    "entra_user_id", "user_principal_name", "user_display_name", "user_type", "account_enabled",
    "entra_state",           # active | disabled | deleted | not_in_entra
    "entra_group_id", "entra_group_name",          # the group assigned to the app (group / nested_group paths)
    "nested_group_id", "nested_group_name",        # the nested group the user is really in (nested_group only)
    "membership",            # how the group membership is held: standing | permanent (PIM) | active (PIM) until … |
                             # PIM activation ended … | eligible (PIM) [until …] | not collected: why | — (orphaned)
    # Identity Center side
    "idc_principal_type",    # USER | GROUP
    "idc_principal_id", "idc_principal_name",      # the principal of the account assignment
    "idc_user_id", "idc_user_name", "idc_user_status",  # the Identity Center user of this person, if any
    # AWS account
    "account_id", "account_name", "ou_path", "account_tags", "is_production",
    # Permission set
    "permission_set_arn", "permission_set_name", "session_duration", "session_hours",
    "managed_policies", "customer_managed_policies", "has_inline_policy", "boundary",
    "privilege",             # admin | power | write | read | billing | custom: the highest the set grants
    "privilege_rank",        # 4 admin, 3 power, 2 write, 1 read/billing, 0 unknown — for sorting and colour
    "reasons",               # why the privilege level was chosen (policy names, `*:*`, iam:PassRole on *...)
)

PRIVILEGE_RANK = {"admin": 4, "power": 3, "write": 2, "read": 1, "billing": 1, "custom": 0}
