"""The Graph calls the setup runbooks share: JSON through msgraph-sdk's request adapter (its auth, retry and
redirect middleware), finding the AWS app, and waiting out Entra's replication after a create.

Writes go as plain JSON rather than typed models: a plan compares dicts, the beta claims policy has no v1.0 model,
and the body sent is then exactly the `after` the plan showed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from idbridge.clients.graph.paging import read_all
from idbridge.clients.graph.raw import get_json, odata_error_code, send_json
from idbridge.core.facts import AWS_GALLERY_TEMPLATE_ID, AWS_GALLERY_TEMPLATE_NAME

T = TypeVar("T")
SP_FIELDS = ("id,appId,displayName,applicationTemplateId,preferredSingleSignOnMode,loginUrl,replyUrls,"
             "preferredTokenSigningKeyThumbprint,keyCredentials,appRoles,notificationEmailAddresses")
APP_FIELDS = "id,appId,displayName,identifierUris,web"


def quote(value: str) -> str:
    """An OData string literal."""
    return "'" + value.replace("'", "''") + "'"


def beta(adapter, path: str) -> str:
    """An absolute /beta URL on the adapter's Graph host (the adapter is aimed at /v1.0)."""
    base = adapter.base_url.rstrip("/")
    root = base.rsplit("/", 1)[0] if base.endswith(("/v1.0", "/beta")) else base
    return f"{root}/beta/{path.lstrip('/')}"


async def get(adapter, path: str, **params: str) -> Any:
    return await get_json(adapter, path, params=params or None)


async def listing(adapter, path: str, **params: str) -> list[dict]:
    return await read_all(adapter, path, params=params or None)


async def post(adapter, path: str, body: Any = None) -> Any:
    return await send_json(adapter, "POST", path, body=body if body is not None else {})


async def patch(adapter, path: str, body: Any) -> Any:
    return await send_json(adapter, "PATCH", path, body=body)


async def put(adapter, path: str, body: Any) -> Any:
    return await send_json(adapter, "PUT", path, body=body)


async def delete(adapter, path: str) -> Any:
    return await send_json(adapter, "DELETE", path)


def status_of(exc: BaseException) -> int | None:
    return odata_error_code(exc)[0]


async def get_or_none(adapter, path: str, **params: str) -> Any:
    """A GET that answers None for 404 (an object that is not there yet)."""
    try:
        return await get(adapter, path, **params)
    except Exception as exc:
        if status_of(exc) == 404:
            return None
        raise


async def until_replicated(call: Callable[[], Awaitable[T]], *, attempts: int = 8, delay: float = 1.0) -> T:
    """Retry a call that answers 404 because a just-created object has not reached every Entra replica yet."""
    for attempt in range(attempts):
        try:
            return await call()
        except Exception as exc:
            if status_of(exc) != 404 or attempt == attempts - 1:
                raise
            await asyncio.sleep(delay * (attempt + 1))
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------------------------- the AWS app


class AppLookupError(Exception):
    pass


async def find_app(adapter, app_id: str | None, display_name: str) -> tuple[dict | None, dict | None]:
    """(service principal, application) of the AWS IAM Identity Center app, or (None, None) when the tenant has
    none yet. A given app_id must exist (a wrong id must not lead to a second app); several apps by the same name
    are an error, unless exactly one was made from the gallery template."""
    if app_id:
        found = await listing(adapter, "/servicePrincipals", **{"$filter": f"appId eq {quote(app_id)}",
                                                                "$select": SP_FIELDS})
        if not found:
            raise AppLookupError(f"no service principal with appId {app_id} (app.app_id in the parameters)")
    else:
        found = await listing(adapter, "/servicePrincipals", **{"$filter": f"displayName eq {quote(display_name)}",
                                                                "$select": SP_FIELDS})
        gallery = [sp for sp in found if sp.get("applicationTemplateId") == AWS_GALLERY_TEMPLATE_ID]
        found = gallery if len(gallery) == 1 else found
        if len(found) > 1:
            ids = ", ".join(sp.get("appId", "?") for sp in found)
            raise AppLookupError(f"{len(found)} apps are named {display_name!r} (appIds {ids}): set app.app_id")
    if not found:
        return None, None
    return found[0], await find_application(adapter, found[0]["appId"])


async def find_application(adapter, app_id: str) -> dict | None:
    found = await listing(adapter, "/applications", **{"$filter": f"appId eq {quote(app_id)}", "$select": APP_FIELDS})
    return found[0] if found else None


async def gallery_template(adapter) -> dict:
    """The "AWS IAM Identity Center" gallery template: by its documented id, else by its documented name."""
    template = await get_or_none(adapter, f"/applicationTemplates/{AWS_GALLERY_TEMPLATE_ID}")
    if template:
        return template
    found = await listing(adapter, "/applicationTemplates",
                          **{"$filter": f"displayName eq {quote(AWS_GALLERY_TEMPLATE_NAME)}"})
    if not found:
        raise AppLookupError(f"the gallery template {AWS_GALLERY_TEMPLATE_NAME!r} ({AWS_GALLERY_TEMPLATE_ID}) was "
                             "not found in this tenant's application gallery")
    return found[0]
