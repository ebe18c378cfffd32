"""The front door of the sandbox's AWS side: only requests signed with the sandbox's key reach moto.

moto's server on its own accepts unsigned requests, serves /moto-api (a dump of every backend, reset, seed, a
dashboard) to anyone, and reflects any Origin in CORS headers: any web page open while the sandbox runs could
read or change it. In front of it, every request must

1. be addressed to a loopback name (the Host header; see hosts.py: refuses DNS rebinding);
2. not be for /moto-api (not served at all: the project seeds and resets moto in-process, aws/seed.py);
3. carry a Signature Version 4 signature in its Authorization header, made with the sandbox's key
   (core.parameters.SANDBOX_AWS_ACCESS_KEY_ID / SECRET) or with temporary keys moto's STS issued to a caller
   that had it (`aws.role_arn`). The signature is recomputed with botocore's SigV4 implementation over the
   method, path, query, the headers the client signed and the body. Signatures in the query string (presigned
   URLs) are refused: a web page can send those without a CORS preflight.

and no response carries an Access-Control-* header (moto's flask-cors is switched off, and whatever is left is
dropped here), so browsers keep cross-origin pages from sending the Authorization header or reading answers.

Refusals use AWS's error shape for the request's protocol: JSON (X-Amz-Target: sso-admin, identitystore,
organizations, cloudtrail, secretsmanager) or query (form-encoded Action=: IAM, STS).
"""

from __future__ import annotations

import hmac
import io
import json
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from idbridge.core.parameters import SANDBOX_AWS_ACCESS_KEY_ID, SANDBOX_AWS_SECRET_ACCESS_KEY
from idbridge.sandbox.hosts import allowed_names, host_allowed

_AUTH = re.compile(r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/"
                   r"(?P<service>[^/,\s]+)/aws4_request\s*,\s*SignedHeaders=(?P<headers>[a-z0-9;_.-]+)\s*,\s*"
                   r"Signature=(?P<signature>[0-9a-f]{64})\s*$")
_QUERY_SIGNATURE = re.compile(r"(?:^|&)X-Amz-(?:Signature|Credential)=", re.I)

# (status, JSON protocol code, query protocol code, message). AWS's own texts; the codes are the ones AWS's
# JSON services (e.g. CloudWatch Logs' UnrecognizedClientException) and query services (IAM, STS: the
# "common errors" list) answer.
MISSING = (403, "MissingAuthenticationTokenException", "MissingAuthenticationToken",
           "Missing Authentication Token")
INCOMPLETE = (400, "IncompleteSignatureException", "IncompleteSignature",
              "The request signature does not conform to AWS standards.")
UNKNOWN_KEY = (403, "UnrecognizedClientException", "InvalidClientTokenId",
               "The security token included in the request is invalid.")
BAD_SIGNATURE = (403, "InvalidSignatureException", "SignatureDoesNotMatch",
                 "The request signature we calculated does not match the signature you provided. Check your AWS "
                 "Secret Access Key and signing method. Consult the service documentation for details.")
BAD_HOST = (403, "InvalidHostHeader", "InvalidHostHeader",
            "The sandbox answers only requests addressed to a loopback name (127.0.0.1, localhost, [::1]).")
_BODY = "idbridge.sandbox.body"
_STATUS_TEXT = {400: "400 Bad Request", 403: "403 Forbidden", 404: "404 Not Found"}


def secret_for(access_key_id: str, session_token: str | None) -> str | None:
    """The secret of a key the sandbox accepts: its own, or temporary keys its STS issued (with their token)."""
    if access_key_id == SANDBOX_AWS_ACCESS_KEY_ID:
        return SANDBOX_AWS_SECRET_ACCESS_KEY
    if not session_token:
        return None
    from moto.sts.models import sts_backends

    for regions in list(sts_backends.values()):
        for backend in list(regions.values()):
            role = backend.get_assumed_role_from_access_key(access_key_id)
            if role is not None and hmac.compare_digest(role.session_token, session_token):
                return role.secret_access_key
    return None


def _protocol(environ: dict[str, Any]) -> str:
    content_type = environ.get("CONTENT_TYPE", "")
    if environ.get("HTTP_X_AMZ_TARGET") or content_type.startswith("application/x-amz-json"):
        return "json"
    if content_type.startswith("application/x-www-form-urlencoded") or "Action=" in environ.get("QUERY_STRING", ""):
        return "query"
    return "json"  # REST-JSON clients read x-amzn-ErrorType as well


def _refuse(environ: dict[str, Any], start_response: Callable, refusal: tuple[int, str, str, str],
            detail: str = "") -> Iterable[bytes]:
    status, json_code, query_code, message = refusal
    message = f"{message} {detail}".strip()
    request_id = str(uuid.uuid4())
    if _protocol(environ) == "query":
        body = (f'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
                f"<Code>{query_code}</Code><Message>{escape(message)}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>").encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    else:
        body = json.dumps({"__type": json_code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id),
                   ("x-amzn-ErrorType", json_code)]
    start_response(_STATUS_TEXT[status], headers + [("Content-Length", str(len(body)))])
    return [body]


def _headers(environ: dict[str, Any]) -> HTTPHeaders:
    headers = HTTPHeaders()
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = value
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return headers


def _body(environ: dict[str, Any]) -> bytes:
    """Read the body once and put it back for moto (read even for a refusal: an unread body would be taken for
    the next request on a kept-alive connection)."""
    if _BODY in environ:
        return environ[_BODY]
    stream = environ.get("wsgi.input")
    length = environ.get("CONTENT_LENGTH")
    if stream is None:
        return b""
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ[_BODY] = body
    return body


def _raw_target(environ: dict[str, Any]) -> str:
    """Path and query as the client sent them (the signature covers the encoded form)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw and raw.startswith("/"):
        return raw
    query = environ.get("QUERY_STRING", "")
    return quote(environ.get("PATH_INFO", "/"), safe="/~!$&'()*+,;=:@%") + (f"?{query}" if query else "")


def signature_problem(environ: dict[str, Any]) -> tuple[tuple[int, str, str, str], str] | None:
    """None when the request is signed with a key the sandbox accepts; else the refusal and a detail."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if not authorization:
        if _QUERY_SIGNATURE.search(environ.get("QUERY_STRING", "")):
            return MISSING, "(the sandbox takes the signature in the Authorization header only)"
        return MISSING, ""
    match = _AUTH.match(authorization.strip())
    amz_date = environ.get("HTTP_X_AMZ_DATE", "")
    if match is None:
        return INCOMPLETE, "(expected: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...)"
    if not re.fullmatch(r"\d{8}T\d{6}Z", amz_date):
        return INCOMPLETE, "(X-Amz-Date is missing)"
    signed = match.group("headers").split(";")
    if "host" not in signed:
        return INCOMPLETE, "(the Host header must be signed)"
    headers = _headers(environ)
    secret = secret_for(match.group("key"), headers.get("x-amz-security-token"))
    if secret is None:
        return UNKNOWN_KEY, ""
    body = _body(environ)
    request = AWSRequest(method=environ.get("REQUEST_METHOD", "GET"),
                         url=f"http://{environ.get('HTTP_HOST', '')}{_raw_target(environ)}", data=body,
                         headers={})
    request.headers = headers
    request.context["timestamp"] = amz_date
    service = match.group("service")
    signer = _verifier(S3SigV4Auth if service == "s3" else SigV4Auth, signed)(
        Credentials(match.group("key"), secret), service, match.group("region"))
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, match.group("signature")):
        return BAD_SIGNATURE, ""
    return None


def _verifier(base: type[SigV4Auth], signed: list[str]) -> type[SigV4Auth]:
    class Verifier(base):  # type: ignore[misc, valid-type]
        def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
            """Exactly the headers the client says it signed (botocore picks its own set when signing)."""
            chosen = HTTPHeaders()
            for name in signed:
                for value in request.headers.get_all(name) or []:
                    chosen[name] = value
            return chosen

    return Verifier


class SandboxGate:
    """WSGI middleware: Host, /moto-api and SigV4 checks before `app`; no CORS headers after it."""

    def __init__(self, app: Callable, bound_host: str | None = None, allowed_hosts: Iterable[str] = ()):
        self.app = app
        self.hosts = allowed_names(bound_host, allowed_hosts)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        _body(environ)
        if not host_allowed(environ.get("HTTP_HOST"), self.hosts):
            return _refuse(environ, start_response, BAD_HOST, f"(Host: {environ.get('HTTP_HOST', '')!r})")
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api") or path == "/favicon.ico":
            body = b"Not Found: the sandbox does not serve moto's /moto-api"
            start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
            return [body]
        problem = signature_problem(environ)
        if problem is not None:
            return _refuse(environ, start_response, *problem)

        def without_cors(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
            return start_response(status, kept, exc_info) if exc_info else start_response(status, kept)

        return self.app(environ, without_cors)
