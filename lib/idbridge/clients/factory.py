"""Clients built from engagement parameters: the same code path for a real tenant and for the sandbox.

Only the credential object and the endpoints differ; a real engagement never uses the sandbox credential.
This module also registers the `secretsmanager:` secret reference resolver (secrets.py): it reads with the
engagement's AWS identity.
"""

from __future__ import annotations

import boto3
from botocore.config import Config

from idbridge.clients.graph.adapter import SandboxCredential, make_request_adapter
from idbridge.core import secrets
from idbridge.core.parameters import (SANDBOX_AWS_ACCESS_KEY_ID, SANDBOX_AWS_SECRET_ACCESS_KEY, AwsParams,
                                      Parameters)
from idbridge.errors import InputError

# Throttling is paced by idbridge itself; botocore's adaptive mode is a second line of defence.
AWS_CLIENT_CONFIG = Config(retries={"max_attempts": 8, "mode": "adaptive"}, max_pool_connections=32)
# A probe asks once more and then says why: eight attempts with backoff made an unreachable endpoint cost about
# 18 s of preflight before the consultant saw "connection refused" (three AWS probes).
AWS_PROBE_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=10, read_timeout=30)


def graph_credential(params: Parameters, *, params_file: str = "parameters"):
    graph = params.graph
    if graph.auth == "sandbox":
        if not params.sandbox or not graph.token_url:
            raise InputError(params_file, "graph.auth: 'sandbox' needs sandbox: true and graph.token_url")
        return SandboxCredential(graph.token_url, graph.client_id or "")
    # azure-identity is imported lazily: the sandbox path should not pay for it.
    import azure.identity as identity

    if graph.auth == "device_code":
        return identity.DeviceCodeCredential(tenant_id=graph.tenant_id, client_id=graph.client_id)
    if graph.auth == "client_certificate":
        if not (graph.client_id and graph.certificate_path):
            raise InputError(params_file, "graph: client_certificate needs client_id and certificate_path")
        password = secrets.resolve(graph.certificate_password, file=params_file, key="graph.certificate_password",
                                   aws=params.aws) if graph.certificate_password else None
        return identity.CertificateCredential(graph.tenant_id, graph.client_id, graph.certificate_path,
                                              password=password)
    if graph.auth == "workload_identity":
        return identity.WorkloadIdentityCredential(tenant_id=graph.tenant_id, client_id=graph.client_id)
    if graph.auth == "managed_identity":
        return identity.ManagedIdentityCredential(client_id=graph.client_id)
    if graph.auth == "azure_cli":
        return identity.AzureCliCredential(tenant_id=graph.tenant_id)
    return identity.DefaultAzureCredential()


def graph_adapter(params: Parameters, *, params_file: str = "parameters"):
    return make_request_adapter(graph_credential(params, params_file=params_file), params.graph.base_url)


def aws_session(params: Parameters) -> boto3.Session:
    aws = params.aws
    if aws.credentials == "sandbox":
        # The sandbox's fixed, documented key: it checks the signature, but the key is no secret.
        session = boto3.Session(aws_access_key_id=SANDBOX_AWS_ACCESS_KEY_ID,
                                aws_secret_access_key=SANDBOX_AWS_SECRET_ACCESS_KEY, region_name=aws.region)
    else:
        session = boto3.Session(profile_name=aws.profile, region_name=aws.region)
    if aws.role_arn:
        sts = session.client("sts", endpoint_url=aws.endpoint_url, config=AWS_CLIENT_CONFIG)
        creds = sts.assume_role(RoleArn=aws.role_arn, RoleSessionName="idbridge-audit")["Credentials"]
        session = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                aws_session_token=creds["SessionToken"], region_name=aws.region)
    return session


def aws_client(session: boto3.Session, service: str, params: Parameters, region: str | None = None,
               config: Config = AWS_CLIENT_CONFIG):
    client = session.client(service, region_name=region or params.aws.region, endpoint_url=params.aws.endpoint_url,
                            config=config)
    if params.sandbox and params.aws.credentials == "sandbox":
        from idbridge.clients.aws.pacing import mark_sandbox

        mark_sandbox(client)  # paced only on the limits the sandbox enforces (clients/aws/pacing.py)
    return client


def _from_secrets_manager(ref: secrets.Reference, context: secrets.Context) -> str:
    """secretsmanager:ARN, read with the engagement's AWS identity (context.aws), in the secret's own Region."""
    region = ref.rest.split(":")[3]
    holder = Parameters.model_construct(aws=context.aws or AwsParams(region=region))
    try:
        client = aws_client(aws_session(holder), "secretsmanager", holder, region=region)
        return client.get_secret_value(SecretId=ref.rest)["SecretString"]
    except Exception as exc:  # say which reference failed, never the value
        raise context.error(ref, f"cannot be read: {exc}") from None


secrets.register("secretsmanager", _from_secrets_manager)
