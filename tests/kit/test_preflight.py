"""Preflight's AWS probes against an endpoint that takes connections and drops them: each probe says why it failed
after one retry, not after the collectors' eight attempts with backoff (about 18 s of preflight before)."""

from __future__ import annotations

import socket
import threading

import yaml

from idbridge.core.parameters import Parameters
from idbridge.core.paths import PARAMETERS_DIR
from idbridge.kit.preflight import _aws_probes


class DroppingServer:
    """Accepts TCP connections on 127.0.0.1 and closes each at once, counting them."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self):
        self.sock.close()


def test_each_aws_probe_tries_twice_then_names_the_failure():
    server = DroppingServer()
    try:
        document = yaml.safe_load((PARAMETERS_DIR / "sandbox.yaml").read_text(encoding="utf-8"))
        document["aws"]["endpoint_url"] = f"http://127.0.0.1:{server.port}"
        probes = _aws_probes(Parameters.model_validate(document))
    finally:
        server.close()
    # identity, instance, organization (no instance read, so no identity-store probe), each failed with its cause
    assert [(p.probe, p.ok) for p in probes] == [("identity", False), ("Identity Center instance", False),
                                                 ("organization", False)]
    assert all("127.0.0.1" in p.detail or "Connection" in p.detail for p in probes), [p.detail for p in probes]
    # One attempt and one retry each; the HTTP layer under botocore opens one more connection per call when the
    # server drops it (measured: botocore's N attempts make N + 1 connections). The collectors' eight made 27.
    assert server.accepted <= 3 * len(probes), server.accepted
