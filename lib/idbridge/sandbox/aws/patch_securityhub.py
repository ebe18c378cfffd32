"""Patch to moto 5.2.5's Security Hub. Installed once by patches.apply_patches().

Gap: moto's GetFindings ignores `Filters` (its docstring: "not yet implemented") and returns every finding of the
account, so a caller that filters on ProductArn / GeneratorId would see other products' findings as its own.
The patch applies the API reference's string filters (AwsSecurityFindingFilters, StringFilter) to the finding's
top-level string attributes: values of positive comparisons (EQUALS, PREFIX, CONTAINS) are alternatives, negative
ones (NOT_EQUALS, PREFIX_NOT_EQUALS, NOT_CONTAINS) must all hold, and different attributes must all match. A
filter on anything else is refused rather than silently ignored.
"""

from __future__ import annotations

from typing import Any

from moto.securityhub.exceptions import InvalidInputException
from moto.securityhub.models import SecurityHubBackend
from moto.utilities.paginator import paginate

POSITIVE = {"EQUALS": lambda v, x: v == x, "PREFIX": lambda v, x: v.startswith(x),
            "CONTAINS": lambda v, x: x in v}
NEGATIVE = {"NOT_EQUALS": lambda v, x: v != x, "PREFIX_NOT_EQUALS": lambda v, x: not v.startswith(x),
            "NOT_CONTAINS": lambda v, x: x not in v}


def _matches(finding: dict[str, Any], filters: dict[str, list[dict[str, str]]]) -> bool:
    for attribute, conditions in filters.items():
        value = finding.get(attribute)
        if value is None:
            value = "ACTIVE" if attribute == "RecordState" else ""  # an import without it is active
        positive = [c for c in conditions if c.get("Comparison") in POSITIVE]
        negative = [c for c in conditions if c.get("Comparison") in NEGATIVE]
        if positive and not any(POSITIVE[c["Comparison"]](value, c["Value"]) for c in positive):
            return False
        if not all(NEGATIVE[c["Comparison"]](value, c["Value"]) for c in negative):
            return False
    return True


def _check(filters: dict[str, Any]) -> None:
    for attribute, conditions in filters.items():
        for condition in conditions or []:
            if not isinstance(condition, dict) or set(condition) - {"Value", "Comparison"} \
                    or condition.get("Comparison") not in {**POSITIVE, **NEGATIVE}:
                raise InvalidInputException(op="GetFindings", msg=f"the sandbox filters only on string attributes "
                                            f"(StringFilter); cannot apply the filter on {attribute}")


@paginate(pagination_model=SecurityHubBackend.PAGINATION_MODEL)
def get_findings(self: SecurityHubBackend, filters: dict[str, Any] | None = None,
                 sort_criteria: list[dict[str, str]] | None = None, max_results: int | None = None) -> list[dict]:
    if max_results is not None and not 1 <= int(max_results) <= 100:
        raise InvalidInputException(op="GetFindings", msg="MaxResults must be a number between 1 and 100")
    filters = filters or {}
    _check(filters)
    return [f.as_dict() for f in self.findings if _matches(f.as_dict(), filters)]


def install() -> list[str]:
    SecurityHubBackend.get_findings = get_findings  # type: ignore[method-assign]
    return ["SecurityHubBackend.get_findings"]
