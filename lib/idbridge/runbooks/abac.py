"""ABAC through the setup runbooks (docs/abac.md): the desired state's `abac.keys`, each with its Entra source.

    abac:
      keys:
        Project: {source: user.jobtitle}                        # 01: sent as the claim AccessControl:Project
        Department: {source: user.department, identity_center: "${path:enterprise.department}"}   # 03

A key with `identity_center` is set by Identity Center's attributes for access control (runbook 03), from the SCIM
attribute provisioning fills; the others are sent by Entra as claims (runbook 01). A key is never both: AWS would
use Identity Center's value and drop the claim's. Runbook 03 also enables ABAC on the instance, without which the
claims are not used.

Plan logic:
- 01: a claim key missing / with another source  -> create / update entra.abac_claim
      an AccessControl claim not in the file     -> delete entra.abac_claim (allow_removals)
- 03: no ABAC configuration on the instance      -> create aws.abac_configuration (enables ABAC)
      its attributes differ from the file         -> update aws.abac_configuration (the file's list replaces them)
"""

from __future__ import annotations

from idbridge.model.abac import CLAIM_NAMESPACE, CLAIM_PREFIX, claim_keys
from idbridge.plan import Change

CUSTOM_CLAIM = "#microsoft.graph.customClaim"


def _claim_keys_of(policy: dict | None) -> dict[str, str | None]:
    import json

    return claim_keys(json.dumps((policy or {}).get("claims") or []))


def claim_changes(policy: dict | None, abac) -> list[Change]:
    """What runbook 01 writes so the app's AccessControl claims are the file's claim keys."""
    wanted = {key: spec.source for key, spec in abac.keys.items() if not spec.identity_center}
    current = _claim_keys_of(policy)
    changes = []
    for key, source in sorted(wanted.items()):
        if key not in current:
            changes.append(Change("create", "entra.abac_claim", key, f"send the claim {CLAIM_PREFIX}{key} from "
                                  f"{source}", after={"key": key, "source": source}))
        elif (current[key] or "").lower() != source.lower():
            changes.append(Change("update", "entra.abac_claim", key, f"claim {CLAIM_PREFIX}{key}: source "
                                  f"{current[key]} -> {source}", before={"key": key, "source": current[key]},
                                  after={"key": key, "source": source}))
    for key in sorted(set(current) - set(wanted)):
        why = ("set by Identity Center instead" if key in abac.keys else "not in the desired state")
        changes.append(Change("delete", "entra.abac_claim", key, f"stop sending the claim {CLAIM_PREFIX}{key} "
                              f"({why})", before={"key": key, "source": current[key]}))
    return changes


def _claim(key: str, source: str) -> dict:
    kind, _, name = source.partition(".")
    return {"@odata.type": CUSTOM_CLAIM, "name": f"{CLAIM_PREFIX}{key}", "namespace": CLAIM_NAMESPACE,
            "tokenFormat": ["saml"], "samlAttributeNameFormat": None,
            "configurations": [{"condition": None, "transformations": [],
                                "attribute": {"@odata.type": "#microsoft.graph.sourcedAttribute", "source": kind,
                                              "id": name, "isExtensionAttribute": False}}]}


def with_claim_change(claims: list[dict], change: Change) -> list[dict]:
    """The policy's claims after one entra.abac_claim change; every other claim kept as it is."""
    key = change.key

    def is_key(claim: dict) -> bool:
        return (str(claim.get("@odata.type", "")).endswith("customClaim")
                and list(_claim_keys_of({"claims": [claim]})) == [key])

    kept = [c for c in claims if not is_key(c)]
    return kept if change.action == "delete" else [*kept, _claim(key, change.after["source"])]


# --------------------------------------------------------------------------------------------- Identity Center


def wanted_attributes(abac) -> list[dict]:
    return [{"Key": key, "Value": {"Source": [spec.identity_center]}}
            for key, spec in abac.keys.items() if spec.identity_center]


def _view(attributes: list[dict]) -> dict[str, str]:
    return {a["Key"]: (a.get("Value") or {}).get("Source", [None])[0] for a in attributes}


def instance_changes(answer: dict | None, abac) -> list[Change]:
    """What runbook 03 writes so the instance's attributes for access control are the file's (answer: the
    DescribeInstanceAccessControlAttributeConfiguration answer, None when ABAC is not enabled)."""
    wanted = wanted_attributes(abac)
    if answer is None:
        return [Change("create", "aws.abac_configuration", "attributes for access control",
                       "enable ABAC on the instance" + (f" with {', '.join(a['Key'] for a in wanted)}" if wanted
                                                        else " (the claims' keys become session tags)"),
                       after=_view(wanted), payload={"attributes": wanted})]
    have = ((answer.get("InstanceAccessControlAttributeConfiguration") or {}).get("AccessControlAttributes") or [])
    if _view(have) == _view(wanted):
        return []
    return [Change("update", "aws.abac_configuration", "attributes for access control",
                   "attributes for access control: " + ", ".join(sorted(_view(wanted))) + " (was "
                   + (", ".join(sorted(_view(have))) or "none") + ")",
                   before=_view(have), after=_view(wanted), payload={"attributes": wanted})]


def read_instance(sso, instance_arn: str) -> dict | None:
    from idbridge.clients.aws.calls import error_code

    try:
        return sso.describe_instance_access_control_attribute_configuration(InstanceArn=instance_arn)
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None  # ABAC not enabled
        raise


def instance_applier(sso, instance_arn: str):
    def write(change: Change) -> dict:
        config = {"AccessControlAttributes": change.payload["attributes"]}
        call = (sso.create_instance_access_control_attribute_configuration if change.action == "create"
                else sso.update_instance_access_control_attribute_configuration)
        call(InstanceArn=instance_arn, InstanceAccessControlAttributeConfiguration=config)
        return {"keys": [a["Key"] for a in change.payload["attributes"]]}

    return write
