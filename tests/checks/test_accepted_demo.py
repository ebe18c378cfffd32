"""Accepted exceptions on a real evaluation of the demo snapshot: the break-glass example, the verdict and exit
code, expiry and unmatched exceptions, and the CLI's exit 2 for a bad file."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

import pytest
import yaml

from idbridge.checks.evaluate import evaluate_snapshot
from idbridge.checks.settings import settings_for
from idbridge.cli import main
from idbridge.errors import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK
from idbridge.model.access.build import build_access

pytestmark = pytest.mark.integration

ADMIN = "user:platform.admin@northwind-analytics.com"
GROUP = "group:Legacy-Platform-Admins"


def collected_on(snapshot) -> date:
    return settings_for(snapshot.params, snapshot.manifest["collected_at"]).now.date()


def with_exceptions(snapshot, tmp_path, entries: list[dict], name: str = "exceptions.yaml"):
    """The demo's parameters with an exceptions file of these entries, read back like an engagement's."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"exceptions": entries}, sort_keys=False), encoding="utf-8")
    return snapshot.params.model_copy(update={"exceptions": str(path)})


def break_glass(snapshot, expires: date | None = None) -> list[dict]:
    """The platform admin and its group were made by hand in Identity Center before SCIM: kept on purpose as
    break-glass access if Entra is down (the first use of exceptions)."""
    until = expires or collected_on(snapshot) + timedelta(days=90)
    common = {"reason": "Break-glass access if Entra is down; kept in Identity Center on purpose",
              "accepted_by": "CISO, Jane Roe", "expires": until}
    return [{"id": "breakglass-user", "check": "reconcile.extra_in_idc", "subject": "user:platform.admin@*", **common},
            {"id": "breakglass-group", "check": "reconcile.extra_in_idc", "subject": GROUP, **common},
            {"id": "breakglass-user-by-hand", "check": "reconcile.created_by_hand", "subject": ADMIN.upper(),
             **common},
            {"id": "breakglass-group-by-hand", "check": "reconcile.created_by_hand", "subject": "group:Legacy-*",
             **common}]


def by_subject(evaluation, check_id: str) -> dict:
    return {f.subject: f for f in evaluation.results.findings if f.check_id == check_id}


def outcome(evaluation, check_id: str):
    return next(o for o in evaluation.results.outcomes if o.check_id == check_id)


def test_declared_break_glass_accounts_stop_counting_but_stay_visible_and_in_the_access_review(demo_snapshot,
                                                                                               tmp_path):
    plain = evaluate_snapshot(demo_snapshot, demo_snapshot.params)
    params = with_exceptions(demo_snapshot, tmp_path, break_glass(demo_snapshot))
    accepted = evaluate_snapshot(demo_snapshot, params)

    assert len(accepted.results.findings) == len(plain.results.findings), "accepted findings are never hidden"
    extra = by_subject(accepted, "reconcile.extra_in_idc")
    assert extra[ADMIN].accepted["exception"] == "breakglass-user"
    assert extra[GROUP].accepted["exception"] == "breakglass-group"
    assert extra["user:olivia.grant@northwind-analytics.com"].accepted is None, "not declared: still a finding"
    assert outcome(accepted, "reconcile.extra_in_idc").status == "fail"
    by_hand = outcome(accepted, "reconcile.created_by_hand")
    assert (by_hand.status, by_hand.accepted, by_hand.findings) == ("accepted", 2, 2)
    assert accepted.verdict.counts["accepted_findings"] == 4
    assert accepted.verdict.counts["findings"] == plain.verdict.counts["findings"]
    assert "4 accepted as exceptions, not counted" in accepted.verdict.headline

    # The access review is built from the snapshot, not from findings: the break-glass paths are still reviewed.
    access = build_access(demo_snapshot, settings_for(params, demo_snapshot.manifest["collected_at"]))
    admin = access[access["idc_user_name"].eq("platform.admin@northwind-analytics.com")]
    assert not admin.empty and set(admin["idc_principal_name"]) >= {"Legacy-Platform-Admins"}
    assert set(admin["path_kind"]) == {"idc_only"}


def every_finding_accepted(snapshot, evaluation, expires: date) -> list[dict]:
    return [{"id": f"e{n}", "check": f.check_id, "subject": f.subject, "reason": "accepted for the test",
             "accepted_by": "the test", "expires": expires} for n, f in enumerate(evaluation.results.findings)]


def test_a_run_whose_only_findings_are_accepted_does_not_fail(demo_snapshot, tmp_path):
    plain = evaluate_snapshot(demo_snapshot, demo_snapshot.params)
    assert plain.verdict.status == "fail" and plain.verdict.exit_code == EXIT_FINDINGS
    entries = every_finding_accepted(demo_snapshot, plain, collected_on(demo_snapshot))  # the last day counts
    evaluation = evaluate_snapshot(demo_snapshot, with_exceptions(demo_snapshot, tmp_path, entries))
    assert all(f.accepted for f in evaluation.results.findings)
    assert not [o for o in evaluation.results.outcomes if o.status == "fail"]
    verdict = evaluation.verdict
    assert verdict.counts["at_or_above_fail_on"] == 0
    if plain.verdict.counts["not_checked"] or plain.verdict.counts["error"]:
        # Whatever could not be checked stays not checked: accepting findings never makes a pass of it.
        assert verdict.status == "not_checked" and "PASS" not in verdict.headline
    else:
        assert (verdict.status, verdict.exit_code) == ("pass", EXIT_OK)
        assert verdict.headline.startswith(f"PASS with {len(plain.results.findings)} accepted findings: ")
        assert "found only findings accepted as exceptions" in verdict.headline


def test_expired_exceptions_no_longer_apply_and_are_reported(demo_snapshot, tmp_path):
    plain = evaluate_snapshot(demo_snapshot, demo_snapshot.params)
    yesterday = collected_on(demo_snapshot) - timedelta(days=1)
    entries = every_finding_accepted(demo_snapshot, plain, yesterday)
    entries.append({"id": "nobody", "check": "reconcile.extra_in_idc", "subject": "user:nobody@*",
                    "reason": "r", "accepted_by": "a", "expires": collected_on(demo_snapshot) + timedelta(days=1)})
    evaluation = evaluate_snapshot(demo_snapshot, with_exceptions(demo_snapshot, tmp_path, entries))
    assert not any(f.accepted for f in evaluation.results.findings)
    assert (evaluation.verdict.status, evaluation.verdict.exit_code) == (plain.verdict.status,
                                                                         plain.verdict.exit_code)
    statuses = {e.id: e.status for e in evaluation.exceptions}
    assert statuses.pop("nobody") == "unmatched" and set(statuses.values()) == {"expired"}
    assert any(r.startswith("exception e0 ") and f"expired on {yesterday}" in r for r in evaluation.verdict.reasons)
    assert any(r.startswith("exception nobody ") and "matched no finding" in r for r in evaluation.verdict.reasons)


def parameters_file(snapshot, tmp_path, exceptions_text: str) -> str:
    document = snapshot.params.model_dump(mode="json", exclude_none=True)
    document["exceptions"] = "exceptions.yaml"
    (tmp_path / "exceptions.yaml").write_text(exceptions_text, encoding="utf-8")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    return str(tmp_path / "params.yaml")


def test_validate_with_a_bad_exceptions_file_exits_2_and_writes_nothing(demo_snapshot, tmp_path, capsys):
    params = parameters_file(demo_snapshot, tmp_path, "exceptions:\n  - id: bg\n    check: reconcile.nope\n")
    out = tmp_path / "validation"
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "-p", params, "--snapshot", str(demo_snapshot.directory), "--out", str(out)])
    err = capsys.readouterr().err
    assert exit_info.value.code == EXIT_BAD_INPUT, err
    assert f"{tmp_path / 'exceptions.yaml'}" in err and "line 3, exceptions[0].check: no check 'reconcile.nope'" in err
    assert not out.exists()


def test_validate_writes_the_acceptance_into_findings_json_and_csv(demo_snapshot, tmp_path, capsys):
    entries = break_glass(demo_snapshot)
    params = parameters_file(demo_snapshot, tmp_path, yaml.safe_dump({"exceptions": entries}, sort_keys=False))
    out = tmp_path / "validation"
    with pytest.raises(SystemExit):
        main(["validate", "-p", params, "--snapshot", str(demo_snapshot.directory), "--out", str(out)])
    document = json.loads((out / "findings.json").read_text())
    assert {e["id"]: e["status"] for e in document["exceptions"]} == {
        "breakglass-user": "applied", "breakglass-group": "applied", "breakglass-user-by-hand": "applied",
        "breakglass-group-by-hand": "applied"}
    [admin] = [f for f in document["findings"] if f["check_id"] == "reconcile.extra_in_idc" and f["subject"] == ADMIN]
    assert admin["accepted"] == {"exception": "breakglass-user", "reason": entries[0]["reason"],
                                 "accepted_by": "CISO, Jane Roe", "expires": entries[0]["expires"].isoformat()}
    with (out / "findings.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    row = next(r for r in rows if r["check_id"] == "reconcile.extra_in_idc" and r["subject"] == ADMIN)
    assert row["accepted"] == f"accepted: {entries[0]['reason']}, until {entries[0]['expires'].isoformat()}"
    assert (row["exception"], row["accepted_by"]) == ("breakglass-user", "CISO, Jane Roe")
    assert rows[-1]["accepted"], "accepted findings are listed after the ones that count"
    with (out / "checks.csv").open(encoding="utf-8") as handle:
        checks = {r["check_id"]: r for r in csv.DictReader(handle)}
    assert (checks["reconcile.created_by_hand"]["status"], checks["reconcile.created_by_hand"]["accepted"]) == \
        ("accepted", "2")
