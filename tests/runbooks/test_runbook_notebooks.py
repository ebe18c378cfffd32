"""The three setup notebooks headless through papermill on the sandbox's empty scenario: without `apply` they
write nothing; with it they build a working bridge that the validation notebook passes, every write is in the
change log, and a second run plans nothing.

The validation of the bridge they build is read from the session's kit run (support.kit.kit_run), whose setup
part is these three runbooks with `apply` on the same scenario and desired state, the console's steps between
them, then 10_validate_integration: running the same validation here again would prove nothing more."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from support.kit import kit_run
from support.runbook_harness import aws_writes, change_log, empty_sandbox, fingerprint

from idbridge.cli import main as idbridge_cli
from idbridge.sandbox import derived
from idbridge.sandbox.setup_run import RUNBOOKS, run_setup, scim_environment, write_desired_state

pytestmark = [pytest.mark.notebook, pytest.mark.integration]


def plan_cli(*args: str) -> int:
    """`idbridge plan ...`, in process; its exit code."""
    with pytest.raises(SystemExit) as exit_info:
        idbridge_cli(["plan", *args])
    return exit_info.value.code


# First in the file: the worker that asks for the kit run first builds it, with sandboxes of its own, which must not
# run beside this module's (moto's backends are process-wide).
def test_the_validation_of_the_bridge_they_built_passes(tmp_path_factory):
    kit = kit_run(tmp_path_factory)
    setup = Path(kit["setup_dir"])
    record = json.loads((setup / "run.json").read_text())
    assert [(n["name"], n["ok"]) for n in record["notebooks"]] == [(name, True) for name in
                                                                   [*RUNBOOKS, "10_validate_integration"]]
    evaluation = json.loads((setup / "findings.json").read_text())
    validation = {"saml", "provisioning", "reconcile", "scim", "aws"}
    findings = [f for f in evaluation["findings"] if f["area"] in validation]
    # The setup itself changed the identity source (the console checkpoint that gives Identity Center Entra's
    # metadata): the audit rightly asks someone to confirm that change, and it is the only finding.
    [changed] = [f for f in findings if f["check_id"] == "aws.identity_source_changed"]
    assert changed["evidence"]["count"] == 1 and "ExternalIdPConfigurationForDirectory" in \
        changed["evidence"]["changes"][0]["event"]
    # The sandbox's organisation instance is run from its management account with no delegated administrator:
    # a finding by position, not something the runbooks set up (they do not register delegated administrators).
    [position] = [f for f in findings if f["check_id"] == "aws.no_delegated_admin"]
    # Nor do they write SCPs: the empty organisation has none denying account instances of Identity Center.
    [unguarded] = [f for f in findings if f["check_id"] == "aws.account_instances_allowed"]
    others = [f for f in findings if f is not changed and f is not position and f is not unguarded]
    assert others == [], [(f["check_id"], f["subject"], f["detail"]) for f in others]
    outcomes = [o for o in evaluation["outcomes"] if o["area"] in validation and o["check_id"] not in (
        "aws.identity_source_changed", "aws.no_delegated_admin", "aws.account_instances_allowed")]
    assert outcomes and all(o["status"] in ("pass", "not_applicable") for o in outcomes), outcomes


@pytest.fixture(scope="module")
def box():
    sandbox = empty_sandbox()
    yield sandbox
    sandbox.stop()


def text_outputs(notebook_path) -> list[str]:
    """The notes, summaries and checkpoints a runbook notebook showed (report.safe.Text: HTML)."""
    nb = nbformat.read(notebook_path, as_version=4)
    return [o["data"]["text/html"] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if "idbridge-text" in o.get("data", {}).get("text/html", "")]


def applied_count(run) -> int:
    """The "**N applied**" summary the notebook showed after applying."""
    found = [re.search(r"(\d+) applied", text) for text in text_outputs(run.output)]
    return sum(int(m.group(1)) for m in found if m)


@pytest.fixture(scope="module")
def dry_run(box, tmp_path_factory):
    before, writes = fingerprint(box), aws_writes(box)
    result = run_setup(box, tmp_path_factory.mktemp("dry"), apply=False)
    return result, before, writes


@pytest.fixture(scope="module")
def applied(box, dry_run, tmp_path_factory):
    return run_setup(box, tmp_path_factory.mktemp("apply"), apply=True)


def test_without_apply_the_notebooks_plan_and_write_nothing(box, dry_run):
    result, before, writes = dry_run
    assert [r.name for r in result.runs] == RUNBOOKS and result.ok, [r.error for r in result.runs]
    assert fingerprint(box) == before and aws_writes(box) == writes
    assert change_log(result.out_dir) == []
    saml_output = "\n".join(text_outputs(result.runs[0].output))
    assert "<strong>5 change(s)</strong>" in saml_output and "5 planned" in saml_output
    assert "set <code>apply: true</code>" in saml_output and "No federation metadata yet" in saml_output
    access = "\n".join(text_outputs(result.runs[2].output))
    assert "not in Identity Center yet" in access


def test_with_apply_they_build_a_bridge(applied):
    assert [r.name for r in applied.runs] == RUNBOOKS
    assert applied.ok, [r.error for r in applied.runs]
    checkpoints = "\n".join(text_outputs(applied.runs[1].output))
    assert checkpoints.count("Verification: done") == 3   # identity source, SCIM token, users by SCIM


def test_the_change_log_records_every_write(box, applied):
    logged = change_log(applied.out_dir)
    assert len(logged) == sum(applied_count(run) for run in applied.runs[:3]) > 40
    assert {e["status"] for e in logged} == {"applied"}
    kinds = [e["kind"] for e in logged]
    calls = box.aws_calls
    assert kinds.count("aws.account_assignment") == calls["sso-admin:CreateAccountAssignment"]
    assert kinds.count("aws.permission_set") == calls["sso-admin:CreatePermissionSet"]
    assert kinds.count("entra.app_role_assignment") == len(box.world.graph.app_role_assignments)
    token = derived.scim_token(box.scenario)
    for path in [applied.change_log, *(r.output for r in applied.runs), *(r.html for r in applied.runs)]:
        assert token not in path.read_text(), f"the SCIM token leaked into {path}"


def test_a_second_run_plans_nothing(box, applied, tmp_path, capsys):
    desired = write_desired_state(box, tmp_path, apply=True)
    with scim_environment(derived.scim_endpoint(box.scenario), derived.scim_token(box.scenario)):
        code = plan_cli("-p", str(applied.params_file), "-d", str(desired), "--out", str(tmp_path))
    out = capsys.readouterr().out
    assert code == 0 and out.count("**No change needed**") == 3, out


def test_a_wrong_desired_state_exits_2_and_plans_nothing(box, applied, tmp_path, capsys):
    desired = write_desired_state(box, tmp_path, apply=True)
    desired.write_text(desired.read_text().replace("session_duration: PT8H", "session_duration: PT24H", 1))
    code = plan_cli("-p", str(applied.params_file), "-d", str(desired))
    err = capsys.readouterr().err
    assert code == 2 and "session_duration: PT24H is 24 h: Identity Center allows a session of 1 to 12 hours" in err
    assert re.search(r"desired-state\.yaml: line \d+, aws_access\.permission_sets\[1\]\.session_duration", err)
