"""Clients built from engagement parameters: the same code path for a real tenant and for the sandbox.

Only the credential object and the endpoints differ; a real engagement never uses the sandbox credential.
"""

from __future__ import annotations

import boto3
from botocore.config import Config

from idbridge.clients.graph import SandboxCredential, make_request_adapter
from idbridge.errors import InputError
from idbridge.parameters import Parameters, resolve_secret

# Throttling is paced by idbridge itself; botocore's adaptive mode is a second line of defence.
AWS_CLIENT_CONFIG = Config(retries={"max_attempts": 8, "mode": "adaptive"}, max_pool_connections=32)


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
        password = resolve_secret(graph.certificate_password, file=params_file) if graph.certificate_password else None
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
        # moto accepts any key; these are placeholders, not secrets.
        session = boto3.Session(aws_access_key_id="sandbox", aws_secret_access_key="sandbox",
                                region_name=aws.region)
    else:
        session = boto3.Session(profile_name=aws.profile, region_name=aws.region)
    if aws.role_arn:
        sts = session.client("sts", endpoint_url=aws.endpoint_url, config=AWS_CLIENT_CONFIG)
        creds = sts.assume_role(RoleArn=aws.role_arn, RoleSessionName="idbridge-audit")["Credentials"]
        session = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                aws_session_token=creds["SessionToken"], region_name=aws.region)
    return session


def aws_client(session: boto3.Session, service: str, params: Parameters, region: str | None = None):
    return session.client(service, region_name=region or params.aws.region, endpoint_url=params.aws.endpoint_url,
                          config=AWS_CLIENT_CONFIG)
