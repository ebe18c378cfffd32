"""Graph's error responses: `{"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}}`.

Handlers raise GraphError; the app turns it into the JSON body with the request's ids filled in. The codes and
messages below are the ones Graph answers (see the report for which were checked against public sources).
"""

from __future__ import annotations


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def not_found(object_id: str) -> GraphError:
    return GraphError(404, "Request_ResourceNotFound",
                      f"Resource '{object_id}' does not exist or one of its queried reference-property objects "
                      "are not present.")


def bad_request(message: str, code: str = "BadRequest") -> GraphError:
    return GraphError(400, code, message)


def unsupported_query(message: str = "Unsupported Query.") -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", message)


# ASP.NET OData's AllowedQueryOptions names, which Graph's "not allowed" message uses.
_OPTION_NAMES = {"$orderby": "OrderBy", "$skiptoken": "SkipToken"}


def option_not_allowed(option: str) -> GraphError:
    """A query option the endpoint does not take ($select on /auditLogs/signIns, $top on userRegistrationDetails):
    the message Graph answers for it (as quoted in microsoftgraph/microsoft-graph-devx-api#1250 and
    msgraph-sdk-powershell#1251)."""
    name = _OPTION_NAMES.get(option.lower(), option.lstrip("$")[:1].upper() + option.lstrip("$")[1:].lower())
    return GraphError(400, "BadRequest", f"Query option '{name}' is not allowed. To allow it, set the "
                                         "'AllowedQueryOptions' property on EnableQueryAttribute or "
                                         "QueryValidationSettings.")


def invalid_filter_clause() -> GraphError:
    """What the audit-log endpoints answer for a $filter they do not support."""
    return GraphError(400, "BadRequest", "Invalid filter clause")


def no_segment(segment: str) -> GraphError:
    """What Graph answers for a path it has no route for."""
    return GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


def method_not_allowed(method: str) -> GraphError:
    return GraphError(405, "Request_BadRequest", f"Specified HTTP method '{method}' is not allowed for the request "
                                                 "target.")


def unauthenticated(message: str) -> GraphError:
    return GraphError(401, "InvalidAuthenticationToken", message, {
        "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
                            'authorize", client_id="00000003-0000-0000-c000-000000000000"'})


def denied() -> GraphError:
    return GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


def unlicensed() -> GraphError:
    return GraphError(403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                      "Neither tenant is B2C or tenant doesn't have premium license")


def throttled(retry_after: int) -> GraphError:
    return GraphError(429, "TooManyRequests", "Please retry again later.",
                      {"Retry-After": str(retry_after)})


def unavailable(retry_after: int) -> GraphError:
    return GraphError(503, "serviceNotAvailable", "The service is temporarily unavailable. Please retry later.",
                      {"Retry-After": str(retry_after)})


def expired_page_token() -> GraphError:
    return GraphError(400, "Directory_ExpiredPageToken",
                      "The specified page token value has expired and can no longer be included in your request.")


def error_body(error: GraphError, request_id: str, client_request_id: str, date: str) -> dict:
    body = {"code": error.code, "message": error.message,
            "innerError": {"date": date, "request-id": request_id, "client-request-id": client_request_id}}
    if error.status == 429:  # Graph's throttling answer also carries the status inside innerError
        body["innerError"].update({"code": "429", "message": "Please retry after", "status": "429"})
    return {"error": body}
