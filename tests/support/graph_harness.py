"""Shared pieces of the Graph emulator tests: a small scenario, a world built from it, the emulator served by
werkzeug in a thread, and msgraph-sdk clients / raw adapter calls against it."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import threading
from datetime import datetime, timezone

from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_http.middleware.options import RetryHandlerOption
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from werkzeug.serving import make_server

from idbridge.clients.graph.adapter import SandboxCredential, make_graph_client
from idbridge.sandbox import derived
from idbridge.sandbox.faults import FaultConfig
from idbridge.sandbox.graph.app import create_graph_app
from idbridge.sandbox.graph.seed import build_store
from idbridge.sandbox.scenario import Scenario, check_references
from idbridge.sandbox.world import SandboxWorld

logging.getLogger("werkzeug").setLevel(logging.ERROR)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
TENANT = "8a1f0c3e-5b7d-4e2a-9c61-2f4d8e7b1a90"

SCENARIO = {
    "scenario": "graph-tests",
    "tenant": {"id": TENANT, "display_name": "Contoso", "default_domain": "contoso.onmicrosoft.com",
               "domains": ["contoso.com"], "licence": "P2"},
    "entra": {
        "users": [
            {"upn": "adele@contoso.com", "display_name": "Adele Vance", "given_name": "Adele", "surname": "Vance",
             "mail": "adele@contoso.com", "department": "Finance", "job_title": "CFO", "city": "Amsterdam",
             "business_phones": ["+31 20 555 0100"], "mobile_phone": "+31 6 5550 0101",
             "employee_id": "E100", "created": "now-400d", "last_sign_in": "now-2d",
             "last_non_interactive_sign_in": "now-1d"},
            {"id": "0b6e1a8e-36b5-4d52-9a3c-0a1d6b2e7f11", "upn": "bob@contoso.com", "display_name": "Bob Kelly",
             "given_name": "Bob", "surname": "Kelly", "mail": "bob@contoso.com", "other_mails": ["bob@gmail.com"],
             "account_enabled": False, "created": "now-100d", "mfa_registered": False},
            {"upn": "cara@contoso.com", "display_name": "Cara Diaz", "given_name": "Cara", "surname": "Diaz",
             "mail": None, "department": "Engineering", "created": "now-10d"},
            {"upn": "gina_fabrikam.com#EXT#@contoso.onmicrosoft.com", "display_name": "Gina (Fabrikam)",
             "given_name": "Gina", "surname": "Guest", "mail": "gina@fabrikam.com", "user_type": "Guest"},
            {"upn": "olaf@contoso.com", "display_name": "Olaf Old", "given_name": "Olaf", "surname": "Old",
             "mail": "olaf@contoso.com", "deleted": True},
        ],
        "groups": [
            {"display_name": "AWS-Admins", "members": ["adele@contoso.com"], "member_groups": ["AWS-Nested"]},
            {"display_name": "AWS-Nested", "members": ["bob@contoso.com", "olaf@contoso.com"],
             "member_groups": ["AWS-Deep"]},
            {"display_name": "AWS-Deep", "members": ["cara@contoso.com"]},
            {"display_name": "Finance (dynamic)", "dynamic_rule": 'user.department -eq "Finance"',
             "members": ["adele@contoso.com"], "mail_enabled": True, "security_enabled": False},
        ],
        "aws_app": {
            "signing_certificates": [
                {"start": "now-700d", "end": "now+25d", "active": True},
                {"display_name": "CN=Next Cert", "start": "now-1d", "end": "now+1000d"},
            ],
            "assignments": {"users": ["gina_fabrikam.com#EXT#@contoso.onmicrosoft.com"],
                            "groups": ["AWS-Admins"]},
            "provisioning": {"status": "Active", "notification_email": "ops@contoso.com"},
        },
        "conditional_access": [
            {"display_name": "Require MFA for AWS", "include_users": ["All"], "exclude_users": ["bob@contoso.com"]},
            {"display_name": "Block guests", "state": "disabled", "include_applications": ["All"],
             "include_users": ["GuestsOrExternalUsers"], "grant_controls": ["block"]},
        ],
        "sign_ins": [
            {"user": "adele@contoso.com", "at": "now-3h"},
            {"user": "bob@contoso.com", "at": "now-2h", "status": "failure", "error_code": 50057,
             "failure_reason": "User account is disabled.", "mfa": False, "conditional_access": "notApplied"},
            {"user": "gina_fabrikam.com#EXT#@contoso.onmicrosoft.com", "at": "now-1h"},
        ],
    },
    "aws": {"management_account": "111122223333", "identity_center": {"region": "eu-west-1",
                                                                      "extra_regions": ["us-east-1"]}},
}


def scenario(**changes) -> Scenario:
    """The test scenario, with top-level sections replaced or entra keys changed (`entra__users=[...]`)."""
    data = copy.deepcopy(SCENARIO)
    for key, value in changes.items():
        if key.startswith("entra__"):
            data["entra"][key.removeprefix("entra__")] = value
        elif key.startswith("tenant__"):
            data["tenant"][key.removeprefix("tenant__")] = value
        else:
            data[key] = value
    parsed = Scenario.model_validate(data)
    assert not check_references(parsed), check_references(parsed)
    return parsed


def world(scn: Scenario | None = None, faults: FaultConfig | None = None) -> SandboxWorld:
    scn = scn or scenario()
    return SandboxWorld(scenario=scn, now=NOW, faults=faults or FaultConfig(), graph=build_store(scn, NOW),
                        aws=None)


class GraphServer:
    """The emulator on 127.0.0.1:<free port>, in a daemon thread."""

    def __init__(self, w: SandboxWorld):
        self.world = w
        self.app = create_graph_app(w)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.tenant = w.scenario.tenant.id
        self.token_url = f"{self.base}/{self.tenant}/oauth2/v2.0/token"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def root(self, version: str = "v1.0") -> str:
        return f"{self.base}/{version}"

    def credential(self, client_id: str = derived.SANDBOX_CLIENT_ID) -> SandboxCredential:
        return SandboxCredential(self.token_url, client_id)

    def client(self, version: str = "v1.0", client_id: str = derived.SANDBOX_CLIENT_ID):
        return make_graph_client(self.credential(client_id), self.root(version))

    def adapter(self, version: str = "v1.0", client_id: str = derived.SANDBOX_CLIENT_ID):
        # Through a client: building GraphServiceClient registers the JSON (de)serializers the adapter needs.
        return self.client(version, client_id).request_adapter

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run(coro):
    return asyncio.run(coro)


ERRORS = {"XXX": ODataError}


async def raw(adapter, url: str, method: str = "GET", body: dict | None = None,
              headers: dict[str, str] | None = None, retries: int | None = None) -> dict | bytes | None:
    """A request through msgraph-sdk's own adapter (auth + retry middleware), answered as parsed JSON / bytes.
    Raises ODataError like the SDK does. `url` is absolute or relative to the adapter's base URL."""
    info = RequestInformation()
    info.http_method = Method[method]
    info.url = url if url.startswith("http") else adapter.base_url + url
    info.headers.try_add("Accept", "application/json")
    for name, value in (headers or {}).items():
        info.headers.try_add(name, value)
    if body is not None:
        info.set_stream_content(json.dumps(body).encode(), "application/json")
    if retries is not None:
        info.add_request_options([RetryHandlerOption(delay=0, max_retries=retries)])
    data = await adapter.send_primitive_async(info, "bytes", ERRORS)
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data


async def raw_all(adapter, url: str, headers: dict[str, str] | None = None) -> list[dict]:
    """Follow @odata.nextLink to the end."""
    items: list[dict] = []
    page = await raw(adapter, url, headers=headers)
    items += page["value"]
    while page.get("@odata.nextLink"):
        page = await raw(adapter, page["@odata.nextLink"], headers=headers)
        items += page["value"]
    return items
