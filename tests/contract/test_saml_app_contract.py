"""Contract tests for the AWS app's SAML reads: documented Graph answers (tests/contract/fixtures/graph) run
through the collector's own table builders and the SAML checks, and compared in shape with the sandbox."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import idbridge.checks.rules.saml  # noqa: F401  (registers the SAML units)
from idbridge.checks.runner import MemoryTables, run_checks
from idbridge.checks.settings import CheckSettings
from idbridge.collect.entra.app import app_tables, find_service_principal
from idbridge.core.parameters import ChecksParams
from idbridge.saml.claims import single_policy
from tests.support import graph_harness as gh
from tests.support.contract import load_fixture, shape_differences

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def server():
    s = gh.GraphServer(gh.world())
    yield s
    s.close()


async def _aws_sp(adapter) -> dict:
    return await find_service_principal(adapter, None, None)


def check(tables: dict, check_id: str):
    results = run_checks(MemoryTables(tables), CheckSettings(now=NOW, checks=ChecksParams()), ids=[check_id])
    (outcome,) = results.outcomes
    return outcome, results.findings


# ------------------------------------------------------------------ item 7: beta claimsPolicy, wrapped or not


def test_claims_policy_as_documented_wrapped_keeps_the_name_id():
    answer = load_fixture("beta_serviceprincipal_claimspolicy_get")["response"]
    assert "value" in answer  # the docs example answers a collection
    [row] = app_tables({"id": "sp1"}, None, answer)["entra_app_claims"].to_dict("records")
    assert row["nameIdFormat"] == "emailAddress"
    assert row["nameIdSource"] == "user.userprincipalname"
    outcome, findings = check({"entra_app_claims": app_tables({"id": "sp1"}, None, answer)["entra_app_claims"]},
                              "saml.name_id_format")
    assert outcome.status == "pass", [f.detail for f in findings]


def test_claims_policy_as_one_object_reads_the_same():
    wrapped = load_fixture("beta_serviceprincipal_claimspolicy_get")["response"]
    one = wrapped["value"][0]
    rows = app_tables({"id": "sp1"}, None, one)["entra_app_claims"].to_dict("records")
    assert rows == app_tables({"id": "sp1"}, None, wrapped)["entra_app_claims"].to_dict("records")
    assert single_policy({"value": []}) is None


def test_sandbox_claims_policy_has_the_documented_shape(server):
    documented = single_policy(load_fixture("beta_serviceprincipal_claimspolicy_get")["response"])

    async def read():
        adapter = server.adapter()
        sp = await _aws_sp(adapter)
        return await gh.raw(server.adapter("beta"), f"/servicePrincipals/{sp['id']}/claimsPolicy")

    served = gh.run(read())
    # The sandbox answers one object (as the SDKs type it); the collector accepts both forms.
    assert "value" not in served
    assert shape_differences(documented, served, nullable=frozenset({"condition", "audienceOverride"})) == []
    name_id = next(c for c in served["claims"] if c["@odata.type"] == "#microsoft.graph.samlNameIdClaim")
    assert name_id["nameIdFormat"] == "emailAddress"  # enum value and case as documented
