"""The ABAC checks on a real collection of scenarios/abac.yaml (sandbox: moto + the Graph emulator, collected by
the kit's own collectors): their findings are exactly the planted faults, no more, no fewer; and on the demo
organisation, which has no ABAC, they are not applicable rather than passing."""

from __future__ import annotations

import pytest
from support.sandbox import collected_snapshot

from idbridge.checks import load_all
from idbridge.checks.runner import run_checks
from idbridge.checks.settings import settings_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def abac_snapshot(tmp_path_factory):
    return collected_snapshot("abac", tmp_path_factory.mktemp("abac"))


def evaluate(snapshot):
    load_all()
    return run_checks(snapshot, settings_for(snapshot.params, snapshot.manifest["collected_at"]), areas=["abac"])


def test_abac_findings_are_the_planted_faults(abac_snapshot):
    results = evaluate(abac_snapshot)
    assert [(o.check_id, o.reason) for o in results.outcomes if o.status in ("error", "not_checked")] == []
    found = {(f.check_id, f.subject) for f in results.findings}
    planted = {(f.check, f.subject) for f in abac_snapshot.scenario.faults if f.check.startswith("abac.")}
    assert sorted(found - planted) == [], "false positives"
    assert sorted(planted - found) == [], "planted faults not found"
    # The one check with nothing planted passes: ABAC is enabled, so the claims are used.
    assert {o.check_id: o.status for o in results.outcomes}["abac.claims_without_abac"] == "pass"


def test_the_collected_configuration_and_evidence(abac_snapshot):
    attributes = abac_snapshot.table("idc_abac_attributes")
    assert dict(zip(attributes["key"], attributes["source"])) == {
        "Department": "${path:enterprise.department}", "CostCenter": "${path:enterprise.costCenter}"}
    assert abac_snapshot.table("idc_abac_status")["status"].tolist() == ["ENABLED"]
    by = {(f.check_id, f.subject): f for f in evaluate(abac_snapshot).findings}
    ines = by[("abac.user_value_refused", "user:ines.moreau@fabrikam-cloud.com")]
    assert ines.severity == "medium" and "'&'" in ines.detail
    assert by[("abac.user_value_refused", "user:lena.fischer@fabrikam-cloud.com")].severity == "low"
    assert by[("abac.tag_not_supplied", "permission_set:FinanceReader")].evidence["keys"] == ["Clearance"]


def test_demo_abac_findings_are_its_planted_faults(demo_snapshot):
    results = evaluate(demo_snapshot)
    assert [(o.check_id, o.reason) for o in results.outcomes if o.status in ("error", "not_checked")] == []
    found = {(f.check_id, f.subject) for f in results.findings}
    planted = {(f.check, f.subject) for f in demo_snapshot.scenario.faults if f.check.startswith("abac.")}
    assert planted and sorted(found - planted) == [] and sorted(planted - found) == []
    assert demo_snapshot.table("idc_abac_status")["status"].tolist() == ["ENABLED"]
    # nothing planted for these: ABAC is enabled (claims used), Identity Center has no attributes of its own
    assert {o.check_id: o.status for o in results.outcomes if o.status != "fail"} == {
        "abac.claims_without_abac": "pass", "abac.source_not_provisioned": "not_applicable",
        "abac.key_from_both_sides": "not_applicable"}


def test_broken_provisioning_sends_claims_without_abac(broken_provisioning_snapshot):
    snapshot = broken_provisioning_snapshot
    found = {(f.check_id, f.subject) for f in evaluate(snapshot).findings}
    planted = {(f.check, f.subject) for f in snapshot.scenario.faults if f.check.startswith("abac.")}
    assert found == planted == {("abac.claims_without_abac", "app:AWS IAM Identity Center")}


def test_the_access_review_shows_tag_dependent_access_as_conditional(abac_snapshot):
    from idbridge.checks.settings import settings_for
    from idbridge.model.access.build import build_access
    from idbridge.report.abac import conditional_access

    access = build_access(abac_snapshot, settings_for(abac_snapshot.params, abac_snapshot.manifest["collected_at"]))
    table = conditional_access(abac_snapshot, access)
    rows = {(r["person"], r["permission set"]): r for r in table.to_dict("records")}
    # Every effective path of the three tag-testing permission sets is listed (2 + 3 + 2 people).
    assert len({k for k in rows}) == 7 and set(table["permission set"]) == {
        "ProjectDeveloper", "DataAnalyst", "FinanceReader"}
    hana = rows[("hana.sato@fabrikam-cloud.com", "ProjectDeveloper")]
    assert "Department=Platform" in hana["this person's tags"] and "Project=Platform Lead" in hana["this person's tags"]
    conditions = "conditions (as far as tags decide)"
    assert ('Allow PlatformBuckets when aws:PrincipalTag/Department StringEquals "Platform" — this person\'s '
            "Department=Platform: satisfied: the Allow applies") in hana[conditions].split("\n")
    assert "Allow OwnProjectInstances when aws:PrincipalTag/Project StringEquals \"${aws:PrincipalTag/Project}\" — " \
           "this person's Project=Platform Lead: depends on the resource's tags" in hana[conditions].split("\n")
    assert hana["this person"] == "satisfies 1 of 2 tag conditions (1 depends on the resource's tags)"
    kofi = rows[("kofi.mensah@fabrikam-cloud.com", "DataAnalyst")]
    assert kofi["this person"] == "satisfies every tag condition"
    raj = rows[("raj.patel@fabrikam-cloud.com", "FinanceReader")]
    assert "Clearance: not supplied" in raj["this person's tags"]
    assert raj[conditions].endswith("this person's Clearance: not supplied, CostCenter: missing: not satisfied: the "
                                    "Allow does not apply")


def test_the_demo_review_shows_data_engineer_access_as_conditional(demo_snapshot):
    from idbridge.checks.settings import settings_for
    from idbridge.model.access.build import build_access
    from idbridge.report.abac import conditional_access

    access = build_access(demo_snapshot, settings_for(demo_snapshot.params, demo_snapshot.manifest["collected_at"]))
    table = conditional_access(demo_snapshot, access)
    assert set(table["permission set"]) == {"DataEngineer"}
    held = access[access["effective"].astype(bool) & access["permission_set_name"].eq("DataEngineer")]
    listed = {(row["person"], account) for row in table.to_dict("records") for account in row["accounts"].split(", ")}
    who = [upn if isinstance(upn, str) and upn else idc for upn, idc in zip(held["user_principal_name"],
                                                                          held["idc_user_name"])]
    assert listed == set(zip(who, held["account_name"])), "every effective DataEngineer path, no other"
    assert len(table) == len(set(who)), "one row a person"
    one = table.iloc[0]
    lines = one["conditions (as far as tags decide)"].split("\n")
    assert [line.split(" when ")[0] for line in lines] == [
        "Allow PersonalDataStaffOnly", "Deny NoSupplierOnRawData", "Allow OwnCostCentreReports"]
    assert lines[0].endswith("satisfied: the Allow applies") and "Company=Northwind Analytics" in lines[0]
    assert lines[2].endswith("CostCenter: not supplied: not satisfied: the Allow does not apply")
    by_person = dict(zip(table["person"], table["this person"]))
    # Olivia Grant, deleted in Entra and still in Identity Center (named by her Identity Center user name), has no
    # Entra attributes: no Company tag
    assert by_person.pop("olivia.grant@northwind-analytics.com") == "satisfies none of the tag conditions"
    assert set(by_person.values()) == {"satisfies 1 of 3 tag conditions"}
