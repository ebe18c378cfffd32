"""The sandbox's identity platform: the OAuth 2.0 client-credentials token endpoint and bearer-token checks.

Tokens are JWT-shaped (header.payload.signature, HS256 with a per-server secret) so they can be checked without
server-side state and carry the caller's app id, which the per-app limits need. Any GUID is accepted as client_id
(a second GUID acts as a second app registration, for the per-app report limits); derived.SANDBOX_CLIENT_ID is
the one the kit uses. Client secrets are not checked: there is nothing to protect in the sandbox.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from idbridge.sandbox.graph.errors import unauthenticated

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
GRAPH_AUDIENCE = "https://graph.microsoft.com"
LIFETIME_S = 3599
# What an audit app registration would be granted; carried in the token for realism, not enforced
# (denials are switched on with the `deny` fault instead).
ROLES = ["User.Read.All", "Group.Read.All", "Application.ReadWrite.OwnedBy", "AuditLog.Read.All",
         "Directory.Read.All", "Policy.Read.All", "Synchronization.ReadWrite.All",
         "AppRoleAssignment.ReadWrite.All", "ProvisioningLog.Read.All"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Caller:
    app_id: str
    tenant_id: str


class TokenIssuer:
    def __init__(self, tenant_id: str, tenant_names: list[str]):
        self.tenant_id = tenant_id
        self.tenant_names = {tenant_id.lower(), *(n.lower() for n in tenant_names)}
        self._secret = secrets.token_bytes(32)

    # ------------------------------------------------------------------ token endpoint

    def token_response(self, tenant: str, form: dict[str, str]) -> tuple[int, dict]:
        """Answer POST /{tenant}/oauth2/v2.0/token like the Microsoft identity platform (status, JSON body)."""
        if tenant.lower() not in self.tenant_names:
            return self._error(400, "invalid_request", 90002,
                               f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                               "and are signing into the correct cloud.")
        if form.get("grant_type") != "client_credentials":
            return self._error(400, "unsupported_grant_type", 70003,
                               "The app requested an unsupported grant type "
                               f"'{form.get('grant_type', '')}'.")
        client_id = form.get("client_id", "")
        if not _GUID.match(client_id):
            return self._error(400, "unauthorized_client", 700016,
                               f"Application with identifier '{client_id}' was not found in the directory "
                               f"'{self.tenant_id}'.")
        scope = form.get("scope", "")
        if not scope.endswith("/.default"):
            return self._error(400, "invalid_scope", 1002012,
                               f"The provided value for scope {scope} is not valid. Client credential flows must "
                               "have a scope value with /.default suffixed to the resource identifier "
                               "(application ID URI).")
        return 200, {"token_type": "Bearer", "expires_in": LIFETIME_S, "ext_expires_in": LIFETIME_S,
                     "access_token": self.issue(client_id.lower())}

    def _error(self, status: int, error: str, aadsts: int, text: str) -> tuple[int, dict]:
        trace = secrets.token_hex(16)
        trace_id = f"{trace[:8]}-{trace[8:12]}-{trace[12:16]}-{trace[16:20]}-{trace[20:]}"
        return status, {"error": error, "error_description": f"AADSTS{aadsts}: {text} Trace ID: {trace_id}",
                        "error_codes": [aadsts],
                        "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ"),
                        "trace_id": trace_id, "correlation_id": trace_id}

    def issue(self, app_id: str, lifetime_s: int = LIFETIME_S) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "HS256", "kid": "idbridge-sandbox"}
        payload = {"aud": GRAPH_AUDIENCE, "iss": f"https://sts.windows.net/{self.tenant_id}/", "iat": now,
                   "nbf": now, "exp": now + lifetime_s, "appid": app_id, "tid": self.tenant_id,
                   "idtyp": "app", "oid": app_id, "roles": ROLES}
        signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode())
        signature = hmac.new(self._secret, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + _b64(signature)

    # ------------------------------------------------------------------ bearer check

    def authenticate(self, authorization: str | None) -> Caller:
        """Check an Authorization header; raises the GraphError Graph answers (401 InvalidAuthenticationToken)."""
        if not authorization or not authorization.strip():
            raise unauthenticated("Access token is empty.")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise unauthenticated("Access token is empty.")
        parts = token.strip().split(".")
        if len(parts) != 3:
            raise unauthenticated("IDX14100: JWT is not well formed, there are no dots (.).")
        expected = hmac.new(self._secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            valid = hmac.compare_digest(_unb64(parts[2]), expected)
            payload = json.loads(_unb64(parts[1]))
        except ValueError:
            valid, payload = False, {}
        if not valid:
            raise unauthenticated("Access token validation failure. Invalid audience.")
        if payload.get("exp", 0) < time.time():
            raise unauthenticated("Lifetime validation failed, the token is expired.")
        return Caller(app_id=payload["appid"], tenant_id=payload["tid"])
