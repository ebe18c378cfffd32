"""The check catalogue. Every module in this package (subpackages included) other than the framework ones holds
check units."""

from __future__ import annotations

import importlib
import pkgutil

from idbridge.checks.base import REGISTRY, Check

_FRAMEWORK = {"base", "runner", "docs", "common", "settings", "evaluate", "artifact"}


def load_all() -> dict[str, Check]:
    """Import every check module (in this package or a subpackage, e.g. rules/) so its units register; returns
    the registry."""
    for module in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        if not module.ispkg and module.name.rsplit(".", 1)[-1] not in _FRAMEWORK:
            importlib.import_module(module.name)
    return REGISTRY
