"""Parameters that would put a run folder outside run_root, or a real token on the wire in clear, are bad input."""

from __future__ import annotations

import pytest

from idbridge.cli import main
from idbridge.core.parameters import load_parameters
from idbridge.errors import EXIT_BAD_INPUT, InputError

TENANT = "3c8e5b1a-7d2f-4e96-a0b4-5f19c27d8e63"


def write(tmp_path, text: str):
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "../elsewhere", "a/b", "a\\b", "x" * 65, ""])
def test_an_engagement_name_that_is_not_a_plain_folder_name_is_refused(tmp_path, name):
    path = write(tmp_path, f"engagement: '{name}'\ngraph:\n  tenant_id: {TENANT}\n")
    with pytest.raises(InputError, match=r"line 1, engagement: not a folder name"):
        load_parameters(path)


def test_engagement_dot_dot_exits_2_and_creates_nothing_outside_run_root(tmp_path, capsys):
    root = tmp_path / "deep" / "runs"
    path = write(tmp_path, f"engagement: '..'\nrun_root: {root}\ngraph:\n  tenant_id: {TENANT}\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "-p", str(path), "--only", "30"])
    assert exit_info.value.code == EXIT_BAD_INPUT
    assert "engagement: not a folder name" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.yaml"], "no run folder anywhere"


def test_ordinary_engagement_names_still_pass(tmp_path):
    for name in ("contoso-2026q4", "acme_1.2", "a", "x" * 64):
        assert load_parameters(write(tmp_path, f"engagement: {name}\ngraph:\n  tenant_id: {TENANT}\n")).engagement == name


@pytest.mark.parametrize("graph, aws, problem", [
    ({"base_url": "http://graph.microsoft.com/v1.0"}, {}, "graph: base_url: must be an https:// URL"),
    ({"token_url": "http://login.example/token"}, {}, "graph: token_url: must be an https:// URL"),
    ({}, {"endpoint_url": "http://vpce.example:4566"}, "aws: endpoint_url: must be an https:// URL"),
    ({"base_url": "https://graph.evil.example/v1.0"}, {}, "graph.evil.example is not a Microsoft Graph host"),
    ({"base_url": "https://graph.microsoft.com@evil.example/v1.0"}, {}, "evil.example is not a Microsoft Graph host"),
    ({"base_url": "https:///v1.0"}, {}, "graph: base_url: must be an https:// URL"),
])
def test_a_real_token_goes_only_over_https_to_microsoft_graph(tmp_path, graph, aws, problem):
    def block(values: dict) -> str:
        return "".join(f"  {k}: {v!r}\n" for k, v in values.items())

    text = f"engagement: e\ngraph:\n  tenant_id: {TENANT}\n{block(graph)}aws:\n  region: eu-west-1\n{block(aws)}"
    with pytest.raises(InputError, match="token would travel in clear|not a Microsoft Graph host") as err:
        load_parameters(write(tmp_path, text))
    assert problem in str(err.value)
    # sandbox: true alone is not enough: only the sandbox's own credentials may go over http to the emulators
    with pytest.raises(InputError):
        load_parameters(write(tmp_path, text.replace("engagement: e\n", "engagement: e\nsandbox: true\n")))
    relaxed = (text.replace("engagement: e\n", "engagement: e\nsandbox: true\n")
               .replace(f"tenant_id: {TENANT}\n", f"tenant_id: {TENANT}\n  auth: sandbox\n")
               .replace("region: eu-west-1\n", "region: eu-west-1\n  credentials: sandbox\n"))
    assert load_parameters(write(tmp_path, relaxed)).sandbox


def test_national_clouds_and_an_explicit_override_pass(tmp_path):
    for host in ("graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us",
                 "microsoftgraph.chinacloudapi.cn"):
        text = f"engagement: e\ngraph:\n  tenant_id: {TENANT}\n  base_url: https://{host}/v1.0\n"
        assert load_parameters(write(tmp_path, text)).graph.base_url.startswith("https://")
    text = (f"engagement: e\ngraph:\n  tenant_id: {TENANT}\n  base_url: https://graph-proxy.corp.example/v1.0\n"
            "  allow_custom_host: true\naws:\n  endpoint_url: https://sso.vpce-1.eu-west-1.vpce.amazonaws.com\n")
    assert load_parameters(write(tmp_path, text)).graph.allow_custom_host


@pytest.mark.parametrize("review, problem", [
    ("deadline: next friday", r"line 5, review\.deadline: .*date"),
    ("requested_by: '  '", r"line 5, review\.requested_by: .*is empty"),
    ("returned_dir: ''", r"line 5, review\.returned_dir: .*is empty"),
    ("inactive_after_days: 0", r"line 5, review\.inactive_after_days"),
])
def test_review_parameters_are_validated_naming_the_line_and_key(tmp_path, review, problem):
    path = write(tmp_path, f"engagement: e\ngraph:\n  tenant_id: {TENANT}\nreview:\n  {review}\n")
    with pytest.raises(InputError, match=problem):
        load_parameters(path)


def test_review_parameters_of_a_round(tmp_path):
    path = write(tmp_path, f"engagement: e\ngraph:\n  tenant_id: {TENANT}\nreview:\n  deadline: 2026-07-31\n"
                           "  requested_by: Head of Security\n  returned_dir: returned/2026-07\n")
    review = load_parameters(path).review
    assert (review.deadline.isoformat(), review.requested_by, review.returned_dir, review.inactive_after_days) == (
        "2026-07-31", "Head of Security", "returned/2026-07", 30)
