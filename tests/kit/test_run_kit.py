"""`idbridge run`: the kit headless into a run folder, and the exit codes a scheduler acts on. The one kit run
of the session these tests read is kit_support.kit_run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from support.kit import ENGAGEMENT, kit_run, unreachable_parameters

from idbridge.cli import main
from idbridge.core.paths import NOTEBOOKS_DIR
from idbridge.errors import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_NOT_COLLECTED, EXIT_OK
from idbridge.kit.registry import STEPS
from idbridge.kit.run import run_kit


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    return kit_run(tmp_path_factory)


# ------------------------------------------------------------------------------------------ registry, no kernel
def test_every_notebook_of_the_kit_is_in_the_run_registry():
    numbers = {step.number for step in STEPS}
    for path in NOTEBOOKS_DIR.glob("*.ipynb"):
        assert path.name[:2] in numbers, f"{path.name}: add it to idbridge.kit.registry.STEPS so that `idbridge run` runs it"


def test_bad_parameters_exit_2_naming_the_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("engagement: x\ngraph:\n  tenant_id: not-a-guid\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "-p", str(bad), "--out", str(tmp_path / "run")])
    assert exit_info.value.code == EXIT_BAD_INPUT
    assert "bad.yaml" in capsys.readouterr().err
    assert not (tmp_path / "run").exists(), "nothing runs on bad parameters"


def test_missing_secret_variable_exits_2_naming_it(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("IDBRIDGE_NOT_SET", raising=False)
    params = tmp_path / "p.yaml"
    params.write_text("engagement: x\ngraph:\n  tenant_id: 3c8e5b1a-7d2f-4e96-a0b4-5f19c27d8e63\n"
                      "  certificate_password: env:IDBRIDGE_NOT_SET\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "-p", str(params), "--out", str(tmp_path / "run")])
    assert exit_info.value.code == EXIT_BAD_INPUT
    assert "IDBRIDGE_NOT_SET" in capsys.readouterr().err


def test_unknown_notebook_in_only_exits_2(tmp_path, capsys):
    params = tmp_path / "p.yaml"
    params.write_text("engagement: x\ngraph:\n  tenant_id: 3c8e5b1a-7d2f-4e96-a0b4-5f19c27d8e63\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "-p", str(params), "--only", "99_nothing"])
    assert exit_info.value.code == EXIT_BAD_INPUT
    assert "99_nothing" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------- the kit run
@pytest.mark.notebook
def test_the_kit_run_folder_holds_the_audit_record(kit):
    assert not kit["failed"], kit["failed"]
    run = Path(kit["run_dir"])
    assert run.parent.name == ENGAGEMENT
    for name in ("index.html", "findings.json", "findings.csv", "run.json", "run.log", "parameters.yaml",
                 "snapshot/manifest.json", "notebooks/10_validate_integration.ipynb",
                 "reports/10_validate_integration.html", "notebooks/30_changes.ipynb", "reports/30_changes.html"):
        assert (run / name).exists(), name
    record = json.loads((run / "run.json").read_text())
    index = (run / "index.html").read_text()
    for notebook in record["notebooks"]:
        assert notebook["ok"], notebook
        assert f"href='{notebook['report']}'" in index and (run / notebook["report"]).exists()
    assert "href='setup/index.html'" in index
    setup = Path(kit["setup_dir"])
    setup_record = json.loads((setup / "run.json").read_text())
    assert [n["name"][:2] for n in setup_record["notebooks"]] == ["01", "02", "03", "10"]
    assert all(n["ok"] for n in setup_record["notebooks"]), setup_record["notebooks"]


@pytest.mark.notebook
def test_the_demo_returns_one_pack_with_demo_decisions_through_returned_dir(kit):
    """22 reads a returned pack the way `idbridge run` reads review.returned_dir; its decisions are the demo's,
    and say so next to each change of the plan."""
    run = Path(kit["run_dir"])
    params = yaml.safe_load((run / "parameters.yaml").read_text())
    returned = Path(params["review"]["returned_dir"])
    assert returned == run / "review-returned" and len(list(returned.glob("*.xlsx"))) == 1
    log = (run / "run.log").read_text()
    assert f"22_review_decisions reads 1 returned pack(s) from {returned}" in log
    plan = (run / "review-removals.csv").read_text()
    assert "DEMO decision: filled in by `idbridge demo`" in plan
    report = (run / "reports" / "22_review_decisions.html").read_text()
    assert "DEMO decision" in report and "Contradictory decisions" in report


@pytest.mark.notebook
def test_planted_high_findings_exit_1_and_the_log_says_which(kit):
    run = Path(kit["run_dir"])
    assert kit["exit_code"] == EXIT_FINDINGS
    findings = json.loads((run / "findings.json").read_text())["findings"]
    assert {"saml.certificate_expiry", "scim.nested_group_only"} <= {f["check_id"] for f in findings}
    log = (run / "run.log").read_text()
    assert "exit 1 (findings at or above fail_on)" in log and "saml.certificate_expiry" in log


@pytest.mark.notebook
def test_the_same_snapshot_exits_0_when_nothing_reaches_fail_on(kit, tmp_path):
    # A run folder that already holds a snapshot is not collected again: the reports are made from it.
    run = tmp_path / "run"
    shutil.copytree(Path(kit["run_dir"]) / "snapshot", run / "snapshot")
    document = yaml.safe_load((Path(kit["run_dir"]) / "parameters.yaml").read_text())
    document.update(fail_on="never", run_root=str(tmp_path / "elsewhere"))
    document["graph"].pop("certificate_password")
    document.pop("review", None)  # the kit run's signing key is an env reference set only while it ran
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = run_kit(params, only="30", out=run)
    assert result.exit_code == EXIT_OK, result.reasons
    assert [r.name for r in result.notebooks] == ["30_changes"] and result.notebooks[0].ok


@pytest.mark.notebook
def test_a_source_not_collected_exits_3_and_the_log_names_it(tmp_path, capsys):
    from idbridge.sandbox.faults import parse_fault_spec

    from idbridge.sandbox.server import Sandbox

    box = Sandbox.from_file("empty", faults=parse_fault_spec("deny=signIns"))
    box.start()
    try:
        params = box.write_parameters(tmp_path / "p.yaml")
        with pytest.raises(SystemExit) as exit_info:
            main(["run", "-p", str(params), "--only", "30", "--out", str(tmp_path / "run")])
    finally:
        box.stop()
    assert exit_info.value.code == EXIT_NOT_COLLECTED
    log = (tmp_path / "run" / "run.log").read_text()
    assert "entra.sign_ins not collected" in log
    assert "exit 3" in log
    assert "Report: " in capsys.readouterr().out


# --------------------------------------------------------------------------------------- one truthful verdict
@pytest.mark.notebook
def test_a_failed_preflight_stops_the_run_with_exit_3_and_names_the_probe(tmp_path):
    from idbridge.checks.artifact import read_evaluation

    result = run_kit(unreachable_parameters(tmp_path, sources=None), only="00,10,30", out=tmp_path / "run")
    assert result.exit_code == EXIT_NOT_COLLECTED
    assert [r.name for r in result.notebooks] == ["00_preflight"], "nothing runs after a failed preflight"
    assert result.snapshot is None and not (tmp_path / "run" / "snapshot").exists()
    assert any("10_validate_integration: not run" in s for s in result.skipped)
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["verdict"]["status"] == "not_checked" and record["exit_code"] == EXIT_NOT_COLLECTED
    assert "preflight probes failed" in record["headline"] and "Entra tenant" in record["headline"]
    index = (tmp_path / "run" / "index.html").read_text()
    assert "NOT CHECKED" in index and "Exit 0" not in index and "PASS" not in index
    assert "check graph.tenant_id" in index, "what to do is said"
    evaluation = read_evaluation(tmp_path / "run")
    assert {o.status for o in evaluation.results.outcomes} == {"not_checked"}


@pytest.mark.notebook
def test_a_failed_collection_is_not_checked_in_every_artifact(tmp_path):
    # Without preflight (only 10) nothing answers: every source is not collected, and the run and the report
    # say NOT CHECKED for every check (the report was once headed "PASS — no findings").
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "-p", str(unreachable_parameters(tmp_path, sources=None)), "--only", "10",
              "--out", str(tmp_path / "run")])
    assert exit_info.value.code == EXIT_NOT_COLLECTED
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    findings = json.loads((tmp_path / "run" / "findings.json").read_text())
    total = len(findings["outcomes"])
    assert record["headline"].startswith(f"NOT CHECKED: {total} of {total} checks — not collected: ")
    assert findings["verdict"]["exit_code"] == EXIT_NOT_COLLECTED and findings["findings"] == []
    assert "NOT CHECKED" in (tmp_path / "run" / "index.html").read_text()
    report = (tmp_path / "run" / "reports" / "10_validate_integration.html").read_text()
    assert "NOT CHECKED" in report and "PASS:" not in report and "PASS —" not in report


@pytest.mark.notebook
def test_validate_and_run_agree_on_the_same_snapshot(kit, tmp_path):
    run = Path(kit["run_dir"])
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "-p", str(run / "parameters.yaml"), "--snapshot", str(run / "snapshot"),
              "--out", str(tmp_path / "v")])
    run_record = json.loads((run / "run.json").read_text())
    validated = json.loads((tmp_path / "v" / "findings.json").read_text())
    assert exit_info.value.code == kit["exit_code"] == run_record["exit_code"]
    assert validated["verdict"]["headline"] == run_record["verdict"]["headline"]
    report = (run / "reports" / "10_validate_integration.html").read_text()
    assert run_record["verdict"]["word"] in report


@pytest.mark.notebook
def test_checks_are_evaluated_once_per_run_into_one_artifact(kit):
    run = Path(kit["run_dir"])
    record = json.loads((run / "run.json").read_text())
    artifact = json.loads((run / "findings.json").read_text())
    # The notebooks read the run's evaluation: none evaluated again (that would have rewritten the artifact).
    assert record["evaluated_at"] and artifact["evaluated_at"] == record["evaluated_at"]
    names = {p.relative_to(run).as_posix() for p in run.rglob("*findings*") if "setup" not in p.parts}
    assert names == {"findings.json", "findings.csv"}, names
    assert (run / "checks.csv").exists() and (run / "access.parquet").exists()


@pytest.mark.notebook
def test_a_denied_source_agrees_between_run_validate_and_reports(tmp_path):
    from idbridge.sandbox.faults import parse_fault_spec
    from idbridge.sandbox.server import Sandbox

    box = Sandbox.from_file("demo", faults=parse_fault_spec("deny=signIns"))
    box.start()
    try:
        params = box.write_parameters(tmp_path / "p.yaml")
        result = run_kit(params, only="10", out=tmp_path / "run")
    finally:
        box.stop()
    assert result.exit_code == EXIT_NOT_COLLECTED and result.notebooks[0].ok
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "-p", str(params), "--snapshot", str(tmp_path / "run" / "snapshot"),
              "--out", str(tmp_path / "v")])
    assert exit_info.value.code == EXIT_NOT_COLLECTED
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["verdict"]["status"] != "pass" and "entra.sign_ins" in record["headline"]
    report = (tmp_path / "run" / "reports" / "10_validate_integration.html").read_text()
    assert "NOT CHECKED" in report and "PASS —" not in report


@pytest.mark.notebook
def test_a_partial_source_is_never_a_pass_for_validate(kit, tmp_path):
    run = Path(kit["run_dir"])
    snapshot = tmp_path / "snapshot"
    shutil.copytree(run / "snapshot", snapshot)
    manifest = json.loads((snapshot / "manifest.json").read_text())
    manifest["sources"]["aws.cloudtrail"].update(status="partial", error="ThrottlingException after 5 retries")
    (snapshot / "manifest.json").write_text(json.dumps(manifest))
    document = yaml.safe_load((run / "parameters.yaml").read_text())
    document.update(fail_on="never")
    document["graph"].pop("certificate_password", None)
    document.pop("review", None)
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "-p", str(params), "--snapshot", str(snapshot), "--out", str(tmp_path / "v")])
    assert exit_info.value.code == EXIT_NOT_COLLECTED, "fail_on=never, yet incomplete data is exit 3"
    verdict = json.loads((tmp_path / "v" / "findings.json").read_text())["verdict"]
    assert verdict["status"] != "pass" and "aws.cloudtrail partial: ThrottlingException" in " ".join(verdict["reasons"])
