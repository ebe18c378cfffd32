"""What every setup runbook works with: the engagement parameters, the desired state, the run folder (and its
change log), and the clients of both clouds, built once per notebook.

    rb = open_runbook(params, "parameters/desired-state.yaml", run_dir)
    plan = await saml.plan(rb)            # reads only
    result = await saml.apply(rb, plan)   # writes only if the desired state says apply: true
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from idbridge.clients.aws.calls import error_code, read_all
from idbridge.clients.factory import aws_client, aws_session, graph_adapter
from idbridge.core.parameters import Parameters
from idbridge.core.yamlfile import YamlDocument
from idbridge.errors import IdbridgeError, InputError
from idbridge.runbooks.desired.state import DesiredState, load_desired_state

CHANGE_LOG = "changes.jsonl"


class RunbookError(IdbridgeError):
    """A runbook cannot go on (a write failed, a prerequisite step has not run): the message says what to do."""


@dataclass(frozen=True)
class Instance:
    """The Identity Center instance the runbooks configure."""

    arn: str
    identity_store_id: str
    region: str
    regions: tuple[str, ...]      # primary first (ListRegions; the primary alone where that API is unavailable)


@dataclass
class Runbook:
    params: Parameters
    desired: DesiredState
    doc: YamlDocument
    run_dir: Path
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)   # reads that hold for a run (the org tree)

    @property
    def change_log(self) -> Path:
        return self.run_dir / CHANGE_LOG

    @property
    def file(self) -> str:
        return self.doc.file

    def section(self, name: str):
        value = getattr(self.desired, name)
        if value is None:
            raise InputError(self.file, f"no `{name}:` section: this runbook has nothing to set up")
        return value

    # ------------------------------------------------------------------ clients

    @cached_property
    def graph(self):
        """msgraph-sdk's request adapter (auth, retry and redirect middleware) aimed at the tenant."""
        return graph_adapter(self.params)

    @cached_property
    def aws_session(self):
        return aws_session(self.params)

    def aws(self, service: str, region: str | None = None):
        """A boto3 client paced to the limit it counts against (the collectors' pacer: one per process)."""
        from idbridge.clients.aws.pacing import PACER

        key = (service, region or self.params.aws.region)
        if key not in self._clients:
            client = aws_client(self.aws_session, service, self.params, region)
            PACER.install(client)
            self._clients[key] = client
        return self._clients[key]

    @cached_property
    def instance(self) -> Instance:
        sso = self.aws("sso-admin")
        instances = read_all(sso, "list_instances", "Instances", MaxResults=100)
        wanted = self.params.aws.instance_arn
        chosen = [i for i in instances if i["InstanceArn"] == wanted] if wanted else instances
        if len(chosen) != 1:
            seen = ", ".join(i["InstanceArn"] for i in instances) or "none"
            raise RunbookError(f"cannot tell which Identity Center instance to configure in {self.params.aws.region} "
                               f"(aws.instance_arn {wanted or 'not set'}; seen: {seen})")
        item = chosen[0]
        region = item.get("PrimaryRegion") or self.params.aws.region
        return Instance(item["InstanceArn"], item["IdentityStoreId"], region, tuple(self._regions(item, region)))

    def _regions(self, item: dict, primary: str) -> list[str]:
        try:
            listed = read_all(self.aws("sso-admin"), "list_regions", "Regions", InstanceArn=item["InstanceArn"])
        except AttributeError:  # a botocore without multi-Region Identity Center: one Region
            return [primary]
        except Exception as exc:  # not allowed or not offered here: the primary Region is certain
            if error_code(exc) not in ("AccessDeniedException", "UnknownOperationException", "ValidationException"):
                raise
            return [primary]
        regions = [r["RegionName"] for r in listed if r.get("Status", "ACTIVE") == "ACTIVE"]
        return [primary, *[r for r in regions if r != primary]]


def open_runbook(params: Parameters, desired_state_file: str | Path, run_dir: str | Path) -> Runbook:
    """Validate the desired state (InputError naming file, line and key) and prepare the run folder."""
    desired, doc = load_desired_state(desired_state_file)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    return Runbook(params, desired, doc, run_dir)
