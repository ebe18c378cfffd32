"""Secret references: one grammar, resolvers by scheme, errors that name file, key and reference (never a value),
and the redaction of values that leaked into a file."""

import pytest
from support.sandbox import running_sandbox, sandbox_parameters

from idbridge.core import secrets
from idbridge.core.parameters import SANDBOX_AWS_ACCESS_KEY_ID, SANDBOX_AWS_SECRET_ACCESS_KEY
from idbridge.core.secrets import resolve as resolve_secret
from idbridge.errors import InputError


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
                              aws_access_key_id=SANDBOX_AWS_ACCESS_KEY_ID,
                              aws_secret_access_key=SANDBOX_AWS_SECRET_ACCESS_KEY)
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


def test_one_grammar_for_every_reference():
    assert secrets.parse("env:GRAPH_PASSWORD") == secrets.Reference("env", "GRAPH_PASSWORD")
    assert str(secrets.parse("keyvault:https://v.vault.azure.net/secrets/x/1")) == \
        "keyvault:https://v.vault.azure.net/secrets/x/1"
    assert secrets.is_reference("secretsmanager:whatever") and not secrets.is_reference("https://scim.example")
    with pytest.raises(InputError) as err:
        secrets.parse("env:1-BAD", file="p.yaml", key="graph.certificate_password")
    assert str(err.value) == "p.yaml: graph.certificate_password: env: reference is malformed (expected env:NAME)"
    with pytest.raises(InputError, match=r"^p.yaml: provisioning.scim_token: must be a secret reference"):
        secrets.parse("hunter22", file="p.yaml", key="provisioning.scim_token")
    with pytest.raises(ValueError, match="never the secret itself"):
        secrets.check("hunter22")


def test_env_reference_error_names_file_and_key(monkeypatch):
    monkeypatch.delenv("IDBRIDGE_T_MISSING", raising=False)
    with pytest.raises(InputError) as err:
        resolve_secret("env:IDBRIDGE_T_MISSING", file="p.yaml", key="graph.certificate_password")
    assert str(err.value) == ("p.yaml: graph.certificate_password: secret reference env:IDBRIDGE_T_MISSING: "
                              "environment variable IDBRIDGE_T_MISSING is not set")


def test_a_registered_scheme_resolves_and_an_unregistered_one_is_named(monkeypatch):
    monkeypatch.setattr(secrets, "FORMS", dict(secrets.FORMS))
    monkeypatch.setattr(secrets, "_RESOLVERS", dict(secrets._RESOLVERS))
    with pytest.raises(ValueError, match="give the form"):
        secrets.register("vault", lambda ref, ctx: "x")
    secrets.register("vault", lambda ref, ctx: f"value of {ref.rest} for {ctx.key}", form=r"[a-z/]+")
    assert secrets.resolve("vault:kv/scim", key="provisioning.scim_token") == \
        "value of kv/scim for provisioning.scim_token"
    secrets.FORMS["later"] = r".+"
    with pytest.raises(InputError, match=r"p.yaml: k: secret reference later:x: no resolver for later: references"):
        secrets.resolve("later:x", file="p.yaml", key="k")


def test_references_in_a_document_with_their_keys():
    document = {"graph": {"certificate_password": "env:A", "tenant_id": "t"},
                "provisioning": {"scim_endpoint": "https://scim", "scim_token": "secretsmanager:arn"},
                "list": [{"token": "keyvault:https://v.vault.azure.net/secrets/x"}, "plain"]}
    assert secrets.references_in(document) == [("graph.certificate_password", "env:A"),
                                               ("provisioning.scim_token", "secretsmanager:arn"),
                                               ("list.token", "keyvault:https://v.vault.azure.net/secrets/x")]
    assert secrets.is_secret_key("graph.certificate_password") and not secrets.is_secret_key("scim_endpoint")
    assert not secrets.is_secret_key("secrets.endpoint")  # the key itself decides, not a parent's name


def test_values_to_scrub_are_the_secret_ones(monkeypatch, tmp_path):
    monkeypatch.setenv("IDBRIDGE_T_PASSWORD", "pa55word-value")
    monkeypatch.setenv("IDBRIDGE_T_ENDPOINT", "https://scim.example/v2")
    monkeypatch.setenv("IDBRIDGE_T_TOKEN", "t0ken-value")
    desired = tmp_path / "desired.yaml"
    desired.write_text("provisioning:\n  scim_endpoint: env:IDBRIDGE_T_ENDPOINT\n  scim_token: env:IDBRIDGE_T_TOKEN\n")
    document = {"graph": {"certificate_password": "env:IDBRIDGE_T_PASSWORD"},
                "other": {"endpoint": "env:IDBRIDGE_T_ENDPOINT"}}
    assert secrets.values_to_scrub(document, input_files=[desired]) == ["pa55word-value", "t0ken-value"]


def test_redaction(tmp_path):
    assert repr(secrets.Secret("s3cr3t-value")) == "Secret('***')"
    assert secrets.redact({"a": [secrets.Secret("s3cr3t-value"), 1]}) == {"a": ["***", 1]}
    assert secrets.redact_text("x s3cr3t-value y abc", ["s3cr3t-value", "abc"]) == "x *** y abc"  # abc: too short
    notebook = tmp_path / "n.ipynb"
    notebook.write_text('{"text": "say \\"q\\"uote"}', encoding="utf-8")
    assert secrets.files_holding(tmp_path, ['say "q"uote']) == [notebook]
    assert secrets.scrub_file(notebook, ['say "q"uote'])
    assert notebook.read_text(encoding="utf-8") == '{"text": "***"}'
    assert not secrets.scrub_file(notebook, ['say "q"uote'])
