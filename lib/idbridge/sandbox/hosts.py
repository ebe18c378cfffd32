"""Which Host headers the sandbox's servers answer: loopback names only (and any the caller adds).

Both servers listen on 127.0.0.1, which a web page cannot reach cross-origin without CORS (the sandbox sends
none). A page can still reach them through DNS rebinding: its own name (evil.example) made to resolve to
127.0.0.1, so that the browser treats the sandbox as the page's own origin. Such requests carry the page's name
in the Host header; answering only loopback names refuses them.
"""

from __future__ import annotations

from collections.abc import Iterable

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})


def host_name(header: str) -> str:
    """'127.0.0.1:47801' -> '127.0.0.1'; '[::1]:80' -> '::1'; lower case, no trailing dot."""
    header = header.strip().lower()
    if header.startswith("["):
        name = header[1:].partition("]")[0]
    else:
        name = header.rpartition(":")[0] if header.count(":") == 1 else header
    return name.rstrip(".")


def allowed_names(bound_host: str | None = None, extra: Iterable[str] = ()) -> frozenset[str]:
    """Loopback names, the address the server is bound to (unless a wildcard), and `extra`."""
    names = set(LOOPBACK_NAMES) | {host_name(n) for n in extra}
    if bound_host and bound_host not in _WILDCARDS:
        names.add(host_name(bound_host))
    return frozenset(names)


def host_allowed(header: str | None, names: frozenset[str]) -> bool:
    return bool(header) and host_name(header) in names
