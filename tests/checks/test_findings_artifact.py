"""findings.json format 4 (severities and controls per finding) round-trips; a format 2 artifact of an earlier run
is still read, its controls taken from the catalogue; the CSVs carry the same columns, in words."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from idbridge.checks import load_all
from idbridge.checks.artifact import FORMAT, read_evaluation, write_evaluation
from idbridge.checks.base import REGISTRY, Finding
from idbridge.checks.evaluate import Evaluation, Verdict
from idbridge.checks.runner import CheckOutcome, CheckResults, outcome_fields

CHECK = "access.direct_user_assignment"


def _evaluation() -> Evaluation:
    meta = load_all()[CHECK].meta
    outcome = CheckOutcome(**outcome_fields(meta), status="fail", findings=2)
    common = dict(check_id=CHECK, title=meta.title, area="access", detail="d", evidence={"n": 1},
                  meaning=meta.meaning, fix=meta.fix, references=meta.references, check_severity="medium",
                  controls=meta.controls)
    findings = [Finding(**common, severity="high", subject="user:root@contoso.com",
                        severity_reason=meta.severity_reason("high")),
                Finding(**common, severity="medium", subject="user:alice@contoso.com")]
    return Evaluation(CheckResults([outcome], findings), {}, "high", Verdict("fail", 1, "FAIL"))


def test_format_4_round_trips_severities_and_controls(tmp_path):
    evaluation = _evaluation()
    paths = write_evaluation(evaluation, tmp_path)
    document = json.loads(paths["json"].read_text())
    assert document["format"] == FORMAT == 4
    root = document["findings"][0]
    assert (root["severity"], root["check_severity"]) == ("high", "medium")
    assert root["severity_reason"] == "an assignment gives the user an admin-equivalent permission set"
    assert {"framework": "NIST SP 800-53 Rev. 5", "id": "AC-6", "title": "Least Privilege"} in root["controls"]
    assert document["outcomes"][0]["other_severities"].startswith("high when ")
    again = read_evaluation(paths["json"])
    assert again.results.findings == evaluation.results.findings
    assert again.results.outcomes == evaluation.results.outcomes


def test_the_csvs_name_both_severities_and_the_controls(tmp_path):
    paths = write_evaluation(_evaluation(), tmp_path)
    findings = pd.read_csv(paths["csv"], dtype=str, keep_default_na=False)
    assert list(findings.columns[:4]) == ["check_id", "severity", "check_severity", "severity_reason"]
    root = findings.set_index("subject").loc["user:root@contoso.com"]
    assert (root["severity"], root["check_severity"]) == ("high", "medium")
    assert root["controls"] == "NIST 800-53 AC-2; NIST 800-53 AC-6; ISO 27001 A.5.15; ISO 27001 A.5.18"
    checks = pd.read_csv(paths["checks"], dtype=str, keep_default_na=False)
    assert checks.loc[0, "severity"] == "medium"
    assert checks.loc[0, "other_severities"] == "high when an assignment gives the user an admin-equivalent " \
                                                "permission set"
    assert checks.loc[0, "controls"] == root["controls"]


def test_a_format_2_artifact_is_still_read_with_controls_from_the_catalogue(tmp_path):
    """What an earlier idbridge wrote (no check_severity, severity_reason, controls, other_severities)."""
    document = json.loads(write_evaluation(_evaluation(), tmp_path)["json"].read_text())
    document["format"] = 2
    for finding in document["findings"]:
        for key in ("check_severity", "severity_reason", "controls"):
            del finding[key]
    for outcome in document["outcomes"]:
        del outcome["controls"], outcome["other_severities"]
    (tmp_path / "old.json").write_text(json.dumps(document))
    old = read_evaluation(tmp_path / "old.json")
    controls = REGISTRY[CHECK].meta.controls
    assert [(f.severity, f.check_severity, f.controls) for f in old.results.findings] == [
        ("high", "medium", controls), ("medium", "medium", controls)]
    assert [f.severity_reason for f in old.results.findings] == [
        "an assignment gives the user an admin-equivalent permission set", ""]
    assert old.results.outcomes[0].controls == controls


@pytest.mark.parametrize("format_", [1, 5, None])
def test_another_format_is_refused_saying_which_are_read(tmp_path, format_):
    document = json.loads(write_evaluation(_evaluation(), tmp_path)["json"].read_text())
    document["format"] = format_
    (tmp_path / "other.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match=r"format 2 or 3 or 4"):
        read_evaluation(tmp_path / "other.json")
