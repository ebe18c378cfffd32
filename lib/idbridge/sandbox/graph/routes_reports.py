"""Audit logs, reports and policies: /auditLogs/signIns, /auditLogs/provisioning,
/reports/authenticationMethods/userRegistrationDetails and /identity/conditionalAccess/policies."""

from __future__ import annotations

from typing import Any, Callable

from idbridge.sandbox.graph import odata
from idbridge.sandbox.graph import resources as R
from idbridge.sandbox.graph.core import Call, Router, collection, entity
from idbridge.sandbox.graph.resources import widened
from idbridge.sandbox.graph.store import GraphStore, Json

_VIEWS_KEPT = 16  # queries remembered per log; a client pages one or two at a time


def _remembered(store: GraphStore, log: list[Json], key: Any, compute: Callable[[], Any]) -> Any:
    """compute() once per (log, key) while the log is unchanged. Without this every page of a 100,000-sign-in
    walk re-filtered and re-sorted the whole log (100 pages x 100,000 items). The sign-in log is written only
    by seeding, and only appended to, so its identity and length say whether a remembered answer still holds."""
    stamp = (id(log), len(log))
    views = store.views
    if views.get(("stamp", id(log))) != stamp or len(views) > 2 * _VIEWS_KEPT:
        for old in [k for k in views if k[1] == id(log)]:
            del views[old]
        views[("stamp", id(log))] = stamp
    full = ("view", id(log), key)
    if full not in views:
        views[full] = compute()
    return views[full]


def sign_ins(call: Call) -> dict:
    items = call.store.sign_ins
    resource = odata.for_version(_remembered(call.store, items, "widened", lambda: widened(R.SIGN_IN, items)),
                                 call.version)
    q = call.query(resource)
    # Filter and order once per query; each page cuts its slice of the same list (as collection() would).
    chosen = _remembered(call.store, items, ("selected", q.raw.get("$filter"), q.orderby),
                         lambda: odata.selected(items, q, resource))
    return odata.page_body(chosen, q, resource, version=call.version,
                           context=odata.context_url(call.service_root, "auditLogs/signIns", q), page_url=call.url())


def sign_in(call: Call, oid: str) -> dict:
    item = next((s for s in call.store.sign_ins if s["id"] == oid.lower()), None)
    return entity(call, item, widened(R.SIGN_IN, call.store.sign_ins), "auditLogs/signIns", oid)


def provisioning(call: Call) -> dict:
    items = call.store.provisioning_logs  # kept oldest first; Graph serves newest first (default order)
    return collection(call, list(items), widened(R.PROVISIONING, items), "auditLogs/provisioning")


def registration_details(call: Call) -> dict:
    items = list(call.store.registration_details.values())
    return collection(call, items, R.REGISTRATION, "reports/authenticationMethods/userRegistrationDetails")


def registration_detail(call: Call, oid: str) -> dict:
    return entity(call, call.store.registration_details.get(oid.lower()), R.REGISTRATION,
                  "reports/authenticationMethods/userRegistrationDetails", oid)


def ca_policies(call: Call) -> dict:
    return collection(call, list(call.store.ca_policies.values()), R.CA_POLICY,
                      "identity/conditionalAccess/policies")


def ca_policy(call: Call, oid: str) -> dict:
    return entity(call, call.store.ca_policies.get(oid.lower()), R.CA_POLICY, "identity/conditionalAccess/policies",
                  oid)


def register(router: Router) -> None:
    router.add(r"/auditLogs/signIns", GET=sign_ins)
    router.add(r"/auditLogs/signIns/(?P<oid>[^/]+)", GET=sign_in)
    router.add(r"/auditLogs/provisioning", GET=provisioning)
    router.add(r"/reports/authenticationMethods/userRegistrationDetails", GET=registration_details)
    router.add(r"/reports/authenticationMethods/userRegistrationDetails/(?P<oid>[^/]+)", GET=registration_detail)
    router.add(r"/identity/conditionalAccess/policies", GET=ca_policies)
    router.add(r"/identity/conditionalAccess/policies/(?P<oid>[^/]+)", GET=ca_policy)
