"""The sandbox's attributes for access control answer in the documented shape (the fixture composed from the
botocore model of DescribeInstanceAccessControlAttributeConfiguration), refuse as AWS documents, and the writes the
console makes (Create/Update/Delete) follow AWS's rules."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from support.sandbox import forget_sandbox, running_sandbox, sandbox_parameters

from idbridge.clients.factory import aws_client, aws_session
from tests.contract.test_sandbox_shapes import _iso, aws_shape_differences
from tests.support.contract import load_fixture

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sso():
    box = running_sandbox("abac")
    params = sandbox_parameters(box)
    client = aws_client(aws_session(params), "sso-admin", params)
    instance = client.list_instances()["Instances"][0]["InstanceArn"]
    yield client, instance
    box.stop()
    forget_sandbox()


def test_describe_answers_in_the_documented_shape(sso):
    client, instance = sso
    served = _iso(client.describe_instance_access_control_attribute_configuration(InstanceArn=instance))
    documented = load_fixture("ssoadmin_describe_instance_access_control_attribute_configuration", "aws")["response"]
    assert aws_shape_differences(documented, served, verbatim=False) == []
    assert served["Status"] == "ENABLED"
    assert [a["Key"] for a in served["InstanceAccessControlAttributeConfiguration"]["AccessControlAttributes"]] == \
        ["Department", "CostCenter"]


def test_writes_follow_aws_rules_and_a_missing_configuration_is_not_found(sso):
    client, instance = sso
    config = {"AccessControlAttributes": [{"Key": "Team", "Value": {"Source": ["${path:title}"]}}]}
    with pytest.raises(ClientError) as conflict:
        client.create_instance_access_control_attribute_configuration(
            InstanceArn=instance, InstanceAccessControlAttributeConfiguration=config)
    assert conflict.value.response["Error"]["Code"] == "ConflictException"
    client.update_instance_access_control_attribute_configuration(
        InstanceArn=instance, InstanceAccessControlAttributeConfiguration=config)
    answer = client.describe_instance_access_control_attribute_configuration(InstanceArn=instance)
    assert answer["InstanceAccessControlAttributeConfiguration"] == config
    bad = {"AccessControlAttributes": [{"Key": "a;b", "Value": {"Source": ["${path:title}"]}}]}
    with pytest.raises(ClientError) as refused:
        client.update_instance_access_control_attribute_configuration(
            InstanceArn=instance, InstanceAccessControlAttributeConfiguration=bad)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    client.delete_instance_access_control_attribute_configuration(InstanceArn=instance)
    with pytest.raises(ClientError) as gone:
        client.describe_instance_access_control_attribute_configuration(InstanceArn=instance)
    documented = load_fixture("ssoadmin_error_resource_not_found", "aws")["response"]["body"]
    assert gone.value.response["Error"]["Code"] == documented["__type"].rsplit("#", 1)[-1]
