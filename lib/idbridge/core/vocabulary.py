"""The words idbridge writes in many places, defined once: finding severities (their order and colour), check
areas (their display names, and which of them each kind of run evaluates) and the strict base of every model read
from a file people write.

Imports nothing from idbridge, so that any module may import it.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

# --------------------------------------------------------------------------------------------- severities

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[str, ...] = get_args(Severity)  # worst first
SEVERITY_ORDER: dict[str, int] = {s: len(SEVERITIES) - 1 - i for i, s in enumerate(SEVERITIES)}  # critical 4 .. info 0
SEVERITY_COLOURS: dict[str, str] = {"critical": "#8b0000", "high": "#d9480f", "medium": "#f59f00", "low": "#74b816",
                                    "info": "#868e96"}  # figures (report/validation, history_report)
FailOn = Literal["critical", "high", "medium", "low", "never"]  # the least severity that fails a run, or never

# --------------------------------------------------------------------------------------------- check areas

AREAS: dict[str, str] = {"saml": "SAML trust", "provisioning": "Provisioning health",
                         "reconcile": "Reconciliation Entra ↔ Identity Center", "scim": "SCIM pitfalls",
                         "aws": "AWS configuration", "abac": "Attribute-based access (ABAC)",
                         "access": "Access risk"}  # area -> display name, report order
VALIDATION_AREAS: tuple[str, ...] = ("saml", "provisioning", "reconcile", "scim", "aws", "abac")  # validate, notebook 10
ACCESS_AREAS: tuple[str, ...] = ("access",)  # the access review (notebook 20)


# --------------------------------------------------------------------------------------------- input models


class StrictModel(BaseModel):
    """The base of every model read from a file people write (parameters, desired state, scenarios, faults):
    an unknown key is an error, so a misspelt setting is reported instead of silently ignored."""

    model_config = ConfigDict(extra="forbid")
