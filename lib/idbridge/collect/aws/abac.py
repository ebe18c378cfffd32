"""Identity Center's attributes for access control (ABAC): DescribeInstanceAccessControlAttributeConfiguration on
the audited instance, as idc_abac_status (one row) and idc_abac_attributes (key, source).

A source of its own (aws.abac): the read needs sso:DescribeInstanceAccessControlAttributeConfiguration, which an
older audit role may lack; the rest of the collection does not depend on it. AWS answers ResourceNotFoundException
for an instance whose ABAC configuration was never created (ABAC not enabled): that is a fact, recorded as
configured = False, not a failed collection. The assertion's own AccessControl attributes are not in this answer
(the API reference says so); they are read from the app's claims policy (entra.app).
"""

from __future__ import annotations

from idbridge.clients.aws.calls import error_code
from idbridge.clients.aws.pacing import PACER
from idbridge.collect.aws.tables import table
from idbridge.collect.context import CollectContext, Tables


def abac_tables(instance_arn: str, answer: dict | None) -> Tables:
    """The two tables from a Describe... answer (None: no configuration exists)."""
    if answer is None:
        status = {"instanceArn": instance_arn, "configured": False, "status": None, "statusReason": None}
        attributes: list[dict] = []
    else:
        status = {"instanceArn": instance_arn, "configured": True, "status": answer.get("Status"),
                  "statusReason": answer.get("StatusReason")}
        config = answer.get("InstanceAccessControlAttributeConfiguration") or {}
        attributes = [{"key": a.get("Key"), "source": ((a.get("Value") or {}).get("Source") or [None])[0]}
                      for a in config.get("AccessControlAttributes") or []]
    return {"idc_abac_status": table("idc_abac_status", [status]),
            "idc_abac_attributes": table("idc_abac_attributes", attributes)}


def collect_abac(ctx: CollectContext) -> Tables:
    # The audited instance is idc_instances' first row (collectors.audited_instance, not imported: that module
    # imports this one for its registry).
    instances = ctx.needs("aws.instances")["idc_instances"]
    if instances.empty:
        raise LookupError("no IAM Identity Center instance")
    instance = instances.iloc[0].to_dict()
    sso = ctx.aws("sso-admin", instance["region"])
    PACER.install(sso)
    try:
        answer = sso.describe_instance_access_control_attribute_configuration(InstanceArn=instance["instanceArn"])
    except Exception as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        answer = None
    tables = abac_tables(instance["instanceArn"], answer)
    ctx.progress("aws.abac", len(tables["idc_abac_attributes"]) + 1)
    return tables


ABAC_COLLECTORS = {"aws.abac": (collect_abac, ("aws.instances",))}  # merged into collectors.AWS_COLLECTORS
