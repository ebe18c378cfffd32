"""The check catalogue: the framework here, the check units in rules/ (every module of this package or a
subpackage other than the framework ones is loaded as units).

    base.py      the @check decorator, Hit, Finding, NotApplicable, the registry
    runner.py    run the registered checks on a snapshot's tables: one outcome per check
    evaluate.py  evaluate a snapshot once; decide(): the one verdict and exit code of every command and report
    artifact.py  findings.json / findings.csv / checks.csv of a run, written once and read by everything after
    accepted.py  accepted exceptions (the engagement's exceptions file): findings accepted until a date
    controls.py  the control frameworks (NIST SP 800-53, ISO/IEC 27001, CIS) and the controls checks map to
    common.py    small helpers the units share (dates, text)
    docs.py      docs/checks.md from the units' metadata
    settings.py  check settings from the engagement parameters
    rules/       the units, one module per area
"""

from __future__ import annotations

import importlib
import pkgutil

from idbridge.checks.base import REGISTRY, Check

_FRAMEWORK = {"base", "runner", "docs", "common", "settings", "evaluate", "artifact", "controls", "accepted"}


def load_all() -> dict[str, Check]:
    """Import every check module (in this package or a subpackage, e.g. rules/) so its units register; returns
    the registry."""
    for module in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        if not module.ispkg and module.name.rsplit(".", 1)[-1] not in _FRAMEWORK:
            importlib.import_module(module.name)
    return REGISTRY
