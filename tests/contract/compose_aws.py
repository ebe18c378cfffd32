"""Compose AWS contract fixtures from botocore's service models (the same models AWS's API references are built
from), for operations whose reference pages carry no example answer. Run once to write the files; the fixtures
are then data and this script is kept to show how they were made:

    PYTHONPATH=lib .venv/bin/python -m tests.contract.compose_aws

Each fixture is the operation's output shape with every member filled (structures one level per nesting, lists
with one item), values made plausible by member name. Timestamps are written as ISO-8601 text: boto3 hands them
to the kit as datetimes, the shape test compares them as text. Where the botocore examples file holds AWS's own
example (organizations, sts, secretsmanager), that example is used instead, verbatim.
"""

from __future__ import annotations

import json
from pathlib import Path

import botocore.session
from botocore import xform_name

OUT = Path(__file__).parent / "fixtures" / "aws"
REFERENCE = {
    "sso-admin": "https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_{op}.html",
    "identitystore": "https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_{op}.html",
    "organizations": "https://docs.aws.amazon.com/organizations/latest/APIReference/API_{op}.html",
    "cloudtrail": "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_{op}.html",
    "sts": "https://docs.aws.amazon.com/STS/latest/APIReference/API_{op}.html",
    "iam": "https://docs.aws.amazon.com/IAM/latest/APIReference/API_{op}.html",
    "secretsmanager": "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_{op}.html",
}
PREFIX = {"sso-admin": "ssoadmin", "identitystore": "idstore"}

# (service, operation); fixture name is <prefix>_<python name>.
OPERATIONS = [
    ("sso-admin", op) for op in (
        "ListInstances", "ListRegions", "ListPermissionSets", "DescribePermissionSet",
        "ListManagedPoliciesInPermissionSet", "ListCustomerManagedPolicyReferencesInPermissionSet",
        "GetInlinePolicyForPermissionSet", "GetPermissionsBoundaryForPermissionSet",
        "ListAccountsForProvisionedPermissionSet", "ListAccountAssignments", "ListAccountAssignmentsForPrincipal",
        "CreatePermissionSet",
        "ProvisionPermissionSet", "DescribePermissionSetProvisioningStatus", "CreateAccountAssignment",
        "DeleteAccountAssignment", "DescribeAccountAssignmentCreationStatus", "DescribeAccountAssignmentDeletionStatus",
        "ListAccountAssignmentsForPrincipal", "ListPermissionSetProvisioningStatus",
        "ListAccountAssignmentCreationStatus", "DescribeInstanceAccessControlAttributeConfiguration")
] + [("identitystore", op) for op in ("ListGroups", "DescribeGroup", "ListGroupMemberships", "GetUserId",
                                      "GetGroupId", "DescribeGroupMembership", "DeleteGroupMembership")] + [
    ("organizations", op) for op in ("DescribeOrganization", "ListRoots", "ListAccountsForParent",
                                     "ListOrganizationalUnitsForParent", "ListTagsForResource", "ListPolicies",
                                     "DescribePolicy", "ListTargetsForPolicy")
] + [("sts", "GetCallerIdentity"), ("sts", "AssumeRole"), ("iam", "GetPolicy"), ("cloudtrail", "LookupEvents"),
     ("secretsmanager", "GetSecretValue")]

VALUES = {
    "InstanceArn": "arn:aws:sso:::instance/ssoins-1111222233334444",
    "PermissionSetArn": "arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-0123456789abcdef",
    "IdentityStoreId": "d-9067230c14", "OwnerAccountId": "111122223333", "AccountId": "444455556666",
    "TargetId": "444455556666", "AccountIds": "444455556666", "PrimaryRegion": "eu-west-1", "RegionName": "eu-west-1",
    "PermissionSets": "arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-0123456789abcdef",
    "Arn": "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", "ManagedPolicyArn":
        "arn:aws:iam::aws:policy/PowerUserAccess", "Name": "ViewOnly", "Path": "/", "SessionDuration": "PT8H",
    "InlinePolicy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\","
                    "\"Resource\":\"*\"}]}",
    "RequestId": "b5b5d5a1-0b2d-4c8e-9f2e-3c1a2b4d5e6f", "PrincipalId": "906722b2d6-1b2c3d4e-5f60-7a8b-9c0d-1e2f3a4b5c6d",
    "UserId": "906722b2d6-1b2c3d4e-5f60-7a8b-9c0d-1e2f3a4b5c6d", "GroupId": "90672a8c1e-9d8c7b6a-5f4e-3d2c-1b0a-9f8e7d6c5b4a",
    "MembershipId": "9067f0a1b2-0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", "DisplayName": "AWS-Admins",
    "Description": "Administrators of the workload accounts", "Issuer": "https://scim.eu-west-1.amazonaws.com/abc-123/scim/v2",
    "Id": "1a2b3c4d-5e6f-7a8b-9c0d-e1f2a3b4c5d6", "CreatedBy": "arn:aws:iam::111122223333:role/Admin",
    "UpdatedBy": "arn:aws:iam::111122223333:role/Admin", "EventId": "0c8f4e7a-3d2b-4c1a-9e8f-7d6c5b4a3f2e",
    "EventName": "UserAuthentication", "EventSource": "signin.amazonaws.com", "Username": "alice@contoso.com",
    "AccessKeyId": "ASIAIOSFODNN7EXAMPLE", "ReadOnly": "false",
    "FailureReason": "Received a 404 status error: Not supported account 444455556666.",
    "PolicyName": "ViewOnlyAccess", "PolicyId": "ANPAJ2XSNEDHIQKNTN5ZQ", "DefaultVersionId": "v3",
    "Status": "ACTIVE", "State": "ACTIVE",
    "Key": "CostCenter", "Source": "${path:enterprise.costCenter}", "StatusReason": "",
}


def value(shape, name: str, depth: int = 0):
    kind = shape.type_name
    if kind == "structure":
        if depth > 4:
            return {}
        return {member: value(sub, member, depth + 1) for member, sub in shape.members.items()}
    if kind == "list":
        return [value(shape.member, name, depth + 1)]
    if kind == "map":
        return {"Key": value(shape.value, name, depth + 1)}
    if kind == "timestamp":
        return "2026-03-01T10:00:00Z"
    if kind in ("integer", "long"):
        return 1
    if kind == "boolean":
        return False
    if kind == "blob":
        return "QmFzZTY0"
    if shape.enum:
        return VALUES.get(name) if VALUES.get(name) in shape.enum else shape.enum[0]
    return VALUES.get(name, name.lower() + "-example")


def compose(service: str, operation: str) -> dict:
    session = botocore.session.get_session()
    model = session.get_service_model(service)
    op = model.operation_model(operation)
    url = REFERENCE[service].format(op=operation)
    examples = session.get_data(f"{service}/{model.api_version}/examples-1").get("examples", {})
    if examples.get(operation) and examples[operation][0].get("output"):
        example = examples[operation][0]
        return {"source": url, "note": f"verbatim: AWS's example \"{example.get('title', '')}\" of {operation} (the "
                                       "API reference example, as botocore's examples file carries it)",
                "response": example["output"]}
    response = value(op.output_shape, operation) if op.output_shape else {}
    response.pop("NextToken", None)  # the last page
    return {"source": url,
            "note": f"composed from documented fields: the {op.output_shape.name if op.output_shape else 'empty'} "
                    f"output shape of {service} {operation} (botocore service model {model.api_version}); every "
                    "member filled, one item per list, timestamps as ISO-8601 text",
            "response": response}


def main() -> None:
    for service, operation in OPERATIONS:
        name = f"{PREFIX.get(service, service)}_{xform_name(operation)}"
        (OUT / f"{name}.json").write_text(json.dumps(compose(service, operation), indent=2) + "\n", encoding="utf-8")
        print(name)


if __name__ == "__main__":
    main()
