"""Secret references resolve at run time; errors name the reference, never a value."""

import pytest
from sandbox_support import running_sandbox, sandbox_parameters

from idbridge.errors import InputError
from idbridge.parameters import resolve_secret


def test_env_reference(monkeypatch):
    monkeypatch.setenv("IDBRIDGE_T_SECRET", "v4lue")
    assert resolve_secret("env:IDBRIDGE_T_SECRET") == "v4lue"
    monkeypatch.delenv("IDBRIDGE_T_SECRET")
    with pytest.raises(InputError, match="environment variable IDBRIDGE_T_SECRET is not set"):
        resolve_secret("env:IDBRIDGE_T_SECRET", file="p.yaml")


def test_secrets_manager_reference_through_the_engagement_aws_identity():
    box = running_sandbox("empty")
    try:
        params = sandbox_parameters(box)
        import boto3

        client = boto3.client("secretsmanager", region_name=params.aws.region, endpoint_url=params.aws.endpoint_url,
                              aws_access_key_id="sandbox", aws_secret_access_key="sandbox")
        arn = client.create_secret(Name="idbridge/scim-token", SecretString="t0ken-value")["ARN"]
        assert resolve_secret(f"secretsmanager:{arn}", aws=params.aws) == "t0ken-value"
        missing = arn.replace("scim-token", "nope")
        with pytest.raises(InputError) as err:
            resolve_secret(f"secretsmanager:{missing}", aws=params.aws, file="p.yaml")
        assert "cannot be read" in str(err.value) and "t0ken-value" not in str(err.value)
    finally:
        box.stop()


def test_key_vault_reference_without_its_package_says_what_to_install():
    try:
        import azure.keyvault.secrets  # noqa: F401
        pytest.skip("azure-keyvault-secrets is installed here")
    except ImportError:
        pass
    with pytest.raises(InputError, match="azure-keyvault-secrets"):
        resolve_secret("keyvault:https://v.vault.azure.net/secrets/x")
