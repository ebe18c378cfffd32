"""A small hand-made access table with exactly the contract's columns, and the snapshot tables removals read.

    alice   direct: Admin on data-prod, ReadOnly on sandbox
    bob     group AWS-Devs: ReadOnly on data-prod and data-dev
    carol   group AWS-Devs: ReadOnly on data-prod and data-dev
    dave    only in Nested, nested in AWS-Devs: ReadOnly on data-prod (does not work)
    olivia  deleted in Entra, still in the Identity Center group AWS-Devs: ReadOnly on data-prod (idc_only)
    platform.admin  hand-made Identity Center user, assigned ReadOnly on sandbox (idc_only)
    an orphaned Admin assignment on sandbox
data-prod and data-dev are owned by data-team (tag); sandbox has no owner tag.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from idbridge.model.access.columns import ACCESS_COLUMNS

INSTANCE = "arn:aws:sso:::instance/ssoins-0123456789abcdef"
PS = {"ReadOnly": ("arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-ro", "read", 1),
      "Admin": ("arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-admin", "admin", 4)}
# As the access model gives them: tags and policy lists joined as text.
ACCOUNTS = {"111111111111": ("data-prod", "environment=prod; owner=data-team@contoso.com", True),
            "222222222222": ("data-dev", "Owner=data-team@contoso.com", False),
            "333333333333": ("sandbox", None, False)}
META = {"engagement": "contoso-2026", "snapshot_id": "snap-1", "collected_at": "2026-06-01T12:00:00+00:00",
        "deadline": "2026-06-30", "contact": "audit@contoso.com"}
KEY = "test-review-signing-key-0123456789"  # the engagement's review signing key in tests


def path_row(kind, user, account, ps, *, group=None, nested=None, principal=None, state="active", effective=True):
    name, tags, prod = ACCOUNTS[account]
    arn, privilege, rank = PS[ps]
    entra = kind in ("direct_user", "group", "nested_group")
    row = dict.fromkeys(ACCESS_COLUMNS)
    row.update(path_kind=kind, effective=effective, account_id=account, account_name=name, ou_path="/Root/Workloads",
               account_tags=tags, is_production=prod, permission_set_arn=arn, permission_set_name=ps,
               session_duration="PT1H", session_hours=1.0, managed_policies=f"{ps}Access",
               customer_managed_policies=None, has_inline_policy=False, boundary=None, privilege=privilege,
               privilege_rank=rank, reasons=f"{ps}Access", entra_state=state if entra else "not_in_entra")
    if user:
        row.update(idc_user_id=f"i-{user}", idc_user_name=f"{user}@contoso.com", idc_user_status="ENABLED",
                   user_display_name=user.capitalize())
    if entra:
        row.update(entra_user_id=f"u-{user}", user_principal_name=f"{user}@contoso.com", user_type="Member",
                   account_enabled=True)
    if group:
        row.update(entra_group_id=f"g-{group}", entra_group_name=group)
    if nested:
        row.update(nested_group_id=f"g-{nested}", nested_group_name=nested)
    if kind in ("group", "nested_group"):
        row.update(idc_principal_type="GROUP", idc_principal_id=f"ig-{group}", idc_principal_name=group)
    elif principal:
        row.update(idc_principal_type=principal[0], idc_principal_id=principal[1], idc_principal_name=principal[2])
    else:
        row.update(idc_principal_type="USER", idc_principal_id=f"i-{user}", idc_principal_name=f"{user}@contoso.com")
    hops = [kind, row["entra_user_id"], row["entra_group_id"], row["nested_group_id"], row["idc_principal_id"],
            row["idc_user_id"], account, arn]
    row["path_id"] = hashlib.sha256("|".join(map(str, hops)).encode()).hexdigest()[:16]
    return row


def make_access() -> pd.DataFrame:
    rows = [
        path_row("direct_user", "alice", "111111111111", "Admin"),
        path_row("direct_user", "alice", "333333333333", "ReadOnly"),
        *[path_row("group", u, a, "ReadOnly", group="AWS-Devs") for u in ("bob", "carol")
          for a in ("111111111111", "222222222222")],
        path_row("nested_group", "dave", "111111111111", "ReadOnly", group="AWS-Devs", nested="Nested",
                 effective=False),
        path_row("idc_only", "olivia", "111111111111", "ReadOnly", principal=("GROUP", "ig-AWS-Devs", "AWS-Devs")),
        path_row("idc_only", "platform.admin", "333333333333", "ReadOnly"),
        path_row("orphaned", None, "333333333333", "Admin", principal=("GROUP", "ig-gone", None), effective=False),
    ]
    frame = pd.DataFrame(rows, columns=list(ACCESS_COLUMNS))
    assert list(frame.columns) == list(ACCESS_COLUMNS)
    return frame


def pid(access: pd.DataFrame, user: str | None, account: str, kind: str | None = None) -> str:
    """The path_id of a user's row on an account (user None: the orphaned row)."""
    who = access["idc_user_name"].eq(f"{user}@contoso.com") if user else access["idc_user_name"].isna()
    hit = access[who & access["account_id"].eq(account) & (access["path_kind"].eq(kind) if kind else True)]
    assert len(hit) == 1, hit
    return hit["path_id"].iloc[0]


def make_findings() -> pd.DataFrame:
    columns = ["check_id", "severity", "area", "subject", "title", "detail", "evidence", "meaning", "fix",
               "references"]
    rows = [("access.privileged_prod_access", "high", "user:alice@contoso.com", {"accounts": ["111111111111"]}),
            ("access.stale_user", "medium", "user:bob@contoso.com", {}),
            ("reconcile.orphaned_assignment", "high", "account:333333333333", {"items": 1}),
            ("access.long_session", "low", "permission_set:Admin", {}),
            ("saml.certificate_expiry", "high", "app:AWS IAM Identity Center", {})]
    return pd.DataFrame([{"check_id": c, "severity": s, "area": c.split(".")[0], "subject": subj, "title": c,
                          "detail": f"detail of {c}", "evidence": e, "meaning": "m", "fix": "f",
                          "references": ("https://example.com/doc",)} for c, s, subj, e in rows], columns=columns)


def make_tables() -> dict[str, pd.DataFrame]:
    return {
        "idc_instances": pd.DataFrame([{"instanceArn": INSTANCE, "identityStoreId": "d-1234567890"}]),
        "idc_group_memberships": pd.DataFrame([
            {"groupId": "ig-AWS-Devs", "userId": f"i-{u}", "membershipId": f"m-{u}"}
            for u in ("bob", "carol", "olivia")]),
        "entra_service_principal": pd.DataFrame([{"id": "sp-aws", "displayName": "AWS IAM Identity Center"}]),
        "entra_app_role_assignments": pd.DataFrame([
            {"id": "ara-alice", "principalId": "u-alice", "principalType": "User", "appRoleId": "role-1"},
            {"id": "ara-devs", "principalId": "g-AWS-Devs", "principalType": "Group", "appRoleId": "role-1"}]),
    }
