"""The review on the demo snapshot: access model -> packs -> a reviewer's decisions -> removal plan."""

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from idbridge.checks.evaluate import evaluate
from idbridge.checks.settings import settings_for
from idbridge.review import layout, plan_removals, read_decisions, snapshot_meta, write_review_packs

from support.review_tables import KEY

KEY_LETTER = get_column_letter(layout.KEY_COL)  # path_id: last, hidden

access_model = pytest.importorskip("idbridge.model.access.build")


@pytest.fixture(scope="module")
def demo(demo_snapshot):
    settings = settings_for(demo_snapshot.params, demo_snapshot.manifest.get("collected_at"))
    access = access_model.build_access(demo_snapshot, settings)
    findings = evaluate(demo_snapshot, demo_snapshot.params).findings_frame()
    return demo_snapshot, access, findings


def _meta_keys(path) -> list[str]:
    sheet = load_workbook(path, read_only=True)["_meta"]
    return [r[0] for r in sheet.iter_rows(min_row=2, min_col=4, max_col=4, values_only=True) if r[0]]


def test_demo_review_round_trip(tmp_path, demo):
    snapshot, access, findings = demo
    meta = snapshot_meta(snapshot, deadline="2026-07-01")
    paths = write_review_packs(access, findings, tmp_path, "account_owner", None, meta, key=KEY)
    pack_of = {key: path for path in paths for key in _meta_keys(path)}
    assert sorted(pack_of) == sorted(access["path_id"])  # every path in exactly one pack

    # one Remove per kind of path the demo has (a group path first: its side effects are listed)
    chosen = access.drop_duplicates("path_kind").set_index("path_kind")["path_id"]
    for path in {pack_of[key] for key in chosen}:
        book = load_workbook(path)
        sheet = book["Access"]
        rows = {c.value: c.row for c in sheet[KEY_LETTER]}  # path_id: last, hidden
        for kind, key in chosen.items():
            if key in rows:
                sheet[f"O{rows[key]}"] = "Remove"
                sheet[f"P{rows[key]}"] = f"demo: remove a {kind} path"
        book.save(path)

    decisions = read_decisions(tmp_path, access, meta, key=KEY)
    assert sorted(decisions.loc[decisions["decision"].eq("Remove"), "path_id"]) == sorted(chosen)
    plan = plan_removals(decisions, access, snapshot)
    assert plan.changes and plan.step == "review-removals"
    kinds = {c.kind for c in plan.changes}
    expected = {"group": "entra.group_member", "nested_group": "entra.group_member",
                "direct_user": "aws.account_assignment", "orphaned": "aws.account_assignment"}
    assert {expected[k] for k in chosen.index if k in expected} <= kinds
    for change in plan.changes:
        assert change.action == "delete" and change.summary and change.before["decided_in"]
        assert all(change.payload.values()), change  # every id the applier needs is there
        if change.kind == "aws.account_assignment":
            assert change.payload["instance_arn"] == snapshot.manifest["instance_arn"]
