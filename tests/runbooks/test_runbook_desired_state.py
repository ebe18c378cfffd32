"""The desired-state file: what is refused before anything is planned, with file, line and key; the limits of
permission sets; the window that keeps CreateAccountAssignment within 15 outstanding requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from idbridge.core.paths import PARAMETERS_DIR
from idbridge.errors import InputError
from idbridge.plan import Change
from idbridge.runbooks.aws_apply import MAX_OUTSTANDING, AssignmentWindow
from idbridge.runbooks.desired.policies import canonical_duration, session_minutes
from idbridge.runbooks.desired.state import load_desired_state
from idbridge.sandbox.console import sp_metadata_xml
from idbridge.sandbox.scenario import load_scenario, resolve_scenario_path

DEMO = PARAMETERS_DIR / "desired-state.demo.yaml"


@pytest.fixture
def demo_doc(tmp_path) -> dict:
    """The demo desired state, its SP metadata present, inline policies copied beside it."""
    (tmp_path / "aws-sp-metadata.xml").write_bytes(sp_metadata_xml(load_scenario(resolve_scenario_path("empty"))))
    (tmp_path / "policies").mkdir()
    for policy in (PARAMETERS_DIR / "policies").glob("*.json"):
        (tmp_path / "policies" / policy.name).write_text(policy.read_text())
    doc = yaml.safe_load(DEMO.read_text())
    doc["saml"]["sp_metadata"] = "aws-sp-metadata.xml"
    return doc


def write(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "desired-state.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def problems_of(tmp_path: Path, doc: dict) -> str:
    with pytest.raises(InputError) as caught:
        load_desired_state(write(tmp_path, doc))
    assert caught.value.file.endswith("desired-state.yaml") and caught.value.exit_code == 2
    return caught.value.render()


def test_the_demo_desired_state_is_valid_and_plans_only_by_default(tmp_path, demo_doc):
    state, doc = load_desired_state(write(tmp_path, demo_doc))
    assert state.apply is False and state.allow_removals is False
    admin = state.aws_access.permission_sets[0]
    assert admin.session_duration == "PT4H" and json.loads(admin.inline_document)["Statement"]
    assert doc.where(("provisioning", "test_user")).startswith("line ")


def test_invalid_json_policy_is_refused_with_its_line_and_column(tmp_path, demo_doc):
    broken = '{"Version": "2012-10-17",\n "Statement": [\n {"Effect" "Deny"}]}'
    (tmp_path / "policies" / "broken.json").write_text(broken)
    demo_doc["aws_access"]["permission_sets"][0]["inline_policy"] = "policies/broken.json"
    text = problems_of(tmp_path, demo_doc)
    assert "aws_access.permission_sets[0].inline_policy" in text and "line 3, column 12" in text
    assert "not valid JSON" in text


def test_inline_policy_over_the_limit_is_refused(tmp_path, demo_doc):
    statements = [{"Sid": f"S{i}", "Effect": "Deny", "Action": [f"service{i}:Action{j}" for j in range(20)],
                   "Resource": "*"} for i in range(30)]
    (tmp_path / "policies" / "big.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": statements},
                                                               indent=2))
    demo_doc["aws_access"]["permission_sets"][1]["inline_policy"] = "policies/big.json"
    text = problems_of(tmp_path, demo_doc)
    assert "permission_sets[1].inline_policy" in text and "10,240 bytes" in text


def test_a_document_that_is_not_a_policy_is_refused(tmp_path, demo_doc):
    (tmp_path / "policies" / "list.json").write_text("[1, 2]")
    demo_doc["aws_access"]["permission_sets"][0]["inline_policy"] = "policies/list.json"
    assert "not an IAM policy document" in problems_of(tmp_path, demo_doc)


@pytest.mark.parametrize("duration, words", [("PT13H", "13 h"), ("PT30M", "0.5 h"), ("4h", "not an ISO-8601")])
def test_session_outside_one_to_twelve_hours_is_refused(tmp_path, demo_doc, duration, words):
    demo_doc["aws_access"]["permission_sets"][2]["session_duration"] = duration
    text = problems_of(tmp_path, demo_doc)
    assert "permission_sets[2].session_duration" in text and words in text


def test_every_problem_is_named_with_its_line(tmp_path, demo_doc):
    demo_doc["provisioning"]["scim_token"] = "sbx-scim-0123456789"          # a value, not a reference
    demo_doc["aws_access"]["assignments"][0]["targets"]["accounts"] = ["12345"]
    demo_doc["aws_access"]["assignments"][1]["permission_set"] = "NoSuchSet"
    demo_doc["aws_access"]["permission_sets"][3]["colour"] = "blue"
    text = problems_of(tmp_path, demo_doc)
    assert "provisioning.scim_token: must be a secret reference" in text
    assert "assignments[0].targets.accounts: not 12-digit account ids" in text
    assert "permission_sets[3].colour: unknown key" in text
    lines = [line for line in text.splitlines() if line.strip().startswith("- line ")]
    assert len(lines) == 3, text  # NoSuchSet is reported once the shapes are right
    demo_doc["provisioning"]["scim_token"] = "env:IDBRIDGE_SCIM_TOKEN"
    demo_doc["aws_access"]["assignments"][0]["targets"]["accounts"] = ["538201947716"]
    del demo_doc["aws_access"]["permission_sets"][3]["colour"]
    assert "permission set 'NoSuchSet' is not defined" in problems_of(tmp_path, demo_doc)


def test_a_missing_sp_metadata_file_says_where_to_download_it(tmp_path, demo_doc):
    demo_doc["saml"]["sp_metadata"] = "nowhere.xml"
    text = problems_of(tmp_path, demo_doc)
    assert "saml.sp_metadata: file not found, relative to the desired state's folder (download it in Identity " \
           "Center" in text
    assert "nowhere.xml" not in text.split("desired-state.yaml", 1)[1], "a value that failed is never echoed"


def test_policy_limits_and_boundary_shape(tmp_path, demo_doc):
    ps = demo_doc["aws_access"]["permission_sets"][0]
    ps["customer_managed_policies"] = [{"name": f"p{i}"} for i in range(20)]
    ps["permissions_boundary"] = {"managed_policy_arn": "arn:aws:iam::aws:policy/X",
                                  "customer_managed": {"name": "b"}}
    text = problems_of(tmp_path, demo_doc)
    assert "21 managed and customer-managed policies" in text or "exactly one of" in text
    assert "exactly one of managed_policy_arn and customer_managed" in text


def test_session_durations_are_written_the_way_aws_returns_them():
    assert session_minutes("PT12H") == 720 and canonical_duration("PT90M") == "PT1H30M"
    assert canonical_duration("PT1H0M") == "PT1H"


# --------------------------------------------------------------------------------------------- the window


class FakeSso:
    """CreateAccountAssignment that stays IN_PROGRESS for a few status reads, one request in ten FAILED."""

    def __init__(self):
        self.reads: dict[str, int] = {}
        self.in_flight = 0
        self.most = 0

    def create(self, n: int) -> dict:
        request = f"r{n}"
        self.reads[request] = 0
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        return {"RequestId": request, "Status": "IN_PROGRESS"}

    def describe_account_assignment_creation_status(self, InstanceArn, AccountAssignmentCreationRequestId):
        request = AccountAssignmentCreationRequestId
        self.reads[request] += 1
        if self.reads[request] < 3:
            return {"AccountAssignmentCreationStatus": {"RequestId": request, "Status": "IN_PROGRESS"}}
        if self.reads[request] == 3:
            self.in_flight -= 1
        failed = int(request[1:]) % 10 == 0
        return {"AccountAssignmentCreationStatus": {"RequestId": request, "Status": "FAILED" if failed else "SUCCEEDED",
                                                    "FailureReason": "no such principal" if failed else None}}


def test_assignment_window_keeps_at_most_15_requests_outstanding(monkeypatch):
    monkeypatch.setattr("idbridge.runbooks.aws_apply.POLL_SECONDS", (0,))
    sso = FakeSso()
    window = AssignmentWindow(sso, "arn:aws:sso:::instance/ssoins-0000000000000000")
    changes = [Change("create", "aws.account_assignment", f"k{n}", "s") for n in range(60)]
    for n, change in enumerate(changes):
        window.submit(change, lambda n=n: sso.create(n))
    window.drain()
    assert MAX_OUTSTANDING == 15 and sso.most <= 15 and window.most_in_flight == 15
    assert sso.in_flight == 0 and not window.outstanding
    assert sorted(c.key for c, _ in window.failed) == ["k0", "k10", "k20", "k30", "k40", "k50"]
