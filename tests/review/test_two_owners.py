"""The review round trip with decisions that touch two owners' accounts: bob's membership of AWS-Devs reaches
data-prod and data-dev (owned by data-team) and sandbox (no owner tag: its own pack). The packs show each owner,
before deciding, what a Remove would also end in the other owner's pack; two owners fill their packs as they
would in Excel (openpyxl), one of them keeping what the other's Remove ends; the real reader returns the
decisions and flags the contradiction, and the removal plan says the same."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from idbridge.review import contradictions, layout, plan_removals, read_decisions, write_review_packs

from support.review_tables import KEY, META, path_row, pid

DATA = "review-data-team-contoso.com.xlsx"
SANDBOX = "review-account-333333333333-sandbox.xlsx"


@pytest.fixture
def two_owners(access) -> pd.DataFrame:
    """The hand-made table plus bob's AWS-Devs access to sandbox: one membership, two owners."""
    extra = pd.DataFrame([path_row("group", "bob", "333333333333", "ReadOnly", group="AWS-Devs")],
                         columns=access.columns)
    return pd.concat([access, extra], ignore_index=True)


def rows_by_key(path) -> dict[str, dict]:
    sheet = load_workbook(path)["Access"]
    return {r[layout.KEY_COL - 1]: dict(zip(layout.HEADERS, r)) for r in sheet.iter_rows(min_row=2, values_only=True)}


def fill(path, decisions: dict[str, str], comment: str) -> None:
    """As an owner would in Excel: find the row, pick the decision, write a comment, save."""
    book = load_workbook(path)
    sheet = book["Access"]
    at = {c.value: c.row for c in sheet[get_column_letter(layout.KEY_COL)]}  # path_id: the last column, hidden
    for key, decision in decisions.items():
        sheet.cell(at[key], layout.DECISION_COL, decision)
        sheet.cell(at[key], layout.COMMENT_COL, comment)
    book.save(path)


def test_two_owners_round_trip_with_a_contradiction(tmp_path, two_owners, tables):
    access = two_owners
    paths = {p.name: p for p in write_review_packs(access, None, tmp_path, "account_owner", None, META, key=KEY)}
    assert sorted(paths) == [SANDBOX, DATA]
    bob_prod, bob_dev = pid(access, "bob", "111111111111"), pid(access, "bob", "222222222222")
    bob_sandbox = pid(access, "bob", "333333333333")
    carol_prod, alice_sandbox = pid(access, "carol", "111111111111"), pid(access, "alice", "333333333333")

    # Before anyone decides: each of bob's group rows lists the other two accesses the same removal ends, with
    # the pack (and reviewer) that reviews each — the other owner's included.
    data_rows, sandbox_rows = rows_by_key(paths[DATA]), rows_by_key(paths[SANDBOX])
    assert data_rows[bob_prod]["Removing this also ends"].split("\n") == [
        "bob@contoso.com: ReadOnly on data-dev (222222222222) via group AWS-Devs [this workbook]",
        f"bob@contoso.com: ReadOnly on sandbox (333333333333) via group AWS-Devs [reviewed in {SANDBOX}]"]
    assert sandbox_rows[bob_sandbox]["Removing this also ends"].split("\n") == [
        "bob@contoso.com: ReadOnly on data-prod (111111111111) via group AWS-Devs [reviewed by "
        f"data-team@contoso.com in {DATA}]",
        "bob@contoso.com: ReadOnly on data-dev (222222222222) via group AWS-Devs [reviewed by "
        f"data-team@contoso.com in {DATA}]"]
    # a direct assignment ends nothing else
    assert sandbox_rows[alice_sandbox]["Removing this also ends"] == "nothing else"

    # data-team removes bob (on data-prod) and keeps carol; the sandbox owner keeps bob on sandbox
    fill(paths[DATA], {bob_prod: "Remove", carol_prod: "Keep"}, "data-team decision")
    fill(paths[SANDBOX], {bob_sandbox: "Keep", alice_sandbox: "Remove"}, "sandbox owner decision")

    decisions = read_decisions(tmp_path, access, META, key=KEY).set_index("path_id")
    assert len(decisions) == len(access) and decisions["verified"].all()
    assert decisions.loc[bob_prod, ["decision", "workbook", "reviewer"]].tolist() == [
        "Remove", DATA, "data-team@contoso.com"]
    assert decisions.loc[bob_sandbox, ["decision", "workbook"]].tolist() == ["Keep", SANDBOX]
    assert decisions.loc[bob_dev, "decision"] == "" and decisions.loc[carol_prod, "decision"] == "Keep"
    # the contradiction is flagged on both sides, naming the other decision's reviewer, file and cell
    bob_prod_cell, bob_sandbox_cell = decisions.loc[bob_prod, "cell"], decisions.loc[bob_sandbox, "cell"]
    assert decisions.loc[bob_prod, "contradicts"] == f"Keep by an unnamed reviewer ({SANDBOX} {bob_sandbox_cell})"
    assert decisions.loc[bob_sandbox, "contradicts"] == (
        f"Remove by data-team@contoso.com ({DATA} {bob_prod_cell})")
    flagged = decisions[decisions["contradicts"].ne("")].index
    assert sorted(flagged) == sorted([bob_prod, bob_sandbox]), "carol's Keep and alice's Remove contradict nothing"

    table = contradictions(decisions.reset_index(), access)
    assert len(table) == 1
    (row,) = table.to_dict("records")
    assert row["Remove"].startswith(f"Remove by data-team@contoso.com ({DATA} {bob_prod_cell}): bob@contoso.com: "
                                    "ReadOnly on data-prod")
    assert row["Keep"].startswith(f"Keep by an unnamed reviewer ({SANDBOX} {bob_sandbox_cell}): bob@contoso.com: "
                                  "ReadOnly on sandbox")
    assert row["access ended together"].count("bob@contoso.com") == 3

    # the plan agrees: one membership removal, which also ends the access the sandbox owner kept
    plan = plan_removals(decisions.reset_index(), access, tables)
    (membership,) = [c for c in plan.changes if c.kind == "entra.group_member"]
    assert membership.summary.startswith("CONFLICT with a Keep: Remove bob@contoso.com from Entra group AWS-Devs")
    assert membership.before["marked_keep"] == [
        "bob@contoso.com: ReadOnly on sandbox (333333333333) via group AWS-Devs"]


def test_agreeing_owners_are_no_contradiction(tmp_path, two_owners):
    access = two_owners
    paths = {p.name: p for p in write_review_packs(access, None, tmp_path, "account_owner", None, META, key=KEY)}
    fill(paths[DATA], {pid(access, "bob", "111111111111"): "Remove"}, "gone")
    fill(paths[SANDBOX], {pid(access, "bob", "333333333333"): "Remove"}, "gone")
    decisions = read_decisions(tmp_path, access, META, key=KEY)
    assert decisions["contradicts"].eq("").all()
    assert contradictions(decisions, access).empty
