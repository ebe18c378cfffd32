"""Bad input gets a clear error naming the file, the line and the key."""

import pytest

from idbridge.core.parameters import load_parameters
from idbridge.core.yamlfile import parse_yaml_text, read_yaml
from idbridge.errors import InputError
from idbridge.sandbox.faults import FaultConfig, parse_fault_spec
from idbridge.sandbox.timeexpr import resolve_time


def test_invalid_yaml_names_line_and_column(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(InputError) as err:
        read_yaml(path)
    assert str(path) in str(err.value) and "line 3" in str(err.value)


def test_duplicate_keys_are_refused():
    with pytest.raises(InputError, match=r"line 3, a: key given twice"):
        parse_yaml_text("a: 1\nb: 2\na: 3\n", "x.yaml")


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_yaml(tmp_path / "nope.yaml")
    (tmp_path / "empty.yaml").write_text("# nothing\n")
    with pytest.raises(InputError, match="empty"):
        read_yaml(tmp_path / "empty.yaml")


def test_parameters_errors_name_key_and_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "engagement: acme\n"
        "graph:\n"
        "  tenant_id: not-a-guid\n"
        "  certificate_password: hunter2\n"
        "aws:\n"
        "  role_arn: arn:aws:iam::12:role/x\n"
        "  colour: blue\n")
    with pytest.raises(InputError) as err:
        load_parameters(path)
    text = str(err.value)
    assert "line 3, graph.tenant_id: not a GUID: expected 8-4-4-4-12 hex digits" in text
    assert "not-a-guid" not in text, "a value that failed validation is never echoed"
    assert "line 4, graph.certificate_password: must be a secret reference" in text
    assert "line 6, aws.role_arn" in text
    assert "line 7, aws.colour: unknown key" in text


def test_a_secret_pasted_into_any_field_is_never_echoed(tmp_path):
    """A client secret pasted as tenant_id, client_id, role ARN... or after env: fails validation: the error says
    what was expected, never what was given."""
    secret = "S3cr3t~Qx8Q~kf9vD2Lp0aZ.Rt7yUw1mN"
    path = tmp_path / "p.yaml"
    path.write_text(f"engagement: acme\ngraph:\n  tenant_id: {secret}\n  client_id: '{secret}'\n"
                    f"  certificate_password: env:{secret}\n  auth: {secret}\n"
                    f"aws:\n  role_arn: {secret}\n  instance_arn: {secret}\n  management_account: {secret}\n"
                    f"  region: [{secret}]\ncollection:\n  sources: [{secret}]\n  window_days: {secret}\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_parameters(path)
    text = str(err.value)
    assert secret not in text and "S3cr3t" not in text, text
    assert "graph.tenant_id: not a GUID: expected 8-4-4-4-12 hex digits" in text
    assert "graph.client_id: not a GUID" in text
    assert "graph.certificate_password: env: reference is malformed (expected env:NAME)" in text
    assert "aws.role_arn: not an IAM role ARN: expected arn:aws:iam::123456789012:role/NAME" in text
    assert "aws.management_account: not an AWS account id: expected 12 digits" in text
    assert "collection.window_days: Input should be a valid integer" in text


def test_secret_value_is_never_echoed_in_errors(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("engagement: acme\ngraph:\n  tenant_id: 11111111-2222-3333-4444-555555555555\n"
                    "  certificate_password: S3cr3t-Value\n")
    with pytest.raises(InputError) as err:
        load_parameters(path)
    assert "S3cr3t-Value" not in str(err.value)


def test_fault_spec_parsing():
    faults = parse_fault_spec("latency=20, 429=0.1, throttle, deny=signIns+cloudtrail")
    assert faults.latency_ms == 20 and faults.graph_429 == 0.1 and faults.aws_throttle
    assert faults.deny == ["signIns", "cloudtrail"] and faults.any_on
    assert not FaultConfig().any_on
    with pytest.raises(ValueError, match="unknown fault 'colour'"):
        parse_fault_spec("colour=red")
    with pytest.raises(ValueError, match="graph_429"):
        parse_fault_spec("graph_429=2")
    with pytest.raises(ValueError, match="unknown source"):
        parse_fault_spec("deny=everything")


def test_relative_times():
    from datetime import datetime, timezone

    now = datetime(2026, 1, 10, tzinfo=timezone.utc)
    assert resolve_time("now-9d", now) == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert resolve_time("now+2h", now).hour == 2
    assert resolve_time("2025-12-31T00:00:00Z", now).year == 2025
