"""Run the sandbox: the Graph emulator and moto's server on 127.0.0.1, seeded from one scenario.

Both servers live in this process (moto's backends are process-wide), each on its own thread.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import yaml
from werkzeug.serving import make_server

from idbridge.sandbox import derived
from idbridge.sandbox.faults import FaultConfig
from idbridge.sandbox.scenario import Scenario, load_scenario, resolve_scenario_path
from idbridge.sandbox.timeexpr import resolve_time, utc_now
from idbridge.sandbox.world import SandboxWorld, seed_world

DEFAULT_GRAPH_PORT = 47801
DEFAULT_AWS_PORT = 47802


@dataclass(frozen=True)
class SandboxEndpoints:
    graph_root: str
    graph_base_url: str
    token_url: str
    aws_endpoint_url: str
    tenant_id: str
    client_id: str
    region: str
    instance_arn: str
    identity_store_id: str
    management_account: str


class Sandbox:
    """`with Sandbox.from_file("demo") as sb: ...` — seeded, serving, and stopped on exit."""

    def __init__(self, scenario: Scenario, *, scenario_file: str = "scenario", faults: FaultConfig | None = None,
                 host: str = "127.0.0.1", graph_port: int = 0, aws_port: int = 0, now: datetime | None = None,
                 allowed_hosts: tuple[str, ...] = ()):
        self.scenario = scenario
        self.scenario_file = scenario_file
        self.faults = faults or FaultConfig()
        self.host = host
        self.graph_port = graph_port
        self.aws_port = aws_port
        self.allowed_hosts = tuple(allowed_hosts)  # Host names answered besides loopback ones and `host`
        self.now = now or utc_now()
        self.world: SandboxWorld | None = None
        self.endpoints: SandboxEndpoints | None = None
        self._aws_server = None
        self._graph_server = None
        self._graph_thread: threading.Thread | None = None

    @classmethod
    def from_file(cls, name_or_path: str | Path, **kwargs) -> "Sandbox":
        path = resolve_scenario_path(name_or_path)
        return cls(load_scenario(path), scenario_file=str(path), **kwargs)

    def start(self) -> SandboxEndpoints:
        from idbridge.sandbox.aws.server import start_moto_server
        from idbridge.sandbox.graph.app import create_graph_app

        # moto's IAM knows AWS managed policies only when this is set before its first use in the process; the
        # runbooks check managed policy ARNs against them as they would against AWS.
        os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        self.world = seed_world(self.scenario, self.now, self.faults, file=self.scenario_file)
        self._aws_server = start_moto_server(self.world, host=self.host, port=self.aws_port,
                                             allowed_hosts=self.allowed_hosts)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        try:
            self._graph_server = make_server(self.host, self.graph_port,
                                             create_graph_app(self.world, self.host, self.allowed_hosts), threaded=True)
        except OSError as exc:
            self._aws_server.stop()
            raise OSError(f"cannot listen on {self.host}:{self.graph_port} for the Graph emulator: {exc.strerror}")
        self._graph_thread = threading.Thread(target=self._graph_server.serve_forever, name="graph-emulator",
                                              daemon=True)
        self._graph_thread.start()
        graph_root = f"http://{self.host}:{self._graph_server.server_port}"
        aws = self.world.aws
        self.endpoints = SandboxEndpoints(
            graph_root=graph_root,
            graph_base_url=f"{graph_root}/v1.0",
            token_url=f"{graph_root}/{self.scenario.tenant.id}/oauth2/v2.0/token",
            aws_endpoint_url=self._aws_server.endpoint_url,
            tenant_id=self.scenario.tenant.id,
            client_id=derived.SANDBOX_CLIENT_ID,
            region=aws.region,
            instance_arn=aws.instance_arn,
            identity_store_id=aws.identity_store_id,
            management_account=self.scenario.aws.management_account,
        )
        return self.endpoints

    @property
    def aws_calls(self) -> dict[str, int]:
        """API calls per 'service:Operation' served by moto so far (for least-privilege tests, benchmarks)."""
        return dict(self._aws_server.calls) if self._aws_server else {}

    def stop(self) -> None:
        if self._graph_server is not None:
            self._graph_server.shutdown()
            self._graph_server.server_close()
            self._graph_server = None
        if self._aws_server is not None:
            self._aws_server.stop()
            self._aws_server = None

    def __enter__(self) -> "Sandbox":
        self.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def parameters(self, engagement: str | None = None) -> dict:
        """A parameters document pointing the notebooks at this sandbox. It holds no secret: the sandbox's
        token endpoint hands out tokens to its own client id, `credentials: sandbox` names the sandbox's fixed,
        documented AWS key (core.parameters.SANDBOX_AWS_ACCESS_KEY_ID), which its AWS side requires, and reviewer
        packs are signed with the sandbox's public key (sandbox:review-signing-key)."""
        ep = self.endpoints
        assert ep is not None, "start the sandbox first"
        return {
            "engagement": engagement or f"sandbox-{Path(self.scenario_file).stem}",
            "sandbox": True,
            "graph": {"tenant_id": ep.tenant_id, "auth": "sandbox", "client_id": ep.client_id,
                      "base_url": ep.graph_base_url, "token_url": ep.token_url},
            "aws": {"region": ep.region, "endpoint_url": ep.aws_endpoint_url, "credentials": "sandbox",
                    "instance_arn": ep.instance_arn, "management_account": ep.management_account},
            "app": {"display_name": self.scenario.entra.aws_app.display_name
                    if self.scenario.entra.aws_app else "AWS IAM Identity Center"},
            "checks": self._check_parameters(),
            # The sandbox's public signing key (core/secrets.py): packs are signed and verified as in a real
            # engagement, with nothing to set up; a real one names its own key (env:IDBRIDGE_REVIEW_KEY).
            "review": {"signing_key": "sandbox:review-signing-key"},
        }

    def _check_parameters(self) -> dict:
        """What a consultant records by hand for a real tenant, taken from the scenario here."""
        app = self.scenario.entra.aws_app
        checks: dict = {}
        if app and app.provisioning:
            created = resolve_time(app.provisioning.token_created, self.now)
            checks["scim_token_created"] = created.date().isoformat()
        if self.scenario.engagement.sod_conflicts:
            checks["sod_conflicts"] = [list(pair) for pair in self.scenario.engagement.sod_conflicts]
        checks.update(self._checkpoint_records())
        return checks

    def _checkpoint_records(self) -> dict:
        """Guided checkpoints (issue 17): what a consultant reads in the Entra admin center and the AWS console
        and records, taken from the scenario."""
        app, facts = self.scenario.entra.aws_app, self.scenario.engagement
        records: dict = {}
        if app and app.provisioning:
            prov = app.provisioning
            records["provisioning_settings"] = {
                "checked_on": self.now.date().isoformat(), "notification_email": prov.notification_email,
                "accidental_deletion_threshold": prov.accidental_deletion_threshold,
                "skip_out_of_scope_deletions": prov.skip_out_of_scope_deletions}
        if facts.portal_session_hours is not None:
            records["portal_session_hours"] = facts.portal_session_hours
        if facts.revocation_prepared is not None:
            records["revocation_prepared"] = facts.revocation_prepared
        return records

    def write_parameters(self, path: str | Path, engagement: str | None = None) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = (f"# Written by `idbridge sandbox up` for scenario {self.scenario_file}.\n"
                  "# Points idbridge at the local sandbox; holds no secret.\n")
        path.write_text(header + yaml.safe_dump(self.parameters(engagement), sort_keys=False), encoding="utf-8")
        return path


def endpoints_dict(endpoints: SandboxEndpoints) -> dict:
    return asdict(endpoints)
