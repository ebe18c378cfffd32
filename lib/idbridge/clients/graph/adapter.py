"""Microsoft Graph clients: the real msgraph-sdk request adapter, pointed at Graph or at the sandbox.

Production and sandbox differ only in the base URL and the credential object; everything after that (auth
middleware, retry handler, request adapter) is msgraph-sdk's own.
"""

from __future__ import annotations

import time
from urllib.parse import urlparse

import httpx
from azure.core.credentials import AccessToken
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from msgraph import GraphRequestAdapter, GraphServiceClient

GRAPH_V1 = "https://graph.microsoft.com/v1.0"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


class SandboxCredential:
    """An azure.core TokenCredential for the sandbox: the OAuth 2.0 client-credentials grant against the
    emulator's token endpoint. The sandbox hands out its own tokens; there is no secret to protect."""

    def __init__(self, token_url: str, client_id: str):
        self.token_url = token_url
        self.client_id = client_id
        self._token: AccessToken | None = None

    def get_token(self, *scopes: str, **_kwargs) -> AccessToken:
        if self._token is None or self._token.expires_on - 60 < time.time():
            response = httpx.post(self.token_url, data={
                "grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": "sandbox", "scope": GRAPH_SCOPE,
            }, timeout=10)
            response.raise_for_status()
            body = response.json()
            self._token = AccessToken(body["access_token"], int(time.time()) + int(body["expires_in"]))
        return self._token

    def close(self) -> None:  # TokenCredential protocol
        pass


def make_request_adapter(credential, base_url: str = GRAPH_V1) -> GraphRequestAdapter:
    """msgraph-sdk's adapter with its default middleware (auth, retry, redirect), aimed at `base_url`."""
    host = urlparse(base_url).hostname or ""
    # kiota sends no Authorization header to a host outside allowed_hosts, silently: name the host we target.
    auth = AzureIdentityAuthenticationProvider(credential, scopes=[GRAPH_SCOPE], allowed_hosts=[host])
    adapter = GraphRequestAdapter(auth)
    adapter.base_url = base_url.rstrip("/")
    return adapter


def make_graph_client(credential, base_url: str = GRAPH_V1) -> GraphServiceClient:
    return GraphServiceClient(request_adapter=make_request_adapter(credential, base_url))
