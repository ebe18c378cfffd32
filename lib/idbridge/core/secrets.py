"""Secrets: one grammar for references, one resolver registry by scheme, and redaction.

A file of idbridge (parameters, desired state) never holds a secret value, only a reference `SCHEME:REST`:

    env:NAME                                        an environment variable (built in)
    secretsmanager:arn:aws:secretsmanager:…:secret:…  AWS Secrets Manager, read with the engagement's AWS identity
                                                    (the resolver is registered by idbridge.clients.factory)
    keyvault:https://VAULT.vault.azure.net/secrets/NAME[/VERSION]
                                                    Azure Key Vault (built in; needs azure-keyvault-secrets)
    sandbox:NAME                                    a fixed, public value of the sandbox (built in): lets the
                                                    demo and tests work with nothing to set; the parameters
                                                    refuse it unless `sandbox: true`

`resolve(reference, file=, key=, aws=)` turns a reference into its value at run time; the value is never written
anywhere, and every error names the file, the key and the reference, never a value. Backends register by scheme
(`register`), as papermill's I/O handlers do; an optional backend fails with an actionable message only when used.

A value that has to travel (a SCIM token sent to Graph) is a `Secret`, whose repr is ***. As the last line of
defence the values a run resolved are searched for in what it wrote: `redact_text`, `scrub_file`, `files_holding`.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idbridge.errors import InputError

log = logging.getLogger(__name__)

REDACTED = "***"
MIN_SCRUB_LENGTH = 6  # shorter values would match ordinary text: a file holding one is reported, not redacted

# ---------------------------------------------------------------------------------------------------- grammar

# The form of what follows each scheme's colon. A string is a reference when it starts with a known scheme.
FORMS: dict[str, str] = {
    "env": r"[A-Za-z_][A-Za-z0-9_]*",
    "keyvault": r"https://[\w.-]+/secrets/[\w-]+(?:/[\w-]+)?",
    "secretsmanager": r"arn:aws[a-z-]*:secretsmanager:[\w-]+:\d{12}:secret:.+",
    "sandbox": r"[a-z][a-z0-9-]*",
}
EXAMPLES: dict[str, str] = {
    "env": "env:NAME",
    "keyvault": "keyvault:https://VAULT.vault.azure.net/secrets/NAME",
    "secretsmanager": "secretsmanager:ARN",
    "sandbox": "sandbox:NAME",
}
SANDBOX = "sandbox"  # the scheme of the sandbox's public values: not offered to users in messages
_SCHEME = re.compile(r"^(?P<scheme>[a-z][a-z0-9]*):(?P<rest>.*)$", re.S)
# A reference under a key like these holds a secret (a SCIM endpoint is referenced too, but is no secret to scrub).
SECRET_KEY = re.compile(r"token|password|secret|credential|key", re.IGNORECASE)


@dataclass(frozen=True)
class Reference:
    scheme: str
    rest: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.rest}"


def _split(value: object) -> Reference | None:
    match = _SCHEME.match(value) if isinstance(value, str) else None
    return Reference(match["scheme"], match["rest"]) if match and match["scheme"] in FORMS else None


def is_reference(value: object) -> bool:
    """True for a string that starts with a known scheme (well-formed or not)."""
    return _split(value) is not None


def _forms() -> str:
    return ", ".join(EXAMPLES.get(s, f"{s}:…") for s in FORMS if s != SANDBOX)


def problem(value: str) -> str | None:
    """Why `value` is not a well-formed secret reference, in words; None when it is one."""
    ref = _split(value)
    if ref is None:
        return f"must be a secret reference ({_forms()}), never the secret itself"
    if not re.fullmatch(FORMS[ref.scheme], ref.rest):
        # Never the value: what follows the colon may be the secret itself.
        return f"{ref.scheme}: reference is malformed (expected {EXAMPLES.get(ref.scheme, ref.scheme)})"
    return None


def check(value: str | None) -> str | None:
    """A pydantic validator's body: the value when it is a well-formed reference (or None), else ValueError."""
    if value is not None:
        why = problem(value)
        if why:
            raise ValueError(why)
    return value


def _where(key: str | None) -> str:
    return f"{key}: " if key else ""


def parse(value: str, *, file: str = "parameters", key: str | None = None) -> Reference:
    """The scheme and the rest of a reference; InputError naming the file and key when it is not one."""
    why = problem(value)
    if why:
        raise InputError(file, f"{_where(key)}{why}")
    return _split(value)


# ---------------------------------------------------------------------------------------------------- resolvers


@dataclass(frozen=True)
class Context:
    """What a resolver may need besides the reference: where it was written (for messages) and the engagement's
    AWS parameters (`aws`: an AwsParams, for secretsmanager:)."""

    file: str = "parameters"
    key: str | None = None
    aws: Any = None

    def error(self, ref: Reference | str, message: str) -> InputError:
        return InputError(self.file, f"{_where(self.key)}secret reference {ref}: {message}")


Resolver = Callable[[Reference, Context], str]
_RESOLVERS: dict[str, Resolver] = {}
# Schemes whose resolver registers itself when its module is imported (a client the core does not depend on).
_PROVIDERS: dict[str, str] = {"secretsmanager": "idbridge.clients.factory"}


def register(scheme: str, resolver: Resolver, *, form: str | None = None, example: str | None = None) -> None:
    """Resolve `scheme:` references with `resolver(reference, context) -> value`. A new scheme needs the `form`
    (regular expression) of what follows its colon."""
    if scheme not in FORMS:
        if form is None:
            raise ValueError(f"secret reference scheme {scheme!r} is new: give the form of its references")
        FORMS[scheme] = form
        EXAMPLES[scheme] = example or f"{scheme}:…"
    _RESOLVERS[scheme] = resolver


def resolve(reference: str, *, file: str = "parameters", key: str | None = None, aws: Any = None) -> str:
    """The value a reference points at, read now. Errors (InputError) name the file, the key and the reference."""
    ref = parse(reference, file=file, key=key)
    context = Context(file=str(file), key=key, aws=aws)
    if ref.scheme not in _RESOLVERS and ref.scheme in _PROVIDERS:
        importlib.import_module(_PROVIDERS[ref.scheme])
    resolver = _RESOLVERS.get(ref.scheme)
    if resolver is None:
        raise context.error(ref, f"no resolver for {ref.scheme}: references (known: {', '.join(sorted(_RESOLVERS))})")
    return resolver(ref, context)


def _from_env(ref: Reference, context: Context) -> str:
    value = os.environ.get(ref.rest)
    if value is None:
        raise context.error(ref, f"environment variable {ref.rest} is not set")
    return value


def _from_key_vault(ref: Reference, context: Context) -> str:
    try:
        from azure.keyvault.secrets import SecretClient
    except ImportError:
        raise context.error(ref, "Key Vault references need the azure-keyvault-secrets package "
                                 "(pip install azure-keyvault-secrets)") from None
    from azure.identity import DefaultAzureCredential

    vault, _, name = ref.rest.partition("/secrets/")
    try:
        return SecretClient(vault, DefaultAzureCredential()).get_secret(name.split("/")[0]).value
    except Exception as exc:  # say which reference failed, never the value
        raise context.error(ref, f"cannot be read: {exc}") from None


def _from_sandbox(ref: Reference, context: Context) -> str:
    """Not a secret: the same public value on every machine, so packs the sandbox signed verify anywhere."""
    return f"idbridge-sandbox-{ref.rest}-not-a-secret"


register("env", _from_env)
register("keyvault", _from_key_vault)
register(SANDBOX, _from_sandbox)

# ---------------------------------------------------------------------------------------------------- documents


def references_in(document: Any, key: str = "") -> list[tuple[str, str]]:
    """(key path, reference) of every secret reference in a parsed document (dicts, lists, scalars), e.g.
    ("graph.certificate_password", "env:GRAPH_CERT_PASSWORD")."""
    if isinstance(document, dict):
        return [r for k, v in document.items() for r in references_in(v, f"{key}.{k}" if key else str(k))]
    if isinstance(document, list):
        return [r for v in document for r in references_in(v, key)]
    return [(key, document)] if is_reference(document) else []


def is_secret_key(key: str) -> bool:
    """Does a reference under this key (path) hold a secret, rather than e.g. an endpoint?"""
    return bool(SECRET_KEY.search(key.rsplit(".", 1)[-1]))


def values_to_scrub(document: Any, *, file: str = "parameters", input_files: Iterable[str | Path] = ()) -> list[str]:
    """Resolve every env: reference of a parameters document now (a missing variable is bad input before
    anything runs) and return the values of the secret ones (by key), which a run folder is scrubbed of; plus
    those of other input files (a desired state's SCIM token, resolved where it is used; a file that cannot be
    read or parsed is bad input, InputError). Other schemes are resolved where they are used."""
    values = []
    for key, reference in references_in(document):
        if reference.startswith("env:"):
            value = resolve(reference, file=file, key=key)
            if is_secret_key(key):
                values.append(value)
        else:
            log.info("%s: %s reference, resolved where it is used", key, reference.split(":", 1)[0])
    from idbridge.core.yamlfile import read_yaml

    for path in input_files:
        # Read within the bounds of every YAML input (an alias bomb is refused, InputError: exit 2, before the
        # walk below could expand it); a file that is not valid YAML is bad input before anything runs, too.
        other = read_yaml(path).data
        values += [os.environ[ref[4:]] for key, ref in references_in(other)
                   if ref.startswith("env:") and is_secret_key(key) and os.environ.get(ref[4:])]
    return list(dict.fromkeys(values))


# ---------------------------------------------------------------------------------------------------- redaction


class Secret(str):
    """A value that may be sent to a cloud but never shown or logged (e.g. a SCIM token)."""

    def __repr__(self) -> str:
        return f"Secret('{REDACTED}')"


def redact(value: Any) -> Any:
    """Values fit for a plan table or a change log: every Secret inside replaced by ***."""
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


def redact_text(text: str, secrets: list[str]) -> str:
    for value in secrets:
        if len(value) >= MIN_SCRUB_LENGTH:
            text = text.replace(value, REDACTED)
    return text


def redact_file_text(text: str, secrets: list[str]) -> tuple[str, bool]:
    """`text` of a file with every secret value redacted, as given or JSON-escaped (a notebook is JSON), and
    whether anything was."""
    forms = {form for value in secrets if len(value) >= MIN_SCRUB_LENGTH
             for form in (value, json.dumps(value)[1:-1])}
    found = [form for form in forms if form in text]
    for form in found:
        text = text.replace(form, REDACTED)
    return text, bool(found)


def scrub_file(path: Path, secrets: list[str]) -> bool:
    """Redact secret values in a text file (rewritten atomically). True when something was redacted, which is
    logged: it means some code printed a secret."""
    from idbridge.core.files import write_text_atomic

    if not secrets:
        return False
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return False
    text, redacted = redact_file_text(text, secrets)
    if not redacted:
        return False
    write_text_atomic(path, text)
    log.warning("%s held a secret value: redacted", path)
    return True


def files_holding(folder: Path, secrets: list[str]) -> list[Path]:
    """Every file under folder whose bytes contain one of the values (as given or JSON-escaped)."""
    needles = [form.encode() for value in secrets if value
               for form in {value, json.dumps(value)[1:-1]}]
    if not needles:
        return []
    return [path for path in sorted(folder.rglob("*")) if path.is_file()
            and any(needle in path.read_bytes() for needle in needles)]
