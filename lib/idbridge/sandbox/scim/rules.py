"""The rules AWS IAM Identity Center's SCIM endpoint applies to the users and groups it is sent, with AWS's texts.

Pure functions over SCIM (RFC 7643) resources: no store, no clock. scim_endpoint.py calls them before it writes.

Where the texts come from (shared reference §1c, AWS "Logging IAM Identity Center SCIM API calls with CloudTrail",
AWS SCIM developer guide CreateUser/PutUser constraints, AWS troubleshooting):
- required attributes: "Value at 'name.givenName' failed to satisfy constraint: Member must have length greater
  than or equal to 1", inside AWS's "N validation errors detected: a; b" wrapper (CloudTrail examples);
- an empty string fails the length *and* the pattern constraint (AWS's "2 validation errors detected" example);
- list limits: "List attribute emails exceeds allowed limit of 1";
- duplicates: CloudTrail "Duplicate GroupDisplayName" (documented) and, by the same pattern, "Duplicate UserName",
  "Duplicate Email", "Duplicate ExternalId" (the identitystore API's wording); the IdP is told
  "Refused to create a new, duplicate resource".
Sandbox wordings (AWS documents the rule but not its message) are marked as such below.

What the HTTP body says versus what CloudTrail says: AWS answers constraint violations on a value (length,
pattern) with the constraint text as `detail`, so Entra's log shows it; requests its parser refuses (more than one
email, groups in createUser, bad JSON) get the generic "Request is unparsable, syntactically incorrect, or violates
schema." and the specific reason only reaches CloudTrail's errorMessage. That split is what AWS's troubleshooting
page describes ("you might see 'Request is unparsable…' from your IdP… detailed messages in CloudTrail").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

UNPARSABLE = "Request is unparsable, syntactically incorrect, or violates schema."
DUPLICATE = "Refused to create a new, duplicate resource"
UNAUTHORIZED = "Authorization header is invalid or missing."  # AWS developer guide, UnauthorizedException
NOT_FOUND = "Specified resource (e.g., User) or endpoint does not exist."  # RFC 7644 §3.12 wording
INVALID_JSON = "Invalid JSON from RequestBody"  # AWS CloudTrail "common validation errors" list
MISSING_PATH = "Missing path in PATCH request"  # AWS CloudTrail example (PatchGroup, op REMOVE)
GROUPS_IN_CREATE = "The groups field cannot be specified with the createUser request"  # AWS constraint wording
EMAIL_NOT_PRIMARY = "The emails attribute value must be marked as primary"  # AWS constraint wording
NESTED_GROUP = "IAM Identity Center doesn't support nested groups: a group member must be a user"  # sandbox
MEMBER_MISSING = "Member does not exist"  # same wording as the identity store's own refusal

# The pattern AWS quotes for name-like attributes. It is what AWS prints; the characters IdC refuses in practice
# (Microsoft's AWS tutorial: tab, CR, LF and " < > | ; : %) are checked below and reported with this text.
NAME_PATTERN = r"[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r ]+"
FORBIDDEN_CHARACTERS = frozenset('\t\n\r"<>|;:%')

REQUIRED_USER_PATHS = ("userName", "displayName", "name.givenName", "name.familyName")
LIST_LIMITED = ("emails", "phoneNumbers", "addresses", "roles")
NOT_CHECKED_FOR_CHARACTERS = frozenset({"schemas", "id", "meta", "externalId", "active", "members"})


@dataclass(frozen=True)
class Violation:
    """One refusal: the HTTP answer (status, detail, scimType) and the CloudTrail record (error_code, message)."""

    status: int
    error_code: str
    message: str
    detail: str
    scim_type: str | None = None


def validation(message: str, *, detail: str | None = None, scim_type: str | None = "invalidValue") -> Violation:
    return Violation(400, "ValidationException", message, detail or message, scim_type)


def unparsable(message: str) -> Violation:
    return Violation(400, "ValidationException", message, UNPARSABLE, "invalidSyntax")


def duplicate(what: str) -> Violation:
    return Violation(409, "ConflictException", f"Duplicate {what}", DUPLICATE, "uniqueness")


def not_found() -> Violation:
    return Violation(404, "ResourceNotFoundException", NOT_FOUND, NOT_FOUND, None)


def unauthorized() -> Violation:
    return Violation(401, "UnauthorizedException", UNAUTHORIZED, UNAUTHORIZED, None)


# --------------------------------------------------------------------------------------------- helpers


def value_at(resource: dict, path: str) -> Any:
    """'name.givenName' -> resource['name']['givenName']; None when any step is missing."""
    node: Any = resource
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def length_error(path: str) -> str:
    return f"Value at '{path}' failed to satisfy constraint: Member must have length greater than or equal to 1"


def pattern_error(path: str) -> str:
    return f"Value at '{path}' failed to satisfy constraint: Member must satisfy regular expression pattern: " \
           f"{NAME_PATTERN}"


def wrap(errors: list[str]) -> str:
    # AWS writes "errors" even for one ("1 validation errors detected: …" in its CloudTrail list).
    return f"{len(errors)} validation errors detected: " + "; ".join(errors)


def _string_leaves(resource: dict):
    """(path, string) for every string of a resource; list items are named by their attribute, not their index,
    and the enterprise extension by its URN, as AWS's messages name them."""
    for key, value in resource.items():
        if key in NOT_CHECKED_FOR_CHARACTERS:
            continue
        kind = type(value)
        if kind is str:
            yield key, value
        elif kind is dict:
            for sub, item in value.items():
                if type(item) is str:
                    yield f"{key}.{sub}", item
                elif type(item) is dict:  # e.g. the enterprise manager {value}
                    yield from ((f"{key}.{sub}.{k}", v) for k, v in item.items() if type(v) is str)
        elif kind is list:
            for entry in value:
                if type(entry) is dict:
                    yield from ((f"{key}.{k}", v) for k, v in entry.items() if type(v) is str)
                elif type(entry) is str:
                    yield key, entry


_FORBIDDEN = re.compile('[' + re.escape("".join(sorted(FORBIDDEN_CHARACTERS))) + ']')


def _constraint_errors(resource: dict, required: tuple[str, ...]) -> list[str]:
    errors: list[str] = []
    for path in required:
        value = value_at(resource, path)
        if value is None:
            errors.append(length_error(path))
        elif isinstance(value, str) and value == "":
            errors += [length_error(path), pattern_error(path)]
    leaves = list(_string_leaves(resource))
    if _FORBIDDEN.search("\x00".join(text for _, text in leaves)):  # one search; paths only when it hits
        errors += [pattern_error(path) for path, text in leaves if _FORBIDDEN.search(text)]
    return errors


# --------------------------------------------------------------------------------------------- users


def check_user(resource: Any, *, creating: bool = True) -> Violation | None:
    """The first refusal AWS would give this user resource (POST or the result of a PUT/PATCH), else None.

    Parser-level refusals come first (AWS never reaches value constraints for a request it cannot map)."""
    if not isinstance(resource, dict):
        return unparsable(INVALID_JSON)
    if creating and resource.get("groups"):
        return unparsable(GROUPS_IN_CREATE)
    for attribute in LIST_LIMITED:
        values = resource.get(attribute)
        if values is not None and not isinstance(values, list):
            return unparsable(INVALID_JSON)
        if values and len(values) > 1:
            return unparsable(f"List attribute {attribute} exceeds allowed limit of 1")
    emails = resource.get("emails") or []
    if emails and not _truthy(emails[0].get("primary")):
        return unparsable(EMAIL_NOT_PRIMARY)
    errors = _constraint_errors(resource, REQUIRED_USER_PATHS)
    if errors:
        return validation(wrap(errors))
    return None


def _truthy(value: Any) -> bool:
    # Entra sends booleans in POST bodies and "True"/"False" strings in PATCH values.
    return value is True or (isinstance(value, str) and value.lower() == "true")


# --------------------------------------------------------------------------------------------- groups


def check_group(resource: Any) -> Violation | None:
    if not isinstance(resource, dict):
        return unparsable(INVALID_JSON)
    errors = _constraint_errors({k: v for k, v in resource.items() if k != "members"}, ("displayName",))
    return validation(wrap(errors)) if errors else None


# --------------------------------------------------------------------------------------------- error body


def error_body(violation: Violation, *, request_id: str, timestamp: str) -> dict:
    """The body AWS answers with. It carries both "schema" and "schemas" (AWS's own quirk, seen on the wire) and
    the string status; exceptionRequestId / timeStamp as AWS adds them."""
    body = {"schema": [ERROR_SCHEMA], "schemas": [ERROR_SCHEMA], "detail": violation.detail,
            "status": str(violation.status)}
    if violation.scim_type:
        body["scimType"] = violation.scim_type
    body["exceptionRequestId"] = request_id
    body["timeStamp"] = timestamp
    return body
