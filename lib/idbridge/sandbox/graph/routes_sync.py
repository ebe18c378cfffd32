"""/servicePrincipals/{id}/synchronization: templates, jobs (create, read, delete, schema), credentials and the
control actions. Start / restart / provisionOnDemand / validateCredentials call the provisioning engine
(idbridge.sandbox.provisioning, written separately), imported when first needed."""

from __future__ import annotations

from idbridge.sandbox import derived
from idbridge.sandbox.graph import errors, resources as R
from idbridge.sandbox.graph import sync_shapes as sync
from idbridge.sandbox.graph.core import Call, Result, Router, collection
from idbridge.sandbox.graph.errors import GraphError
from idbridge.sandbox.graph.routes_apps import _SP, find_sp
from idbridge.sandbox.graph.store import Json
from idbridge.sandbox.scenario import stable_id

_SYNC = _SP + r"/synchronization"
_JOB = _SYNC + r"/jobs/(?P<job_id>[^/]+)"


def _engine():
    try:
        from idbridge.sandbox import provisioning
    except ImportError as exc:  # the engine is another part of the sandbox; say so instead of a 500
        raise GraphError(501, "NotImplemented", f"The sandbox's provisioning engine is not available: {exc}") from None
    return provisioning


def _job(call: Call, oid: str | None, app_id: str | None, job_id: str) -> tuple[Json, Json]:
    sp = find_sp(call, oid, app_id)
    job = call.store.sync_jobs.get(sp["id"], {}).get(job_id)
    if job is None:
        raise errors.not_found(job_id)
    return sp, job


def _supports_aws_sync(sp: Json) -> bool:
    return sp.get("applicationTemplateId") == derived.AWS_GALLERY_TEMPLATE_ID


def list_templates(call: Call, oid: str | None = None, app_id: str | None = None) -> Json:
    sp = find_sp(call, oid, app_id)
    items = [sync.template(sp["id"], sp["appId"])] if _supports_aws_sync(sp) else []
    return collection(call, items, R.SYNC_TEMPLATE, f"servicePrincipals('{sp['id']}')/synchronization/templates")


def template_schema(call: Call, template_id: str, oid: str | None = None, app_id: str | None = None) -> Json:
    sp = find_sp(call, oid, app_id)
    if template_id != derived.AWS_SYNC_TEMPLATE_ID or not _supports_aws_sync(sp):
        raise errors.not_found(template_id)
    return {"@odata.context": f"{call.service_root}/$metadata#servicePrincipals('{sp['id']}')/synchronization/"
                              f"templates('{template_id}')/schema/$entity", **sync.schema(template_id)}


def list_jobs(call: Call, oid: str | None = None, app_id: str | None = None) -> Json:
    sp = find_sp(call, oid, app_id)
    items = list(call.store.sync_jobs.get(sp["id"], {}).values())
    return collection(call, items, R.SYNC_JOB, f"servicePrincipals('{sp['id']}')/synchronization/jobs")


def create_job(call: Call, oid: str | None = None, app_id: str | None = None) -> Result:
    sp = find_sp(call, oid, app_id)
    template_id = call.json_body().get("templateId")
    if template_id != derived.AWS_SYNC_TEMPLATE_ID or not _supports_aws_sync(sp):
        raise errors.bad_request(f"The template '{template_id}' was not found for this application.",
                                 "Request_BadRequest")
    jobs = call.store.sync_jobs.setdefault(sp["id"], {})
    if any(j["templateId"] == template_id for j in jobs.values()):
        raise GraphError(409, "Conflict", f"A synchronization job based on template '{template_id}' already exists "
                                          "for this application.")
    tid = call.store.tenant["id"].replace("-", "")
    guid = stable_id(call.store.tenant["id"], "sync-job", sp["id"], str(len(call.store.sync_schemas)))
    job_id = f"{template_id}.{tid}.{guid}"  # Graph's form: template . tenant id without dashes . GUID
    has_secrets = bool(call.store.sync_secrets.get(sp["id"]))
    job = sync.job(job_id, sync.empty_status("NotRun" if has_secrets else "NotConfigured"), "Disabled")
    jobs[job_id] = job
    call.store.sync_schemas[job_id] = sync.schema(job_id)
    return Result(201, {"@odata.context": f"{call.service_root}/$metadata#servicePrincipals('{sp['id']}')/"
                                          "synchronization/jobs/$entity", **job})


def get_job(call: Call, job_id: str, oid: str | None = None, app_id: str | None = None) -> Json:
    sp, job = _job(call, oid, app_id, job_id)
    return {"@odata.context": f"{call.service_root}/$metadata#servicePrincipals('{sp['id']}')/synchronization/"
                              "jobs/$entity", **job}


def delete_job(call: Call, job_id: str, oid: str | None = None, app_id: str | None = None) -> Result:
    sp, _ = _job(call, oid, app_id, job_id)
    del call.store.sync_jobs[sp["id"]][job_id]
    call.store.sync_schemas.pop(job_id, None)
    return Result(204)


def get_schema(call: Call, job_id: str, oid: str | None = None, app_id: str | None = None) -> Json:
    sp, _ = _job(call, oid, app_id, job_id)
    return {"@odata.context": f"{call.service_root}/$metadata#servicePrincipals('{sp['id']}')/synchronization/"
                              f"jobs('{job_id}')/schema/$entity", **call.store.sync_schemas[job_id]}


def put_schema(call: Call, job_id: str, oid: str | None = None, app_id: str | None = None) -> Result:
    _job(call, oid, app_id, job_id)
    body = {k: v for k, v in call.json_body().items() if not k.startswith("@odata")}
    if not isinstance(body.get("synchronizationRules"), list):
        raise errors.bad_request("The schema needs synchronizationRules.", "Request_BadRequest")
    call.store.sync_schemas[job_id] = {"id": job_id, **body}
    return Result(204)


def _credentials(call: Call, sp: Json, body: dict) -> dict[str, str]:
    saved = {s["key"]: s["value"] for s in call.store.sync_secrets.get(sp["id"], [])}
    if body.get("useSavedCredentials"):
        return saved
    return {c.get("key"): c.get("value") for c in body.get("credentials") or [] if isinstance(c, dict)}


def validate_credentials(call: Call, oid: str | None = None, app_id: str | None = None,
                         job_id: str | None = None) -> Result:
    sp = find_sp(call, oid, app_id)
    if job_id is not None:
        _job(call, oid, app_id, job_id)
    creds = _credentials(call, sp, call.json_body())
    base, token = creds.get("BaseAddress"), creds.get("SecretToken")
    if not base or not token:
        raise errors.bad_request("Both BaseAddress (Tenant URL) and SecretToken are required to validate "
                                 "credentials.", "Request_BadRequest")
    engine = _engine()
    problem = engine.check_credentials(call.world, base, token)
    if problem is not None:
        code = getattr(engine, "CREDENTIAL_ERROR", "SystemForCrossDomainIdentityManagementCredentialValidationFailure")
        unreachable = getattr(engine, "unreachable_message", None)
        if unreachable is not None and problem == unreachable(base):
            code = getattr(engine, "UNREACHABLE_ERROR", code)
        raise GraphError(400, code, problem)
    return Result(204)


def put_secrets(call: Call, oid: str | None = None, app_id: str | None = None) -> Result:
    sp = find_sp(call, oid, app_id)
    values = call.json_body().get("value")
    if not isinstance(values, list) or not all(isinstance(v, dict) and v.get("key") for v in values):
        raise errors.bad_request("The request body needs 'value': a list of {key, value} pairs.",
                                 "Request_BadRequest")
    current = {s["key"]: s for s in call.store.sync_secrets.get(sp["id"], [])}
    for item in values:
        current[item["key"]] = {"key": item["key"], "value": item.get("value")}
    call.store.sync_secrets[sp["id"]] = list(current.values())
    for job in call.store.sync_jobs.get(sp["id"], {}).values():
        if job["status"]["code"] == "NotConfigured":
            job["status"]["code"] = "NotRun"
    return Result(204)


def _activate(call: Call, sp: Json, job: Json, *, reset: bool) -> None:
    secrets = {s["key"] for s in call.store.sync_secrets.get(sp["id"], [])}
    if not {"BaseAddress", "SecretToken"} <= secrets:
        raise errors.bad_request("The job cannot start: no credentials (BaseAddress, SecretToken) are saved for "
                                 "this application.", "Request_BadRequest")
    job["schedule"]["state"] = "Active"
    status = job["status"]
    if status["code"] in ("Paused", "Quarantine", "NotConfigured"):  # Start continues a paused job, lifts quarantine
        status["code"] = "Active" if status["lastExecution"] else "NotRun"
    status["quarantine"] = None
    if reset:
        status.update(countSuccessiveCompleteFailures=0, escrowsPruned=False)


def start(call: Call, job_id: str, oid: str | None = None, app_id: str | None = None) -> Result:
    sp, job = _job(call, oid, app_id, job_id)
    _activate(call, sp, job, reset=False)
    _engine().run_cycle(call.world, sp["id"], job_id)
    return Result(204)


def restart(call: Call, job_id: str, oid: str | None = None, app_id: str | None = None) -> Result:
    sp, job = _job(call, oid, app_id, job_id)
    _activate(call, sp, job, reset=True)
    engine = _engine()
    forget = getattr(engine, "restart_job", None)  # the engine drops what it exported, so all is re-evaluated
    if forget is not None:
        forget(call.world, sp["id"], job_id)
    engine.run_cycle(call.world, sp["id"], job_id)
    return Result(204)


def pause(call: Call, job_id: str, oid: str | None = None, app_id: str | None = None) -> Result:
    _, job = _job(call, oid, app_id, job_id)
    job["schedule"]["state"] = "Paused"
    job["status"]["code"] = "Paused"
    return Result(204)


def provision_on_demand(call: Call, job_id: str, oid: str | None = None, app_id: str | None = None) -> Json:
    sp, _ = _job(call, oid, app_id, job_id)
    engine = _engine()
    refusal = getattr(engine, "OnDemandError", None)
    try:
        result = engine.provision_on_demand(call.world, sp["id"], job_id, call.json_body())
    except Exception as exc:
        if refusal is not None and isinstance(exc, refusal):  # a request Graph refuses: its status and code
            raise GraphError(exc.status, exc.code, exc.message) from None
        raise
    return {"@odata.context": f"{call.service_root}/$metadata#microsoft.graph.stringKeyStringValuePair", **result}


def register(router: Router) -> None:
    router.add(_SYNC + r"/templates", GET=list_templates)
    router.add(_SYNC + r"/templates/(?P<template_id>[^/]+)/schema", GET=template_schema)
    router.add(_SYNC + r"/jobs", GET=list_jobs, POST=create_job)
    router.add(_SYNC + r"/jobs/validateCredentials", POST=validate_credentials)
    router.add(_SYNC + r"/secrets", PUT=put_secrets)
    router.add(_JOB, GET=get_job, DELETE=delete_job)
    router.add(_JOB + r"/schema", GET=get_schema, PUT=put_schema)
    router.add(_JOB + r"/validateCredentials", POST=validate_credentials)
    router.add(_JOB + r"/start", POST=start)
    router.add(_JOB + r"/restart", POST=restart)
    router.add(_JOB + r"/pause", POST=pause)
    router.add(_JOB + r"/provisionOnDemand", POST=provision_on_demand)
