"""The two metadata files of the SAML step: the AWS service-provider metadata the consultant downloaded (read and
checked against the Identity Center instance before anything is planned) and Entra's federation metadata, written
into the run folder for the upload to AWS."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from idbridge.core.files import write_bytes_atomic
from idbridge.errors import InputError
from idbridge.report.safe import Text
from idbridge.runbooks.context import Instance, Runbook, RunbookError
from idbridge.saml.certs import key_credential_thumbprint
from idbridge.saml.compare import compare_idp_metadata_with_app
from idbridge.saml.metadata import IdpMetadata, parse_idp_metadata, parse_sp_metadata
from idbridge.saml.urls import ENTRA_LOGIN_ROOT, federation_metadata_url, parse_acs, parse_issuer

FEDERATION_METADATA = "entra-federation-metadata.xml"


@dataclass(frozen=True)
class SamlUrls:
    """What the SP metadata says Entra must hold: Identifier and the reply (ACS) URLs, primary Region first."""

    identifier: str
    reply_urls: tuple[str, ...]
    notes: tuple[str, ...]


def read_sp_metadata(rb: Runbook, instance: Instance) -> SamlUrls:
    """Identifier and ACS URLs from the SP metadata file(s), checked against the instance: the same identity store,
    and an ACS URL for every Region the instance runs in. Raises InputError at saml.sp_metadata otherwise."""
    where = rb.doc.where(("saml", "sp_metadata"))
    metas = []
    for path in rb.desired.saml.sp_metadata:
        metas.append(parse_sp_metadata(Path(path)))  # InputError naming the XML file and the element
    problems, notes = [], [w for m in metas for w in m.warnings]
    identifiers = sorted({m.entity_id for m in metas})
    if len(identifiers) > 1:
        problems.append(f"the SP metadata files name different issuers: {', '.join(identifiers)}")
    issuer = parse_issuer(identifiers[0])
    if issuer is not None and issuer.store_id != instance.identity_store_id:
        problems.append(f"the SP metadata is for identity store {issuer.store_id}; the Identity Center instance "
                        f"configured here ({instance.arn}) has {instance.identity_store_id}")
    by_region: dict[str, str] = {}
    for meta in metas:
        for endpoint in sorted(meta.acs, key=lambda e: (not e.is_default, e.index if e.index is not None else 99)):
            acs = parse_acs(endpoint.location)
            if acs is not None:
                by_region.setdefault(acs.region, endpoint.location)
    missing = [r for r in instance.regions if r not in by_region]
    if missing:
        problems.append(f"no ACS URL for Region(s) {', '.join(missing)} in the SP metadata: download the metadata "
                        "of every Region the instance runs in (Identity Center › Settings, in that Region)")
    if problems:
        raise InputError(rb.file, [f"{where}: {p}" for p in problems])
    ordered = [by_region[r] for r in instance.regions] + [u for r, u in by_region.items() if r not in instance.regions]
    return SamlUrls(identifiers[0], tuple(ordered), tuple(notes))


# --------------------------------------------------------------------------------------------- federation metadata


def login_root(rb: Runbook) -> str:
    """Where Entra serves federation metadata: login.microsoftonline.com, or the sandbox's token host."""
    token_url = rb.params.graph.token_url
    if rb.params.sandbox and token_url:
        parts = urlsplit(token_url)
        return f"{parts.scheme}://{parts.netloc}"
    return ENTRA_LOGIN_ROOT


@dataclass(frozen=True)
class FederationMetadata:
    path: Path
    metadata: IdpMetadata
    url: str

    def text(self) -> Text:
        cert = self.metadata.signing_certificate
        return Text("Entra's federation metadata is in **`{path}`**: upload it to Identity Center (checkpoint "
                    "below).\n\n- entityID {entity_id}\n- signing certificate {certificate}\n- downloaded from {url}",
                    path=self.path, entity_id=self.metadata.entity_id, certificate=cert.describe(), url=self.url)

    def _repr_html_(self) -> str:
        return self.text()._repr_html_()


async def write_federation_metadata(rb: Runbook, sp: dict) -> FederationMetadata:
    """Download the app's federation metadata (anonymous GET), check it carries the active certificate, and write
    it into the run folder: the file the consultant uploads to Identity Center."""
    tenant, app_id = rb.params.graph.tenant_id, sp["appId"]
    url = federation_metadata_url(tenant, app_id, root=login_root(rb))
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(url)
    if response.status_code != 200:
        raise RunbookError(f"federation metadata not served ({response.status_code}) at {url}: {response.text[:200]}")
    meta = parse_idp_metadata(response.content, name=url)
    keys = [{"thumbprint": t} for t in certificate_thumbprints(sp)]
    differences = compare_idp_metadata_with_app(meta, keys, sp.get("preferredTokenSigningKeyThumbprint"), tenant)
    if differences:
        raise RunbookError("the federation metadata does not match the app: " + "; ".join(differences))
    path = rb.run_dir / FEDERATION_METADATA
    write_bytes_atomic(path, response.content)
    return FederationMetadata(path, meta, url)


def certificate_thumbprints(sp: dict) -> list[str]:
    return [t for t in (key_credential_thumbprint(k) for k in sp.get("keyCredentials") or []) if t]
