"""The review loop closed, end to end on the demo sandbox (real msgraph-sdk, boto3 and papermill):

    run A (20): reviewer packs written  →  reviewers mark Remove and send them back  →
    run B (22, review.returned_dir set, desired-state apply + allow_removals): the removals applied, each write
    in B's change log with who decided it  →  Entra's provisioning cycle  →
    run C (22 again, 30): nothing left to do, the access gone from C's snapshot, and 30 lists it as lost."""

from __future__ import annotations

import asyncio
import json
import shutil

import nbformat
import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from support.sandbox import forget_sandbox, running_sandbox

from idbridge.core.parameters import load_parameters
from idbridge.history.diff import diff_snapshots
from idbridge.kit.run import run_kit
from idbridge.review import layout
from idbridge.snapshot.store import Snapshot

pytestmark = [pytest.mark.integration, pytest.mark.notebook]
ENGAGEMENT = "review-applied"
DIRECT_USER = "sanne.devries@northwind-analytics.com"  # the demo's one direct account assignment


def _targets(rows: pd.DataFrame) -> set[tuple[str, str, str]]:
    return set(zip(rows["idc_user_name"], rows["account_id"], rows["permission_set_name"]))


def _lost_by(access: pd.DataFrame, removed: pd.DataFrame) -> set[tuple[str, str, str]]:
    """The person × account × permission set the removed paths grant and no other path of theirs does."""
    kept = access[~access["path_id"].isin(removed["path_id"])]
    return _targets(removed) - _targets(kept)


def choose(access: pd.DataFrame) -> pd.DataFrame:
    """Every path of one group membership whose removal ends some access outright, and the direct path."""
    groups = access[access["path_kind"].eq("group") & access["entra_user_id"].ne("")
                    & access["idc_principal_type"].eq("GROUP") & access["effective"].astype(bool)]
    for (_, _), rows in groups.sort_values("path_id").groupby(["entra_user_id", "entra_group_id"], sort=False):
        if _lost_by(access, rows):
            direct = access[access["path_kind"].eq("direct_user")]
            return pd.concat([rows, direct])
    raise AssertionError("the demo has no group membership whose removal ends access")


def decide(packs: list, returned, remove: set[str]) -> set[str]:
    """Copy the packs to `returned`, Remove on the chosen rows (with a comment); the reviewers of those packs."""
    returned.mkdir()
    reviewers = set()
    for pack in packs:
        book = load_workbook(pack)
        sheet = book[layout.ACCESS]
        meta = {r[0]: r[1] for r in book[layout.META].iter_rows(min_col=1, max_col=2, values_only=True) if r[0]}
        for row in range(2, sheet.max_row + 1):
            if sheet.cell(row, layout.KEY_COL).value in remove:
                sheet.cell(row, layout.DECISION_COL).value = "Remove"
                sheet.cell(row, layout.COMMENT_COL).value = "no longer needed"
                reviewers.add(meta["reviewer"])
        book.save(returned / pack.name)
    return reviewers


async def provisioning_cycle(params) -> None:
    """Entra's next provisioning cycle (every 40 minutes on a tenant): SCIM takes the user out of the Identity
    Center group. Started through Graph, as an administrator would start it early."""
    from idbridge.clients.factory import graph_adapter
    from idbridge.runbooks import graph

    adapter = graph_adapter(params)
    sp, _ = await graph.find_app(adapter, params.app.app_id, params.app.display_name)
    (job, *_) = await graph.listing(adapter, f"/servicePrincipals/{sp['id']}/synchronization/jobs")
    await graph.post(adapter, f"/servicePrincipals/{sp['id']}/synchronization/jobs/{job['id']}/start")


def _log(run) -> list[dict]:
    path = run.run_dir / "changes.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _ok(run, *names) -> None:
    by_name = {r.name: r for r in run.notebooks}
    for name in names:
        assert by_name[name].ok, (name, by_name[name].error)


def _output_of(notebook_path, source: str) -> str:
    cell = next(c for c in nbformat.read(notebook_path, as_version=4).cells if c.source == source)
    return json.dumps(cell.get("outputs", []))


def test_returned_decisions_are_applied_and_the_next_run_shows_the_access_gone(tmp_path):
    box = running_sandbox("demo")
    try:
        folder = tmp_path / "parameters"
        document = box.parameters(ENGAGEMENT)
        document["run_root"] = str(tmp_path / "runs")
        params_file = folder / f"{ENGAGEMENT}.yaml"
        folder.mkdir()
        params_file.write_text(yaml.safe_dump(document), encoding="utf-8")

        a = run_kit(params_file, only="20")
        _ok(a, "20_access_review")
        access = pd.read_parquet(a.run_dir / "access.parquet")
        removed = choose(access)
        lost = _lost_by(access, removed)
        reviewers = decide(sorted((a.run_dir / "review").glob("*.xlsx")), tmp_path / "returned",
                           set(removed["path_id"]))
        assert reviewers

        # the runbooks' switches, beside the parameters where `idbridge run` finds them
        (folder / f"desired-state.{ENGAGEMENT}.yaml").write_text("apply: true\nallow_removals: true\n")
        document["review"]["returned_dir"] = str(tmp_path / "returned")
        params_file.write_text(yaml.safe_dump(document), encoding="utf-8")

        b = run_kit(params_file, only="22")
        _ok(b, "22_review_decisions")
        written = _log(b)
        assert written and {e["status"] for e in written} == {"applied"}, written
        assert {e["kind"] for e in written} >= {"entra.group_member", "aws.account_assignment"}
        for entry in written:  # who decided what, next to each write
            assert entry["step"] == "review-removals" and set(entry["before"]["decided_by"]) <= reviewers
            assert entry["before"]["decided_by"] and entry["before"]["decided_in"]

        asyncio.run(provisioning_cycle(load_parameters(params_file)))

        c = run_kit(params_file, only="22,30")
        _ok(c, "22_review_decisions", "30_changes")
        again = _log(c)
        assert again and {e["status"] for e in again} == {"already done"}, again  # nothing left to do
        assert "Nothing left to do" in _output_of(c.run_dir / "notebooks" / "22_review_decisions.ipynb",
                                                  "outcomes = await report.apply_decisions(plan, params, "
                                                  "desired_state_file, run_dir)\nreport.apply_summary(plan, outcomes)")

        now = pd.read_parquet(c.run_dir / "access.parquet")
        assert not set(now["path_id"]) & set(removed["path_id"])
        diff = diff_snapshots(Snapshot(b.run_dir / "snapshot"), Snapshot(c.run_dir / "snapshot"))
        assert lost <= _targets(diff.access_lost.rename(columns={"user": "idc_user_name",
                                                                 "permission_set": "permission_set_name"}))
        shown = _output_of(c.run_dir / "notebooks" / "30_changes.ipynb", "report.changes(changes)")
        assert all(user in shown for user, _, _ in lost) and DIRECT_USER in shown
    finally:
        box.stop()
        forget_sandbox()
        shutil.rmtree(tmp_path / "runs", ignore_errors=True)
