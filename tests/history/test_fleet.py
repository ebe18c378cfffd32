"""`idbridge fleet index`: one page over every engagement's latest run.

The runs are made of the real evaluation of the demo sandbox's snapshot: engagement `alpha` ran twice (the second
run with one check's findings resolved), `beta`'s collection failed (NOT CHECKED), `gamma` found nothing (the same
outcomes with every finding fixed, decided by the real policy), and `delta` has a run still going (no verdict yet).
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
from pathlib import Path

import pytest

from idbridge.checks.artifact import write_evaluation
from idbridge.checks.runner import CheckResults
from idbridge.checks.evaluate import decide, evaluate_snapshot, failed_evaluation
from idbridge.cli import main
from idbridge.history.fleet import engagement_rows, write_fleet_index


def make_run(runs: Path, engagement: str, name: str, evaluation, *, exit_code: int | None = None,
             index: bool = True) -> Path:
    folder = runs / engagement / name
    folder.mkdir(parents=True)
    write_evaluation(evaluation, folder)
    record = {"engagement": engagement, "run_dir": str(folder), "started": "2026-11-01T06:00:00+00:00",
              "exit_code": evaluation.verdict.exit_code if exit_code is None else exit_code,
              "headline": evaluation.verdict.headline, "verdict": evaluation.verdict.as_dict()}
    (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")
    if index:
        (folder / "index.html").write_text("<html>run</html>", encoding="utf-8")
    return folder


def without_check(evaluation, check_id: str):
    """The same evaluation with one check's findings fixed (its outcome a pass), decided anew."""
    findings = [f for f in evaluation.results.findings if f.check_id != check_id]
    outcomes = [dataclasses.replace(o, status="pass", findings=0) if o.check_id == check_id else o
                for o in evaluation.results.outcomes]
    verdict = decide(outcomes, [(f.check_id, f.severity) for f in findings], evaluation.sources, evaluation.fail_on)
    return dataclasses.replace(evaluation, results=CheckResults(outcomes, findings), verdict=verdict)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, demo_snapshot):
    runs = tmp_path_factory.mktemp("fleet") / "runs"
    first = evaluate_snapshot(demo_snapshot, demo_snapshot.params)
    assert first.verdict.status == "fail" and first.results.findings, "the demo plants faults"
    resolved = sorted({f.check_id for f in first.results.findings})[0]
    second = without_check(first, resolved)
    make_run(runs, "alpha", "20261101T060000Z", first)
    make_run(runs, "alpha", "20261108T060000Z", second)
    make_run(runs, "beta", "20261108T060000Z",
             failed_evaluation("collection failed: 401 invalid_client", "high"), exit_code=3)
    clean = first
    for check_id in sorted({f.check_id for f in first.results.findings}):
        clean = without_check(clean, check_id)
    make_run(runs, "gamma", "20261108T060000Z", clean)
    make_run(runs, "delta", "20261101T060000Z", first)
    (runs / "delta" / "20261108T060000Z" / "snapshot.partial").mkdir(parents=True)  # a run still collecting
    (runs / "alpha" / ".lock").write_text("")
    page, rows = write_fleet_index(runs)
    return runs, page, rows, first, second, clean, resolved


def row_of(page_html: str, engagement: str) -> str:
    match = re.search(rf"<tr class='\w+'><td><b>{engagement}</b>.*?</tr>", page_html)
    assert match, f"no row for {engagement}"
    return match.group(0)


def test_each_engagement_shows_its_latest_run_worst_first(fleet):
    runs, page, rows, first, second, clean, _ = fleet
    assert page == runs.resolve() / "fleet.html"
    by_name = {r.engagement: r for r in rows}
    assert set(by_name) == {"alpha", "beta", "gamma", "delta"}
    assert by_name["alpha"].latest.folder.name == "20261108T060000Z"
    assert by_name["alpha"].previous.folder.name == "20261101T060000Z"
    assert by_name["beta"].latest.status == "not_checked"
    assert by_name["gamma"].latest.status == clean.verdict.status
    order = [r.engagement for r in rows]
    assert order.index("beta") < order.index("alpha")  # NOT CHECKED, then FAIL, then the rest
    if clean.verdict.status == "pass":
        assert order[-1] == "gamma"


def test_the_page_counts_findings_by_severity_and_says_what_changed(fleet):
    runs, page, rows, first, second, clean, resolved = fleet
    text = page.read_text(encoding="utf-8")
    alpha = row_of(text, "alpha")
    cells = re.findall(r"<td class='num[^']*'>(\d+)</td>", alpha)
    severities = [f.severity for f in second.results.findings]
    from idbridge.core.vocabulary import SEVERITIES

    assert [int(c) for c in cells] == [severities.count(s) for s in SEVERITIES]
    gone = len({(f.check_id, f.subject) for f in first.results.findings if f.check_id == resolved})
    assert f"0 new, {gone} resolved" in alpha
    assert "href='alpha/20261108T060000Z/index.html'" in alpha
    assert "first run" in row_of(text, "beta") and "NOT CHECKED" in row_of(text, "beta")
    assert "collection failed: 401 invalid_client" in html.unescape(row_of(text, "beta"))


def test_a_run_without_a_verdict_is_named_not_taken_for_the_latest(fleet):
    runs, page, rows, *_ = fleet
    delta = next(r for r in rows if r.engagement == "delta")
    assert delta.latest.folder.name == "20261101T060000Z" and delta.unfinished == ["20261108T060000Z"]
    assert "without a verdict" in row_of(page.read_text(encoding="utf-8"), "delta")


def test_the_page_is_self_contained(fleet):
    text = fleet[1].read_text(encoding="utf-8")
    assert "<script" not in text and "http://" not in text and "https://" not in text
    assert not re.search(r"(src|href)='(?!alpha/|beta/|gamma/|delta/)", text)


def test_a_damaged_findings_file_is_shown_as_such_and_the_page_still_written(tmp_path, fleet):
    first = fleet[3]
    runs = tmp_path / "runs"
    run = make_run(runs, "alpha", "20261108T060000Z", first)
    (run / "findings.json").write_text('{"format": 1, "resu', encoding="utf-8")
    page, rows = write_fleet_index(runs)
    assert rows[0].latest.by_severity is None
    assert "findings.json unreadable" in page.read_text(encoding="utf-8")


def test_tenant_text_is_escaped(tmp_path, fleet):
    first = fleet[3]
    runs = tmp_path / "runs"
    hostile = dataclasses.replace(first, verdict=dataclasses.replace(first.verdict,
                                                                     headline="<img src=x onerror=alert(1)>"))
    make_run(runs, "alpha", "20261108T060000Z", hostile)
    page, _ = write_fleet_index(runs)
    assert "<img" not in page.read_text(encoding="utf-8")


def test_the_cli_writes_the_page_and_refuses_a_missing_folder(tmp_path, fleet, capsys):
    runs = fleet[0]
    with pytest.raises(SystemExit) as done:
        main(["fleet", "index", str(runs), "--out", str(tmp_path / "fleet.html")])
    assert done.value.code in (0, None)
    out = capsys.readouterr().out
    assert "NOT CHECKED  beta" in out and (tmp_path / "fleet.html").exists()
    # The links are relative to where the page is written.
    expected = Path(os.path.relpath(runs / "alpha" / "20261108T060000Z" / "index.html", tmp_path)).as_posix()
    assert f"href='{expected}'" in (tmp_path / "fleet.html").read_text(encoding="utf-8")
    with pytest.raises(SystemExit) as done:
        main(["fleet", "index", str(tmp_path / "nowhere")])
    assert done.value.code == 2
    assert "nowhere" in capsys.readouterr().err
