"""Audit logs, reports and policies: /auditLogs/signIns, /auditLogs/provisioning,
/reports/authenticationMethods/userRegistrationDetails and /identity/conditionalAccess/policies."""

from __future__ import annotations

from idbridge.sandbox.graph import resources as R
from idbridge.sandbox.graph.core import Call, Router, collection, entity
from idbridge.sandbox.graph.resources import widened


def sign_ins(call: Call) -> dict:
    items = call.store.sign_ins
    return collection(call, list(items), widened(R.SIGN_IN, items), "auditLogs/signIns")


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
