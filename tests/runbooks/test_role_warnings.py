"""Plan warnings for AWSReservedSSO_ roles that change suffix (issue 17 item 3), on plain changes: a created set,
a set's last assignment removed from an account, and removals that leave another assignment (no warning)."""

from __future__ import annotations

from idbridge.plan import Change
from idbridge.runbooks.aws_access import role_warnings

NAMES = {"111111111111": "dev", "222222222222": "prod"}


def _delete(account: str, ps: str, principal: str) -> Change:
    return Change("delete", "aws.account_assignment", f"{principal} -> {account} / {ps}", "remove",
                  payload={"set": ps, "account": account, "type": "GROUP", "principal": principal})


def test_a_created_set_warns_that_its_role_arns_are_new():
    [warning] = role_warnings([Change("create", "aws.permission_set", "DataAdmin", "create")], set(), NAMES)
    assert warning.startswith("Warning: DataAdmin is created") and "AWSReservedSSO_DataAdmin_<new suffix>" in warning


def test_only_the_last_assignment_of_a_set_in_an_account_warns():
    changes = [_delete("111111111111", "Admin", "g-1"), _delete("111111111111", "Admin", "g-2"),
               _delete("222222222222", "Admin", "g-1")]
    # prod keeps another group's Admin assignment; dev loses both
    [warning] = role_warnings(changes, {("222222222222", "Admin")}, NAMES)
    assert "last assignment of Admin in dev (111111111111)" in warning and "KMS key policies" in warning
    assert role_warnings(changes, {("222222222222", "Admin"), ("111111111111", "Admin")}, NAMES) == []


def test_updates_and_assignment_creates_do_not_warn():
    changes = [Change("update", "aws.permission_set", "Admin", "x"),
               Change("create", "aws.account_assignment", "g -> 1 / Admin", "x",
                      payload={"set": "Admin", "account": "111111111111"})]
    assert role_warnings(changes, {("111111111111", "Admin")}, NAMES) == []
