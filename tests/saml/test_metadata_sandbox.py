"""The runbook's use of the metadata functions, end to end on the demo sandbox: download Entra's federation
metadata over HTTP as a consultant would, read the app as the collector writes it, and compare."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from support.sandbox import running_sandbox

from idbridge.collect.entra.app import app_tables
from idbridge.saml.compare import compare_idp_metadata_with_app, compare_sp_metadata_with_app
from idbridge.saml.metadata import parse_idp_metadata, parse_sp_metadata
from idbridge.sandbox import derived

DATA = Path(__file__).resolve().parents[1] / "data" / "metadata"


@pytest.fixture(scope="module")
def demo():
    box = running_sandbox("demo")
    try:
        graph = box.world.graph
        sp = graph.service_principals[graph.aws_sp_id]
        application = next(a for a in graph.applications.values() if a["appId"] == sp["appId"])
        response = httpx.get(f"{box.endpoints.graph_root}/{box.endpoints.tenant_id}/federationmetadata/2007-06/"
                             "federationmetadata.xml", params={"appid": sp["appId"]})
        response.raise_for_status()
        yield box, app_tables(sp, application, None), response.content
    finally:
        box.stop()


def test_downloaded_entra_metadata_matches_the_active_certificate(demo):
    box, tables, content = demo
    meta = parse_idp_metadata(content, name="federationmetadata.xml", now=box.now)
    sp = tables["entra_service_principal"].iloc[0]
    assert meta.signing_certificate.thumbprint == sp["preferredTokenSigningKeyThumbprint"]
    assert meta.signing_certificate.days_left in (19, 20)  # the demo's active certificate: end now+20d
    assert compare_idp_metadata_with_app(meta, tables["entra_app_key_credentials"],
                                         sp["preferredTokenSigningKeyThumbprint"], box.scenario.tenant.id) == []


def test_metadata_of_the_new_certificate_is_not_the_active_one(demo):
    box, tables, content = demo
    meta = parse_idp_metadata(content, name="federationmetadata.xml", now=box.now)
    keys = tables["entra_app_key_credentials"]
    newer = next(t for t in keys["thumbprint"] if t != meta.signing_certificate.thumbprint)
    differences = compare_idp_metadata_with_app(meta, keys, newer, box.scenario.tenant.id)
    assert len(differences) == 1 and "not the active one" in differences[0]


def test_aws_sp_metadata_against_the_demo_app(demo):
    """tests/data/metadata/aws-sp-demo.xml is the primary Region's SP metadata of the demo instance: it agrees
    with the identifier and ACS URL, and shows the demo's planted wildcard and pilot sign-on URL."""
    box, tables, _ = demo
    meta = parse_sp_metadata(DATA / "aws-sp-demo.xml", now=box.now)
    assert meta.entity_id == derived.issuer_url(box.scenario)
    assert meta.acs_urls == [derived.acs_url(box.scenario, box.scenario.aws.identity_center.region)]
    differences = compare_sp_metadata_with_app(meta, tables["entra_service_principal"].iloc[0],
                                               tables["entra_application"].iloc[0])
    assert len(differences) == 2, differences
    assert "wildcard" in differences[0] and "d-93670c2a1f" in differences[1]
