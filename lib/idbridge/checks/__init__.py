"""The check catalogue. Every module in this package other than the framework ones holds check units."""

from __future__ import annotations

import importlib
import pkgutil

from idbridge.checks.base import REGISTRY, Check

_FRAMEWORK = {"base", "runner", "docs", "common", "settings", "evaluate", "artifact"}


def load_all() -> dict[str, Check]:
    """Import every check module so its units register; returns the registry."""
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _FRAMEWORK:
            importlib.import_module(f"{__name__}.{module.name}")
    return REGISTRY
