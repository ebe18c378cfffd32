"""The on-disk format of a recording, how a request is matched to a recorded one, and removal of secrets.

A recording is a folder (docs/recording.md):

    recording.json   manifest: {"format": "idbridge-recording", "version": 1, "created_at", "idbridge",
                     "pseudonymised", "graph_root", "parameters", "exchanges": {"graph": n, "aws": n}}
    graph.jsonl      one Microsoft Graph exchange a line:
                     {"seq", "method", "path", "query": [[name, value], ...], "body", "status", "content_type",
                      "response"}
    aws.jsonl        one AWS API call a line:
                     {"seq", "service", "operation", "protocol", "target", "region", "params", "status",
                      "content_type", "response"}

Paths and query values are stored decoded; JSON bodies parsed (else text). Graph URLs inside answers name
https://graph.microsoft.com whatever host was recorded (a replay puts its own in their place).

A request matches a recorded one on Graph by method, path, query (names and values) and body; on AWS by
operation and parameters. Time values are left out of the match (the collection window moves with the clock):
ISO date-times in Graph queries and bodies, and StartTime / EndTime of CloudTrail lookups.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from idbridge.core.files import write_text_atomic
from idbridge.errors import InputError

FORMAT = "idbridge-recording"
VERSION = 1
MANIFEST = "recording.json"
FILES = {"graph": "graph.jsonl", "aws": "aws.jsonl"}
GRAPH_ROOT = "https://graph.microsoft.com"
REDACTED = "[removed by idbridge]"

GRAPH_FIELDS = {"seq", "method", "path", "query", "body", "status", "content_type", "response"}
AWS_FIELDS = {"seq", "service", "operation", "protocol", "target", "region", "params", "status", "content_type",
              "response"}

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
AWS_TIME_PARAMS = ("StartTime", "EndTime")

# ------------------------------------------------------------------------------------------------ secrets

# Fields whose value is a credential wherever they appear (lower-cased names).
SECRET_FIELDS = {"access_token", "refresh_token", "id_token", "client_secret", "clientsecret", "secrettext",
                 "secretaccesskey", "sessiontoken", "accesskeyid", "password", "privatekey", "private_key",
                 "bearertoken", "secrettoken", "hint", "client_assertion", "samlassertion", "assertion"}
# {"key": "SecretToken", "value": "..."} pairs (Graph synchronization secrets): the value is the credential.
SECRET_PAIR_NAMES = {"secrettoken", "password", "clientsecret", "client_secret", "apitoken", "token"}
SECRET_TEXT = [
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),                      # JWTs
    re.compile(r"(?i)\bBearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"AWS4-HMAC-SHA256\s+Credential=[^\s\"']+(?:[\s,]+\w+=[^\s,\"']+)*"),            # SigV4 headers
    re.compile(r"(?i)X-Amz-(?:Signature|Credential|Security-Token)=[^&\s\"']+"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"\b(?:ASIA|AKIA)[A-Z0-9]{16}\b"),                                                 # AWS key ids
]


def remove_secrets(value: Any, values: list[str] = ()) -> Any:
    """`value` with every credential replaced by REDACTED: fields named like one, {"key": "SecretToken",
    "value": …} pairs, token / signature / private-key shapes inside text, and the given secret values."""
    if isinstance(value, dict):
        lowered = {str(k).lower(): k for k in value}
        pair = str(value.get(lowered.get("key", ""), value.get(lowered.get("name", ""), ""))).lower()
        out = {}
        for key, item in value.items():
            name = str(key).lower()
            if name in SECRET_FIELDS and item not in (None, "", []):
                out[key] = REDACTED
            elif name == "value" and pair in SECRET_PAIR_NAMES and item not in (None, ""):
                out[key] = REDACTED
            else:
                out[key] = remove_secrets(item, values)
        return out
    if isinstance(value, list):
        return [remove_secrets(item, values) for item in value]
    if isinstance(value, str):
        for pattern in SECRET_TEXT:
            value = pattern.sub(REDACTED, value)
        for secret in values:
            if secret and len(secret) >= 6:
                value = value.replace(secret, REDACTED)
        return value
    return value


# ------------------------------------------------------------------------------------------------ matching


def _untimed(text: str) -> str:
    return _TIME.sub("<time>", text)


def _canonical(value: Any) -> str:
    return _untimed(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False))


def graph_key(method: str, path: str, query: list[list[str]] | list[tuple[str, str]], body: Any) -> str:
    pairs = sorted(f"{name}={_untimed(value)}" for name, value in query)
    return f"{method.upper()} {path.rstrip('/') or '/'}?{'&'.join(pairs)} {_canonical(body)}"


def aws_key(operation: str, params: Any) -> str:
    if isinstance(params, dict):
        params = {k: v for k, v in params.items() if k not in AWS_TIME_PARAMS}
    return f"{operation} {_canonical(params)}"


def parse_body(data: bytes | str | None, content_type: str = "") -> Any:
    """JSON when it is JSON, else the text (None when empty)."""
    if data is None:
        return None
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if not text.strip():
        return None
    if "json" in content_type.lower() or text.lstrip()[:1] in "{[":
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


# ------------------------------------------------------------------------------------------------ writing


def write_recording(folder: str | Path, manifest: dict, graph: list[dict], aws: list[dict]) -> Path:
    """Write the recording into a new `folder`, whole or not at all: the files go into a hidden folder beside it,
    renamed into place at the end. An existing folder is never written into."""
    folder = Path(folder)
    if folder.exists():
        raise InputError(folder, "already exists; a recording is never written over (give a new folder)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = folder.with_name(f".{folder.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        for side, rows in (("graph", graph), ("aws", aws)):
            lines = [json.dumps(row, ensure_ascii=False, separators=(",", ":")) for row in rows]
            write_text_atomic(partial / FILES[side], "".join(line + "\n" for line in lines))
        document = {"format": FORMAT, "version": VERSION,
                    "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    **manifest, "files": FILES, "exchanges": {"graph": len(graph), "aws": len(aws)}}
        write_text_atomic(partial / MANIFEST, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        os.rename(partial, folder)  # fails rather than merge into a folder that appeared meanwhile
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return folder


# ------------------------------------------------------------------------------------------------ reading


class Recording:
    """A recording read back and checked: manifest, Graph exchanges and AWS calls (lists of dicts)."""

    def __init__(self, folder: Path, manifest: dict, graph: list[dict], aws: list[dict]):
        self.folder = folder
        self.manifest = manifest
        self.graph = graph
        self.aws = aws

    @property
    def parameters(self) -> dict:
        return self.manifest.get("parameters") or {}


def _read_lines(path: Path, required: set[str]) -> list[dict]:
    if not path.is_file():
        raise InputError(path, "missing: a recording holds recording.json, graph.jsonl and aws.jsonl")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise InputError(path, f"line {number}: not JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise InputError(path, f"line {number}: not a JSON object")
            missing = sorted(required - set(row))
            if missing:
                raise InputError(path, f"line {number}: missing {', '.join(missing)}")
            if not isinstance(row["status"], int) or not 100 <= row["status"] <= 599:
                raise InputError(path, f"line {number}: status: not an HTTP status ({row['status']!r})")
            rows.append(row)
    return rows


def read_recording(folder: str | Path) -> Recording:
    """Read and check a recording folder; InputError (exit 2) naming the file, line and key of a problem."""
    folder = Path(folder)
    if not folder.exists():
        raise InputError(folder, "no such folder (give a folder written by `idbridge collect --record`)")
    if not folder.is_dir():
        raise InputError(folder, "not a folder: a recording is a folder written by `idbridge collect --record`")
    path = folder / MANIFEST
    if not path.is_file():
        raise InputError(folder, f"not a recording: no {MANIFEST} (written by `idbridge collect --record`)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise InputError(path, f"format: expected {FORMAT!r}, found {found!r}")
    if manifest.get("version") != VERSION:
        raise InputError(path, f"version: this idbridge reads version {VERSION}, found {manifest.get('version')!r}")
    params = manifest.get("parameters")
    if not isinstance(params, dict) or not params.get("tenant_id"):
        raise InputError(path, "parameters.tenant_id: missing")
    graph = _read_lines(folder / FILES["graph"], GRAPH_FIELDS)
    aws = _read_lines(folder / FILES["aws"], AWS_FIELDS)
    return Recording(folder, manifest, graph, aws)
