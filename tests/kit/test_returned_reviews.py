"""`idbridge run` with review.returned_dir: 22_review_decisions gets the folder and the snapshot the packs were
written from (this run's or an earlier run's of the engagement); a folder that cannot be used is bad input (exit
2), named in the run's reasons with the file, and 22 does not run.

No kernel runs here: the notebooks are replaced by a stand-in that records what it was given (these tests are
about what the runner hands 22, not about 22; tests/kit/test_access_notebooks.py runs 22 itself)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.kit import unreachable_parameters, without_notebooks
from support.review_tables import make_access, make_findings
from support.snapshots import stand_in_snapshot

from idbridge.cli import main
from idbridge.core.parameters import load_parameters
from idbridge.errors import EXIT_BAD_INPUT
from idbridge.review import snapshot_meta, write_review_packs
from idbridge.review.signing import from_parameters
from idbridge.snapshot.store import Snapshot

ENGAGEMENT = "returned"


@pytest.fixture
def given(monkeypatch) -> dict[str, dict]:
    """notebook name -> the parameters the runner gave it."""
    return without_notebooks(monkeypatch)


def parameters(tmp_path: Path, returned: Path) -> Path:
    return unreachable_parameters(tmp_path, ENGAGEMENT, review={"returned_dir": str(returned)})


def returned_packs(folder: Path, snapshot: Path, params_file: Path) -> Path:
    """Packs written from `snapshot` with the parameters' key, as they come back (the .xlsx only)."""
    meta = snapshot_meta(Snapshot(snapshot))
    key = from_parameters(load_parameters(params_file))
    paths = write_review_packs(make_access(), make_findings(), folder, "account_owner", None, meta, key=key)
    for extra in ("access.csv", "access.json"):
        (folder / extra).unlink()
    return paths[0]


def run(params_file: Path, out: Path) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "-p", str(params_file), "--only", "22", "--out", str(out)])
    return exit_info.value.code


def test_packs_of_this_run(tmp_path, given):
    out = tmp_path / "runs" / ENGAGEMENT / "20260601T000000Z"
    snapshot = stand_in_snapshot(out / "snapshot", "2026-06-01T00:00:00+00:00", ENGAGEMENT)
    params_file = parameters(tmp_path, tmp_path / "returned")
    returned_packs(tmp_path / "returned", snapshot, params_file)
    run(params_file, out)
    assert given["22_review_decisions"]["decisions_dir"] == str((tmp_path / "returned").resolve())
    assert given["22_review_decisions"]["snapshot_dir"] == str(snapshot.resolve())


def test_packs_of_an_earlier_run_are_read_against_its_snapshot(tmp_path, given):
    runs = tmp_path / "runs" / ENGAGEMENT
    earlier = stand_in_snapshot(runs / "20260501T000000Z" / "snapshot", "2026-05-01T00:00:00+00:00", ENGAGEMENT)
    out = runs / "20260601T000000Z"
    stand_in_snapshot(out / "snapshot", "2026-06-01T00:00:00+00:00", ENGAGEMENT)
    params_file = parameters(tmp_path, tmp_path / "returned")
    returned_packs(tmp_path / "returned", earlier, params_file)
    run(params_file, out)
    assert given["22_review_decisions"]["snapshot_dir"] == str(earlier.resolve())


def test_a_folder_that_cannot_be_used_is_bad_input_naming_the_file(tmp_path, given, capsys):
    out = tmp_path / "runs" / ENGAGEMENT / "20260601T000000Z"
    snapshot = stand_in_snapshot(out / "snapshot", "2026-06-01T00:00:00+00:00", ENGAGEMENT)
    params_file = parameters(tmp_path, tmp_path / "returned")
    pack = returned_packs(tmp_path / "returned", snapshot, params_file)
    (tmp_path / "returned" / "decisions.csv").write_text("path_id,decision\n")
    from openpyxl import load_workbook

    book = load_workbook(pack)
    book["_meta"]["B7"] = "someone-else@contoso.com"  # the signed reviewer
    book.save(pack)
    assert run(params_file, out) == EXIT_BAD_INPUT
    assert "22_review_decisions" not in given, "22 does not run on a folder that cannot be used"
    record = json.loads((out / "run.json").read_text())
    (reason,) = [r for r in record["reasons"] if "review.returned_dir" in r]
    assert "decisions.csv: not an .xlsx workbook (.csv)" in reason
    assert f"{pack.name}: _meta!B13: the signature does not match the pack" in reason
    assert any(s.startswith("22_review_decisions: not run") for s in record["skipped"])


def test_a_missing_folder(tmp_path, given):
    out = tmp_path / "runs" / ENGAGEMENT / "20260601T000000Z"
    stand_in_snapshot(out / "snapshot", "2026-06-01T00:00:00+00:00", ENGAGEMENT)
    assert run(parameters(tmp_path, tmp_path / "nowhere"), out) == EXIT_BAD_INPUT
    reasons = json.loads((out / "run.json").read_text())["reasons"]
    assert any(f"{tmp_path / 'nowhere'}: review.returned_dir: no such folder" in r for r in reasons), reasons


def test_packs_of_no_run_of_the_engagement(tmp_path, given):
    elsewhere = stand_in_snapshot(tmp_path / "elsewhere" / "snapshot", "2026-04-01T00:00:00+00:00", ENGAGEMENT)
    out = tmp_path / "runs" / ENGAGEMENT / "20260601T000000Z"
    stand_in_snapshot(out / "snapshot", "2026-06-01T00:00:00+00:00", ENGAGEMENT)
    params_file = parameters(tmp_path, tmp_path / "returned")
    returned_packs(tmp_path / "returned", elsewhere, params_file)
    assert run(params_file, out) == EXIT_BAD_INPUT
    reasons = json.loads((out / "run.json").read_text())["reasons"]
    assert any("(collected 2026-04-01T00:00:00+00:00), which is none of the engagement's" in r for r in reasons)


def test_22_gets_the_desired_state_beside_the_parameters(tmp_path, given):
    """The runbooks' switches (apply, allow_removals) reach 22 from desired-state.<engagement>.yaml, as they
    reach the setup runbooks; without the file 22 plans only."""
    out = tmp_path / "runs" / ENGAGEMENT / "20260601T000000Z"
    snapshot = stand_in_snapshot(out / "snapshot", "2026-06-01T00:00:00+00:00", ENGAGEMENT)
    params_file = parameters(tmp_path, tmp_path / "returned")
    returned_packs(tmp_path / "returned", snapshot, params_file)
    run(params_file, out)
    assert "desired_state_file" not in given["22_review_decisions"]
    desired = tmp_path / f"desired-state.{ENGAGEMENT}.yaml"
    desired.write_text("apply: true\nallow_removals: true\n")
    given.clear()
    run(params_file, tmp_path / "runs" / ENGAGEMENT / "20260602T000000Z")
    assert given["22_review_decisions"]["desired_state_file"] == str(desired.resolve())
