"""OCSF export: Detection Finding events validated by py-ocsf-models, ids stable across runs, status New/Resolved,
severity mapped, controls and references carried; a bad run folder exits 2 naming the file, nothing written."""

from __future__ import annotations

import json

import pytest
from py_ocsf_models.events.findings.detection_finding import DetectionFinding

from idbridge.cli import main
from idbridge.exports.findings import finding_uid
from idbridge.exports.ocsf import write_ocsf
from tests.exports.runs import ADMIN, finding, make_run

ALICE, BOB, CAROL = "user:alice@contoso.com", "user:bob@contoso.com", "user:carol@contoso.com"


def _two_runs(tmp_path):
    first = make_run(tmp_path, "20260501T100000Z", "2026-05-01T10:00:00+00:00",
                     [finding(ADMIN, ALICE), finding(ADMIN, BOB, "high")])
    second = make_run(tmp_path, "20260502T100000Z", "2026-05-02T10:00:00+00:00",
                      [finding(ADMIN, ALICE, "high"), finding(ADMIN, CAROL)])
    return first, second


def _events(path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    return raw, {e["resources"][0]["uid"]: e for e in raw}


def test_the_second_run_says_new_still_open_and_resolved_with_the_ids_of_the_first(tmp_path):
    first, second = _two_runs(tmp_path)
    _, counts = write_ocsf(first, tmp_path / "first.json")
    assert counts == {"new": 2, "still open": 0, "resolved": 0}  # nothing before the first run
    _, counts = write_ocsf(second, tmp_path / "second.json")
    assert counts == {"new": 1, "still open": 1, "resolved": 1}
    _, before = _events(tmp_path / "first.json")
    raw, after = _events(tmp_path / "second.json")
    # The same problem keeps its id although its severity changed; a SIEM follows it.
    assert after[ALICE]["finding_info"]["uid"] == before[ALICE]["finding_info"]["uid"] == \
        finding_uid("contoso", ADMIN, ALICE)
    assert (after[ALICE]["activity_name"], after[ALICE]["status"], after[ALICE]["type_uid"]) == ("Update", "New", 200402)
    assert (after[CAROL]["activity_name"], after[CAROL]["status"], after[CAROL]["type_uid"]) == ("Create", "New", 200401)
    assert (after[BOB]["activity_name"], after[BOB]["status_id"], after[BOB]["type_uid"]) == ("Close", 4, 200403)
    assert after[BOB]["finding_info"]["uid"] == before[BOB]["finding_info"]["uid"]
    for event in raw:  # every event is a Detection Finding the library accepts back
        assert DetectionFinding.model_validate(event).class_uid == 2004
        assert event["category_uid"] == 2 and event["metadata"]["version"] == "1.5.0"


def test_severity_controls_and_references_are_carried(tmp_path):
    _, second = _two_runs(tmp_path)
    write_ocsf(second, tmp_path / "out.json")
    _, events = _events(tmp_path / "out.json")
    alice, carol = events[ALICE], events[CAROL]
    assert (alice["severity_id"], alice["severity"]) == (4, "High")
    assert (carol["severity_id"], carol["severity"]) == (3, "Medium")
    assert alice["unmapped"]["check_severity"] == "medium" and alice["unmapped"]["severity_reason"]
    assert {"framework": "NIST SP 800-53 Rev. 5", "id": "AC-6", "title": "Least Privilege"} in \
        alice["unmapped"]["controls"]
    assert alice["remediation"]["references"][0].startswith("https://docs.aws.amazon.com/")
    assert alice["remediation"]["desc"].startswith("Move the access to a group")
    assert alice["metadata"]["event_code"] == ADMIN and "engagement:contoso" in alice["metadata"]["labels"]


def test_ids_differ_per_engagement_check_and_subject():
    ids = {finding_uid(e, c, s) for e in ("contoso", "fabrikam") for c in (ADMIN, "saml.sso_mode")
           for s in (ALICE, BOB)}
    assert len(ids) == 8
    assert finding_uid("contoso", ADMIN, ALICE) == finding_uid("contoso", ADMIN, ALICE)


def test_cli_writes_the_file(tmp_path, capsys):
    _, second = _two_runs(tmp_path)
    out = tmp_path / "events.json"
    with pytest.raises(SystemExit) as done:
        main(["export", "ocsf", "--run", str(second), "--out", str(out)])
    assert done.value.code == 0
    assert "1 new, 1 still open, 1 resolved" in capsys.readouterr().out
    assert len(json.loads(out.read_text())) == 3


def test_a_folder_without_findings_exits_2_naming_it_and_writes_nothing(tmp_path, capsys):
    folder = tmp_path / "not-a-run"
    folder.mkdir()
    out = tmp_path / "events.json"
    with pytest.raises(SystemExit) as done:
        main(["export", "ocsf", "--run", str(folder), "--out", str(out)])
    assert done.value.code == 2
    assert f"{folder}: no findings.json" in capsys.readouterr().err
    assert not out.exists()


def test_an_accepted_finding_is_sent_as_suppressed_with_who_why_and_until(tmp_path):
    """An accepted exception hides nothing: the event is still sent, OCSF status Suppressed, and says why."""
    accepted = finding(ADMIN, ALICE)
    accepted.accepted = {"exception": "breakglass", "reason": "break-glass account", "accepted_by": "CISO",
                         "expires": "2027-01-31"}
    run = make_run(tmp_path, "20260501T100000Z", "2026-05-01T10:00:00+00:00", [accepted, finding(ADMIN, BOB)])
    write_ocsf(run, tmp_path / "out.json")
    _, events = _events(tmp_path / "out.json")
    assert (events[ALICE]["status"], events[ALICE]["status_id"]) == ("Suppressed", 3)
    assert events[ALICE]["unmapped"]["accepted"]["accepted_by"] == "CISO"
    assert events[BOB]["status"] == "New" and "accepted" not in events[BOB]["unmapped"]
