"""PIM for Groups in the reviewer packs: eligible access on a read-only sheet of its own (never decided, never
read back), rows held through PIM saying so on the Access sheet, every other row as it was."""

import pytest
from openpyxl import load_workbook

from idbridge.review import layout, read_decisions, write_review_packs
from idbridge.review.layout import ELIGIBLE
from idbridge.review.sheets import ELIGIBLE_COLUMNS

from support.review_tables import KEY, META, make_access, path_row

DATA_TEAM = "review-data-team-contoso.com.xlsx"
SANDBOX = "review-account-333333333333-sandbox.xlsx"


def with_pim(access):
    """bob's AWS-Devs membership is an activation until 14:00; every other row standing."""
    access = access.copy()
    access["membership"] = "standing"
    bob = access["user_principal_name"].eq("bob@contoso.com")
    access.loc[bob, "membership"] = "active (PIM) until 2026-06-01 14:00 UTC"
    return access


def eligible_rows(group="AWS-Devs"):
    """erin is eligible for `group` (AWS-Devs holds ReadOnly on data-prod and data-dev) and holds neither."""
    import pandas as pd

    rows = []
    for account in ("111111111111", "222222222222"):
        row = path_row("group", "erin", account, "ReadOnly", group=group, effective=False)
        row.update(path_kind="eligible", membership="eligible (PIM) until 2026-12-31 00:00 UTC",
                   path_id="e" + row["path_id"][1:])
        rows.append(row)
    return pd.DataFrame(rows, columns=list(make_access().columns))


def sheet_rows(path, name):
    return [list(r) for r in load_workbook(path)[name].iter_rows(min_row=2, values_only=True)]


def packs(tmp_path, access, eligible=None, scope="account_owner"):
    written = write_review_packs(access, None, tmp_path, scope, None, META, key=KEY, eligible=eligible)
    return {p.name: p for p in written}


def test_eligible_access_is_listed_on_its_own_read_only_sheet(tmp_path):
    access = with_pim(make_access())
    written = packs(tmp_path, access, eligible_rows())
    book = load_workbook(written[DATA_TEAM])
    assert book.sheetnames == ["Instructions", "Access", "Findings", ELIGIBLE, "_meta"]
    sheet = book[ELIGIBLE]
    assert [c.value for c in sheet[1]] == [h for h, _ in ELIGIBLE_COLUMNS]
    assert "Decision" not in [c.value for c in sheet[1]] and sheet.protection.sheet
    rows = sheet_rows(written[DATA_TEAM], ELIGIBLE)
    assert [(r[0], r[1], r[2], r[3], r[6]) for r in rows] == [
        ("erin@contoso.com", "data-prod", "ReadOnly", "AWS-Devs", "2026-12-31 00:00 UTC"),
        ("erin@contoso.com", "data-dev", "ReadOnly", "AWS-Devs", "2026-12-31 00:00 UTC")]
    # never a key of the pack: nothing there is read back
    keys = [r[0] for r in book["_meta"].iter_rows(min_row=2, min_col=4, max_col=4, values_only=True) if r[0]]
    assert sorted(keys) == sorted(access.loc[access["account_id"].isin(["111111111111", "222222222222"]),
                                             "path_id"])
    instructions = " ".join(str(c.value) for c in book["Instructions"]["A"] if c.value)
    assert f"The sheet {ELIGIBLE} lists 2 access(es)" in instructions and "nothing on it is read back" in instructions
    # the sandbox account's pack has no eligible access: no such sheet, no such paragraph
    other = load_workbook(written[SANDBOX])
    assert ELIGIBLE not in other.sheetnames
    assert ELIGIBLE not in " ".join(str(c.value) for c in other["Instructions"]["A"] if c.value)


def test_access_rows_held_through_pim_say_so_and_the_others_are_unchanged(tmp_path):
    access = make_access()
    before = sheet_rows(packs(tmp_path / "a", access)[DATA_TEAM], "Access")
    after = sheet_rows(packs(tmp_path / "b", with_pim(access), eligible_rows())[DATA_TEAM], "Access")
    group = layout.HEADERS.index("Through group")
    how = layout.HEADERS.index("How")
    by_key = {r[-1]: r for r in before}
    changed = 0
    for row in after:
        old = by_key.pop(row[-1])
        if row[0] == "bob@contoso.com":
            assert row[group] == "AWS-Devs (active through PIM until 2026-06-01 14:00 UTC)"
            assert row[how] == "group AWS-Devs (active through PIM until 2026-06-01 14:00 UTC)"
            assert row[:group] + row[group + 1:how] + row[how + 1:] == old[:group] + old[group + 1:how] + old[how + 1:]
            changed += 1
        else:
            assert row == old
    assert changed == 2 and not by_key


def test_a_pack_with_an_eligible_sheet_reads_back_as_before(tmp_path):
    access = with_pim(make_access())
    written = packs(tmp_path, access, eligible_rows())
    book = load_workbook(written[DATA_TEAM])
    book["Access"]["O2"] = "Remove"
    book.save(written[DATA_TEAM])
    decisions = read_decisions(tmp_path, access, META, key=KEY)
    assert len(decisions) == len(access) and (decisions["decision"] == "Remove").sum() == 1
    assert set(decisions["path_id"]) == set(access["path_id"])


def test_a_scope_only_eligible_access_reaches_gets_a_pack_with_nothing_to_decide(tmp_path):
    access = with_pim(make_access())
    written = packs(tmp_path, access, eligible_rows("AWS-Oncall"), scope="group_owner")
    assert "review-group-aws-oncall.xlsx" in written
    book = load_workbook(written["review-group-aws-oncall.xlsx"])
    assert book["Access"].max_row == 1 and book[ELIGIBLE].max_row == 3
    assert "access through the Entra group AWS-Oncall" in " ".join(str(c.value) for c in book["Instructions"]["A"]
                                                                     if c.value)
    decisions = read_decisions(tmp_path, access, META, key=KEY)
    assert sorted(decisions["path_id"]) == sorted(access["path_id"])


@pytest.mark.integration
def test_demo_packs_list_the_demo_eligible_people(tmp_path, demo_snapshot):
    from idbridge.checks.settings import settings_for
    from idbridge.model.access.build import access_model
    from idbridge.review import snapshot_meta

    settings = settings_for(demo_snapshot.params, demo_snapshot.manifest["collected_at"])
    model = access_model(demo_snapshot, settings)
    jit = next(g for g in demo_snapshot.scenario.entra.pim_groups if g.group == "AWS-Security-Forensics-JIT")
    eligible_people = {e.user for e in jit.eligible} - {a.user for a in jit.active}
    assert eligible_people  # the demo plants eligible-only people
    assert set(model.eligible["user_principal_name"].astype(object)) == eligible_people
    meta = snapshot_meta(demo_snapshot)
    written = write_review_packs(model.access, None, tmp_path, "account_owner", None, meta, key=KEY,
                                 eligible=model.eligible)
    listed = {(r[0], r[1]) for p in written if ELIGIBLE in load_workbook(p).sheetnames
              for r in sheet_rows(p, ELIGIBLE)}
    assert listed == set(zip(model.eligible["user_principal_name"].astype(object),
                             model.eligible["account_name"].astype(object)))
    assert {p for p, _ in listed} == eligible_people
    # the active activations are said on the Access sheet
    through = [r[3] for p in written for r in sheet_rows(p, "Access") if r[0] == jit.active[0].user]
    assert "AWS-Security-Forensics-JIT (active through PIM until " in " ".join(through)
