"""moto's server inside this process, behind the sandbox's gate and the fault middleware, on 127.0.0.1.

    handle = start_moto_server(world)          # or a FaultConfig alone
    boto3.client("sso-admin", endpoint_url=handle.endpoint_url, region_name=...,
                 aws_access_key_id=SANDBOX_AWS_ACCESS_KEY_ID, aws_secret_access_key=SANDBOX_AWS_SECRET_ACCESS_KEY)
    handle.calls["sso-admin:ListInstances"]    # calls seen, per service:Operation
    handle.stop()

The gate (auth.py) admits only requests to a loopback Host name, signed (SigV4, Authorization header) with the
sandbox's key; it does not serve /moto-api and drops CORS headers. Refused requests are not counted in `calls`.

Requests act in the scenario's accounts (the world's, or else the latest seeding's): Organizations calls in the
management account, every other service in the Identity Center instance's account (a request's own
x-moto-account-id header wins). Unmodified boto3 needs nothing else.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import TYPE_CHECKING, Union

from moto.moto_server import werkzeug_app
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from idbridge.sandbox.aws.auth import SandboxGate
from idbridge.sandbox.aws.middleware import FaultMiddleware
from idbridge.sandbox.aws.patches import apply_patches
from idbridge.sandbox.faults import FaultConfig

if TYPE_CHECKING:
    from idbridge.sandbox.state import SandboxWorld


class MotoServerHandle:
    def __init__(self, server, thread: threading.Thread, middleware: FaultMiddleware, host: str):
        self._server = server
        self._thread = thread
        self.middleware = middleware
        self.host = host
        self.port: int = server.server_address[1]
        self.endpoint_url = f"http://{host}:{self.port}"

    @property
    def calls(self) -> Counter[str]:
        """A snapshot: "service:Operation" -> requests received (refused ones included)."""
        with self.middleware._count_lock:
            return Counter(self.middleware.calls)

    @property
    def refused(self) -> Counter[str]:
        """"service:Operation:ErrorCode" -> requests the middleware answered with a fault."""
        with self.middleware._count_lock:
            return Counter(self.middleware.refused)

    def reset_calls(self) -> None:
        with self.middleware._count_lock:
            self.middleware.calls.clear()
            self.middleware.refused.clear()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> "MotoServerHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _account_router(world: "SandboxWorld | None"):
    if world is not None:
        accounts = {"management": world.scenario.aws.management_account, "instance": world.scenario.instance_account}
    else:
        from idbridge.sandbox.aws.seed import SEEDED_ACCOUNTS as accounts  # the latest seeding, read per request
    return lambda service: accounts.get("management" if service == "organizations" else "instance")


def _write_trail(world: "SandboxWorld | None"):
    """Writes logged in CloudTrail (write_trail.py) for a world; a bare server (no scenario) logs none."""
    if world is None:
        return None
    from idbridge.sandbox.aws.write_trail import WriteTrail, utc_now

    return WriteTrail(instance_store=lambda: getattr(world.aws, "cloudtrail", None),
                      management_account=lambda: world.scenario.aws.management_account,
                      clock=lambda: max(world.now, utc_now()))


def _backend_app(service):
    """moto's Flask app for one service, without flask-cors (which answers every Origin with
    Access-Control-Allow-Origin: that Origin). moto reads the switch when it builds each app."""
    werkzeug_app.DISABLE_GLOBAL_CORS = True
    return create_backend_app(service)


def start_moto_server(world_or_faults: Union["SandboxWorld", FaultConfig, None] = None, host: str = "127.0.0.1",
                      port: int = 0, allowed_hosts: tuple[str, ...] = ()) -> MotoServerHandle:
    """Start serving in a daemon thread; port 0 picks a free port (see handle.port). Requests must name a
    loopback host (or `host`, or one of `allowed_hosts`) in their Host header."""
    apply_patches()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # it logs every request otherwise
    if isinstance(world_or_faults, FaultConfig) or world_or_faults is None:
        fixed = world_or_faults or FaultConfig()
        world, faults, lock = None, (lambda: fixed), threading.RLock()  # moto's backends are not thread-safe
    else:
        world = world_or_faults
        faults, lock = (lambda: world.faults), world.lock
    middleware = FaultMiddleware(DomainDispatcherApplication(_backend_app), faults, _account_router(world), lock,
                                 on_served=_write_trail(world))
    gate = SandboxGate(middleware, bound_host=host, allowed_hosts=allowed_hosts)
    server = make_server(host, port, gate, threaded=True, request_handler=MotoRequestHandler)
    # A short poll interval: stop() waits for it (the default 0.5 s adds up over a test run).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"moto-sandbox-{server.server_address[1]}", daemon=True)
    thread.start()
    return MotoServerHandle(server, thread, middleware, host)
