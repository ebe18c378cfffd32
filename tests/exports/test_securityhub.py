"""Security Hub export: two runs against the sandbox's moto Security Hub through boto3 — the first imports, the
second updates one finding, imports a new one and archives the one resolved since; Security Hub holds them
(GetFindings); the same run again plans nothing; a dry run sends nothing; another engagement's and another
product's findings are left alone. Batching and pacing keep to the documented limits."""

from __future__ import annotations

import json

import pytest
from support.sandbox import sandbox_parameters

from idbridge.cli import main
from idbridge.clients.aws.pacing import LIMITS_TPS, PACER
from idbridge.exports import securityhub as sh
from idbridge.exports.findings import finding_uid, read_run
from tests.contract.test_sandbox_shapes import aws_shape_differences
from tests.exports.runs import ADMIN, finding, make_run
from tests.support.contract import load_fixture

ALICE, BOB, CAROL = "user:alice@contoso.com", "user:bob@contoso.com", "user:carol@contoso.com"
TARGET = sh.Target("111122223333", "aws", "eu-west-1")


# ------------------------------------------------------------------------------------------------ offline


def test_findings_go_in_calls_of_at_most_100(tmp_path):
    run = read_run(make_run(tmp_path, "r", "2026-05-01T10:00:00+00:00",
                            [finding(ADMIN, f"user:u{i}@contoso.com") for i in range(250)]))
    plan, counts, sample = sh.build_plan(run, {}, TARGET)
    assert counts["new"] == 250
    assert [len(c.payload["findings"]) for c in plan.changes] == [100, 100, 50]
    assert {c.action for c in plan.changes} == {"create"}
    assert sample["ProductArn"] == "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default"


def test_a_call_stays_under_6_mb_and_a_finding_under_240_kb(monkeypatch):
    big = {"Id": "x", "Description": "a" * 100_000}
    monkeypatch.setattr(sh, "MAX_CALL_BYTES", 250_000)
    assert [len(b) for b in sh._batches([big, big, big])] == [2, 1]
    with pytest.raises(sh.SecurityHubError, match="above Security Hub's"):
        sh._batches([{"Id": "y", "Description": "a" * (241 * 1024)}])


def test_the_finding_is_in_asff_with_severity_controls_and_remediation(tmp_path):
    run = read_run(make_run(tmp_path, "r", "2026-05-01T10:00:00+00:00", [finding(ADMIN, ALICE, "high")]))
    record = sh.asff(run, run.findings[0], TARGET)
    assert record["Id"] == finding_uid("contoso", ADMIN, ALICE)
    assert record["GeneratorId"] == f"idbridge/contoso/{ADMIN}"
    assert record["Severity"] == {"Label": "HIGH", "Original": "high"}
    assert "NIST 800-53 AC-6" in record["Compliance"]["RelatedRequirements"]
    assert record["Remediation"]["Recommendation"]["Url"].startswith("https://")
    assert record["UpdatedAt"] == record["CreatedAt"] == "2026-05-01T10:00:00.000Z"


def test_an_accepted_finding_is_still_imported_and_says_who_accepted_it_until_when(tmp_path):
    accepted = finding(ADMIN, ALICE, "high")
    accepted.accepted = {"exception": "bg", "reason": "break-glass account", "accepted_by": "CISO",
                         "expires": "2027-01-31"}
    run = read_run(make_run(tmp_path, "r", "2026-05-01T10:00:00+00:00", [accepted]))
    record = sh.asff(run, run.findings[0], TARGET)
    assert record["RecordState"] == "ACTIVE", "accepted is shown, never archived or hidden"
    assert record["ProductFields"]["idbridge/Accepted"] == "accepted: break-glass account, until 2027-01-31"
    assert record["ProductFields"]["idbridge/AcceptedBy"] == "CISO"
    assert record["Description"].startswith("[accepted: break-glass account, until 2027-01-31 (by CISO)]")


def test_the_export_is_paced_to_the_documented_rates():
    assert PACER.limiter("securityhub:BatchImportFindings@eu-west-1").rate <= LIMITS_TPS[
        "securityhub:BatchImportFindings"] <= 10
    assert PACER.limiter("securityhub:GetFindings@eu-west-1").rate <= LIMITS_TPS["securityhub:GetFindings"] <= 3


# ------------------------------------------------------------------------------------------------ sandbox


@pytest.fixture(scope="module")
def box(demo_sandbox):
    return demo_sandbox  # conftest's: one demo sandbox for the module


def _held(export):
    return {f["Id"]: f for f in export.client.get_findings(MaxResults=100)["Findings"]}


@pytest.mark.integration
def test_two_runs_import_update_and_archive(box, tmp_path, capsys):
    params = sandbox_parameters(box, engagement="contoso")
    first = make_run(tmp_path, "20260501T100000Z", "2026-05-01T10:00:00+00:00",
                     [finding(ADMIN, ALICE), finding(ADMIN, BOB, "high")])
    second = make_run(tmp_path, "20260502T100000Z", "2026-05-02T10:00:00+00:00",
                      [finding(ADMIN, ALICE, "high"), finding(ADMIN, CAROL)])
    alice, bob, carol = (finding_uid("contoso", ADMIN, s) for s in (ALICE, BOB, CAROL))

    # Someone else's finding in the same account: another product, and this product for another engagement.
    export = sh.plan_securityhub(params, first)
    other = {**export.sample, "Id": "other-product-1",
             "ProductArn": f"arn:aws:securityhub:{export.target.region}::product/aws/guardduty"}
    fabrikam = {**export.sample, "Id": "fabrikam-1", "GeneratorId": f"idbridge/fabrikam/{ADMIN}"}
    assert export.client.batch_import_findings(Findings=[other, fabrikam])["SuccessCount"] == 2

    # A dry run reads but sends nothing.
    outcomes = sh.apply_securityhub(export, apply=False)
    assert [o.status for o in outcomes] == ["planned"] and set(_held(export)) == {"other-product-1", "fabrikam-1"}
    assert not (first / "changes.jsonl").exists()

    # First run: both imported.
    export = sh.plan_securityhub(params, first)
    assert export.counts == {"new": 2, "updated": 0, "archived": 0, "unchanged": 0}
    assert [o.status for o in sh.apply_securityhub(export, apply=True)] == ["applied"]
    held = _held(export)
    assert {held[alice]["RecordState"], held[bob]["RecordState"]} == {"ACTIVE"}
    assert sh.plan_securityhub(params, first).plan.is_empty  # the same run again: nothing to send

    # Second run: alice updated (same Id, later UpdatedAt, CreatedAt kept), carol new, bob archived.
    export = sh.plan_securityhub(params, second)
    assert export.counts == {"new": 1, "updated": 1, "archived": 1, "unchanged": 0}
    assert [o.status for o in sh.apply_securityhub(export, apply=True)] == ["applied"] * 3
    held = _held(export)
    assert held[alice]["UpdatedAt"] == "2026-05-02T10:00:00.000Z"
    assert held[alice]["CreatedAt"] == "2026-05-01T10:00:00.000Z"
    assert held[alice]["Severity"]["Label"] == "HIGH" and held[alice]["RecordState"] == "ACTIVE"
    assert held[carol]["RecordState"] == "ACTIVE"
    assert (held[bob]["RecordState"], held[bob]["Compliance"]["Status"]) == ("ARCHIVED", "PASSED")
    # Not ours to archive: another product, another engagement.
    assert held["other-product-1"]["RecordState"] == held["fabrikam-1"]["RecordState"] == "ACTIVE"
    assert sh.plan_securityhub(params, second).plan.is_empty

    log = [json.loads(line) for line in (second / "changes.jsonl").read_text().splitlines()]
    assert [(e["step"], e["status"], e["after"]["category"]) for e in log] == [
        ("export_securityhub", "applied", c) for c in ("new", "updated", "archived")]
    assert log[2]["after"]["ids"] == [bob] and "payload" not in log[2]

    # What the sandbox answers has the documented shape (the contract fixtures).
    filters = {"ProductArn": [{"Value": export.target.product_arn, "Comparison": "EQUALS"}]}
    served = export.client.get_findings(Filters=filters, MaxResults=1)
    served = {k: v for k, v in served.items() if k != "ResponseMetadata"}
    assert aws_shape_differences(load_fixture("securityhub_get_findings", "aws")["response"], served) == []


@pytest.mark.integration
def test_cli_dry_run_shows_counts_and_a_sample(box, tmp_path, capsys):
    params_file = box.write_parameters(tmp_path / "parameters.yaml", engagement="cli-dry-run")
    run = make_run(tmp_path, "20260501T100000Z", "2026-05-01T10:00:00+00:00", [finding(ADMIN, ALICE)],
                   engagement="cli-dry-run")
    with pytest.raises(SystemExit) as done:
        main(["export", "securityhub", "-p", str(params_file), "--run", str(run)])
    out = capsys.readouterr().out
    assert done.value.code == 0
    assert "1 new, 0 updated, 0 archived, 0 unchanged" in out
    assert "planned  import 1 new finding(s)" in out and '"GeneratorId": "idbridge/cli-dry-run/' in out
    assert "Dry run: nothing was sent" in out and not (run / "changes.jsonl").exists()


@pytest.mark.integration
def test_a_refused_batch_fails_the_step_and_is_logged(box, tmp_path):
    params = sandbox_parameters(box, engagement="refused")
    run = make_run(tmp_path, "20260501T100000Z", "2026-05-01T10:00:00+00:00", [finding(ADMIN, ALICE)],
                   engagement="refused")
    export = sh.plan_securityhub(params, run)
    export.plan.changes[0].payload["findings"][0]["Resources"] = []  # Security Hub refuses a finding without one
    outcomes = sh.apply_securityhub(export, apply=True)
    assert outcomes[0].status == "failed" and "1 of 1 findings refused" in outcomes[0].detail
    entry = json.loads((run / "changes.jsonl").read_text().splitlines()[0])
    assert entry["status"] == "failed" and "InvalidInput" in entry["result"]["error"]
